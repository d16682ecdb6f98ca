"""`basira network ...`: a thin face over basira.network (mounted on the main CLI as a Typer sub-app)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from basira.cli._common import DB_HELP, err

app = typer.Typer(name="network", help="Network intelligence: communities, key actors, coordination, "
                  "returning accounts.", no_args_is_help=True)

DB = typer.Option(None, "--db", help=DB_HELP)
SINCE = typer.Option(None, "--since", help="Only interactions at or after this time (ISO 8601).")
UNTIL = typer.Option(None, "--until", help="Only interactions before this time (ISO 8601).")
JSON = typer.Option(False, "--json", help="Print JSON instead of tables.")


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    from basira.core.time import parse_time

    try:
        return parse_time(value)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {name}: {exc}")
        raise typer.Exit(code=2) from None


def _load(db: str | None, since: str | None, until: str | None) -> tuple[Any, Any, int | None, int | None]:
    from basira.core.settings import settings
    from basira.network.load import load_network_data
    from basira.store import open_store

    s, u = _time(since, "--since"), _time(until, "--until")
    store = open_store(settings(db).db_url, create=False)  # only reads: never creates an empty database
    data = load_network_data(store, since=s, until=u)
    return store, data, int(s.timestamp()) if s else None, int(u.timestamp()) if u else None


def _print_json(value: Any) -> None:
    import orjson

    print(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())


@app.command()
def build(db: str | None = DB, since: str | None = SINCE, until: str | None = UNTIL, as_json: bool = JSON,
          gexf: str | None = typer.Option(None, "--gexf", help="Also write the analysed graph as GEXF (Gephi)."),
          graphml: str | None = typer.Option(None, "--graphml", help="Also write it as GraphML.")) -> None:
    """Build the interaction graph and summarise it (nodes, edges by kind); optionally export it."""
    import numpy as np

    from basira.network.analysis import analyze
    from basira.network.analysis import build as build_graph
    from basira.network.export import write_gexf, write_graphml
    from basira.network.graph import EDGE_KINDS

    store, data, s, u = _load(db, since, until)
    g = build_graph(data, since=s, until=u)
    kinds = np.bincount(g.edges.kind, minlength=len(EDGE_KINDS)) if len(g.edges) else np.zeros(len(EDGE_KINDS))
    out = {"accounts": data.n, "accounts_connected": int((g.strength() > 0).sum()), "edges": g.n_edges,
           "interactions": len(g.edges), "by_kind": {k: int(kinds[i]) for i, k in enumerate(EDGE_KINDS)},
           "shares": len(data.shares), "since": since, "until": until}
    if gexf or graphml:
        a = analyze(data, since=s, until=u)
        if gexf:
            write_gexf(a, gexf)
            out["gexf"] = gexf
        if graphml:
            write_graphml(a, graphml)
            out["graphml"] = graphml
    store.close()
    if as_json:
        _print_json(out)
        return
    Console().print(f"[bold]Graph[/]: {out['accounts']} accounts ({out['accounts_connected']} connected), "
                    f"{out['edges']} weighted edges from {out['interactions']} interactions; {out['shares']} shares",
                    highlight=False)
    for k, v in out["by_kind"].items():
        Console().print(f"  {k:11s} {v}", highlight=False)
    for k in ("gexf", "graphml"):
        if k in out:
            Console().print(f"  wrote {out[k]}", highlight=False)


@app.command()
def communities(db: str | None = DB, since: str | None = SINCE, until: str | None = UNTIL, as_json: bool = JSON,
                top: int = typer.Option(20, help="How many communities to show."),
                min_size: int = typer.Option(3, help="Smallest community to show."),
                resolution: float = typer.Option(1.0, help="Leiden resolution (higher: smaller communities)."),
                open_cases: float | None = typer.Option(
                    None, "--open-cases", help="Open a network case for each community with mean risk >= this.")
                ) -> None:
    """Leiden communities, riskiest first, with their top accounts; optionally open cases on them."""
    from basira.cases.network import open_community_cases
    from basira.network.analysis import analyze, community_summaries

    store, data, s, u = _load(db, since, until)
    a = analyze(data, since=s, until=u, resolution=resolution)
    rows = community_summaries(a, min_size=min_size)[:top]
    opened = open_community_cases(store, a, min_mean_risk=open_cases) if open_cases is not None else []
    store.close()
    if as_json:
        _print_json({"communities": rows, "modularity": a.communities.modularity, "cases_opened": opened})
        return
    t = Table(title=f"communities ({a.communities.count} found, modularity {a.communities.modularity:.3f})")
    for col in ("community", "size", "mean risk", "flagged posters", "suspended", "top accounts"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["community"]), str(r["size"]), f"{r['mean_risk']:.3f}", str(r["accounts_posting_flagged"]),
                  str(r["suspended"]), ", ".join(f"@{x['handle']}" for x in r["top_accounts"]))
    Console().print(t)
    for c in opened:
        Console().print(f"opened case {c['case_id']} on community {c['community']} ({c['size']} accounts)")


@app.command()
def actors(db: str | None = DB, since: str | None = SINCE, until: str | None = UNTIL, as_json: bool = JSON,
           top: int = typer.Option(20, help="How many accounts to show."),
           by: str = typer.Option("risk", help="risk, pagerank, betweenness, hyperactivity or bridges.")) -> None:
    """Key actors: riskiest accounts (with reasons), or by PageRank, betweenness, hyperactivity, bridging."""
    from basira.network.analysis import analyze, key_actors

    key = {"bridges": "participation"}.get(by, by)
    if key not in ("risk", "pagerank", "betweenness", "hyperactivity", "participation"):
        err.print(f"[bold red]error:[/] --by: unknown ranking {by!r}")
        raise typer.Exit(code=2)
    store, data, s, u = _load(db, since, until)
    a = analyze(data, since=s, until=u)
    rows = key_actors(a, top, by=key)
    store.close()
    if as_json:
        _print_json({"by": by, "actors": rows})
        return
    t = Table(title=f"key actors by {by}")
    for col in ("account", "community", "risk", "pagerank", "posts/day", "why"):
        t.add_column(col)
    for r in rows:
        t.add_row(f"@{r['handle']}", str(r["community"]), f"{r['risk']:.3f}", f"{r['pagerank']:.5f}",
                  f"{r['posts_per_day']:.2f}", "; ".join(r["why"]))
    Console().print(t)


@app.command()
def returning(db: str | None = DB, as_json: bool = JSON,
              since: str | None = typer.Option(None, "--since", help="Accounts created at or after this time count "
                                               "as new (default: the first suspension)."),
              top: int = typer.Option(5, help="Candidates per new account."),
              show_all: bool = typer.Option(False, "--all", help="Also show accounts below the threshold.")) -> None:
    """Likely returning accounts: new accounts with ranked suspended/removed candidates and evidence."""
    from basira.network.analysis import returning_accounts, returning_summary

    store, data, _, _ = _load(db, None, None)
    s = _time(since, "--since")
    matches = returning_accounts(data, since=int(s.timestamp()) if s else None, top_k=top)
    rows = [returning_summary(data, m) for m in matches if show_all or m.likely]
    rows.sort(key=lambda r: -r["candidates"][0]["score"])
    store.close()
    if as_json:
        _print_json({"returning": rows})
        return
    t = Table(title=f"returning accounts ({sum(r['likely_returning'] for r in rows)} likely)")
    for col in ("new account", "was", "score", "evidence"):
        t.add_column(col)
    for r in rows:
        c = r["candidates"][0]
        # Handles and evidence are the platform's text: never read as Rich markup.
        t.add_row(Text(f"@{r['handle']}"), Text(f"@{c['handle']} ({c['status']})"), f"{c['score']:.3f}",
                  Text("; ".join(c["evidence"])))
    Console().print(t)


@app.command()
def coordinated(db: str | None = DB, since: str | None = SINCE, until: str | None = UNTIL, as_json: bool = JSON,
                window: int = typer.Option(600, help="Seconds within which shares of one item count as together."),
                min_repeats: int = typer.Option(2, help="Distinct items a pair must share together."),
                min_items: int = typer.Option(3, help="Distinct items a group must share together.")) -> None:
    """Coordinated sharing groups with their evidence (which items, when, by whom)."""
    from basira.network.analysis import coordinated_groups, group_summary

    store, data, s, u = _load(db, since, until)
    groups = coordinated_groups(data, since=s, until=u, window=window, min_repeats=min_repeats, min_items=min_items)
    rows = [group_summary(data, g) for g in groups]
    store.close()
    if as_json:
        _print_json({"groups": rows})
        return
    console = Console()
    for i, g in enumerate(rows):
        console.print(f"[bold]group {i}[/]: {len(g['accounts'])} accounts, {g['items']} items in lockstep: "
                      + ", ".join(f"@{a['handle']}" for a in g["accounts"]), highlight=False)
        for b in g["bursts"][:5]:
            when = datetime.fromtimestamp(b["start"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            console.print(f"   {when} +{b['seconds']}s  {len(b['shares'])} shares of {b['item'][:90]}",
                          markup=False, highlight=False)


@app.command()
def evaluate(truth: str = typer.Option(..., "--truth", help="ground_truth.json written by `basira simulate`."),
             db: str | None = DB, as_json: bool = JSON) -> None:
    """Score communities, hubs, returning accounts and coordinated groups against simulated ground truth."""
    import orjson

    from basira.network.evaluate import evaluate as run

    store, data, _, _ = _load(db, None, None)
    with open(truth, "rb") as fh:
        gt = orjson.loads(fh.read())
    report = run(data, gt)
    store.close()
    if as_json:
        _print_json(report)
        return
    for k, v in report.items():
        Console().print(f"{k:32s} {v}", highlight=False)
