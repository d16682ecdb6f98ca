"""Evaluation against `basira simulate` ground truth: communities (NMI), recruiter hubs (precision@k),
returning accounts (precision/recall at the threshold), coordinated groups (precision/recall by overlap)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from basira.network.analysis import NetworkAnalysis, analyze, coordinated_groups, returning_accounts
from basira.network.coordinated import CoordinatedGroup
from basira.network.data import NetworkData
from basira.network.returning import THRESHOLD, ReturningMatch

if TYPE_CHECKING:
    from basira.store import Store


def nmi(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Normalized mutual information (arithmetic mean normalisation, as scikit-learn's default)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(list(map(str, a)), list(map(str, b))))


def precision_at_k(ranked: Sequence[Any], relevant: set[Any], k: int) -> float:
    top = list(ranked)[:k]
    return sum(1 for x in top if x in relevant) / k if k else 0.0


def returning_metrics(matches: Sequence[ReturningMatch], truth: dict[int, int], threshold: float = THRESHOLD,
                      new_accounts: set[int] | None = None) -> dict[str, Any]:
    """truth: new node → old node. Predicted = best candidate at/above threshold; correct if it is the truth."""
    predicted = {m.account: m.candidates[0].account for m in matches if m.candidates and m.candidates[0].score >= threshold}
    relevant = {n: o for n, o in truth.items() if new_accounts is None or n in new_accounts}
    tp = sum(1 for n, o in predicted.items() if relevant.get(n) == o)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(relevant) if relevant else 0.0
    top5 = sum(1 for m in matches if relevant.get(m.account) in {c.account for c in m.candidates})
    return {"threshold": threshold, "predicted": len(predicted), "true_pairs": len(relevant), "correct": tp,
            "precision": round(p, 4), "recall": round(r, 4),
            "recall_top5": round(top5 / len(relevant), 4) if relevant else 0.0}


def group_metrics(found: Sequence[CoordinatedGroup], truth: Sequence[set[int]], min_jaccard: float = 0.5) -> dict[str, Any]:
    """A found group matches a true one when their account sets overlap with Jaccard >= min_jaccard."""
    def jac(a: set[int], b: set[int]) -> float:
        return len(a & b) / len(a | b) if a | b else 0.0

    sets = [set(g.accounts) for g in found]
    matched_found = sum(1 for s in sets if any(jac(s, t) >= min_jaccard for t in truth))
    matched_truth = sum(1 for t in truth if any(jac(s, t) >= min_jaccard for s in sets))
    # Pair level: pairs of accounts put in one group, against pairs in one true group.
    def pairs(groups: Sequence[set[int]]) -> set[tuple[int, int]]:
        out = set()
        for g in groups:
            m = sorted(g)
            out.update((m[i], m[j]) for i in range(len(m)) for j in range(i + 1, len(m)))
        return out

    fp, tp_ = pairs(sets), pairs(list(truth))
    return {
        "found": len(sets), "true_groups": len(truth),
        "precision": round(matched_found / len(sets), 4) if sets else 0.0,
        "recall": round(matched_truth / len(truth), 4) if truth else 0.0,
        "pair_precision": round(len(fp & tp_) / len(fp), 4) if fp else 0.0,
        "pair_recall": round(len(fp & tp_) / len(tp_), 4) if tp_ else 0.0,
    }


def evaluate(data: NetworkData, truth: dict[str, Any], *, analysis: NetworkAnalysis | None = None,
             k: int = 10, threshold: float = THRESHOLD) -> dict[str, Any]:
    """All metrics for one simulated platform (accounts matched to truth by external id)."""
    node = {a.external_id: i for i, a in enumerate(data.accounts)}
    acc_truth = truth["accounts"]
    a = analysis or analyze(data)
    m = a.communities.membership
    # Communities: ordinary users' interest clusters and the networks, over accounts present in the graph.
    present = [(i, acc_truth[x]) for x, i in node.items() if x in acc_truth and a.graph.strength()[i] > 0]
    labels_true = [t["cluster"] or t["role"] for _, t in present]
    labels_found = [int(m[i]) for i, _ in present]
    net = [(i, t) for i, t in present if t["community"] is not None]
    out: dict[str, Any] = {
        "accounts": data.n, "edges": int(a.graph.n_edges), "communities": int(a.communities.count),
        "modularity": round(a.communities.modularity, 4),
        "nmi_all": round(nmi(labels_true, labels_found), 4),
        "nmi_networks": round(nmi([t["community"] for _, t in net], [int(m[i]) for i, _ in net]), 4) if net else None,
    }
    # Each network against its best-matching community (Jaccard of account sets), averaged over networks.
    found_sets: dict[int, set[int]] = {}
    for i, _ in present:
        found_sets.setdefault(int(m[i]), set()).add(i)
    jaccards = []
    for net_id in {t["community"] for _, t in net}:
        accounts = {i for i, t in net if t["community"] == net_id}
        best = max(len(accounts & found_sets[int(m[i])]) / len(accounts | found_sets[int(m[i])]) for i in accounts)
        jaccards.append(best)
    out["network_community_jaccard"] = round(float(np.mean(jaccards)), 4) if jaccards else None
    hubs = {node[x] for x, t in acc_truth.items() if t["role"] == "recruiter_hub" and x in node}
    ranked = [int(i) for i in np.argsort(-a.risk.score, kind="stable")]
    out["hubs"] = len(hubs)
    out[f"hub_precision_at_{k}"] = round(precision_at_k(ranked, hubs, k), 4)
    kk = min(k, len(hubs))
    out["hub_precision_at_min_k_hubs"] = round(precision_at_k(ranked, hubs, kk), 4) if kk else None
    network_roles = {"recruiter_hub", "member", "amplifier"}
    net_accounts = {node[x] for x, t in acc_truth.items() if t["role"] in network_roles and x in node}
    out["network_precision_at_50"] = round(precision_at_k(ranked, net_accounts, 50), 4)
    pr_ranked = [int(i) for i in np.argsort(-a.pagerank, kind="stable")]
    out[f"hub_precision_at_{k}_pagerank_only"] = round(precision_at_k(pr_ranked, hubs, k), 4)
    # Returning accounts.
    matches = returning_accounts(data, threshold=threshold)
    pairs = {node[p["new"]]: node[p["old"]] for p in truth["returning_pairs"]
             if p["new"] in node and p["old"] in node and data.accounts[node[p["old"]]].gone}
    out["returning"] = returning_metrics(matches, pairs, threshold)
    # Pairs the data can speak to: the old account's profile was seen (it posted) and the new one's creation.
    known = {n: o for n, o in pairs.items() if data.accounts[o].handle and data.accounts[n].created_at is not None}
    out["returning_profiles_known"] = returning_metrics(matches, known, threshold)
    # A wrong pair may still be the same person (an earlier account of the persona): count those apart.
    persona = {node[x]: t["persona"] for x, t in acc_truth.items() if x in node}
    predicted = [(mm.account, mm.candidates[0].account) for mm in matches if mm.likely]
    same = sum(1 for n, o in predicted if persona.get(n) is not None and persona.get(n) == persona.get(o))
    out["returning"]["same_persona_precision"] = round(same / len(predicted), 4) if predicted else 0.0
    # Coordinated groups.
    groups = coordinated_groups(data)
    true_groups = [{node[x] for x in g["accounts"] if x in node} for g in truth["coordinated_groups"]]
    out["coordinated"] = group_metrics(groups, true_groups)
    return out


def mark_suspensions(store: Store, truth: dict[str, Any], platform: str = "x") -> int:
    """Record the simulated platform's suspensions (its 'suspended users' list) in the store."""
    from basira.ingest.records import AccountRecord, parse_time

    recs = [AccountRecord(platform, x, status="suspended", suspended_at=parse_time(t["suspended_at"]))
            for x, t in truth["accounts"].items() if t["status"] == "suspended" and t.get("suspended_at")]
    for i in range(0, len(recs), 1000):
        store.upsert_accounts(recs[i : i + 1000])
    return len(recs)


def score_posts(store: Store, progress: Callable[[int], None] | None = None, batch_size: int = 2000) -> int:
    """Run the packaged detector over every stored post and store the detections (until `basira scan` lands)."""
    from basira.detect import load_detector

    det = load_detector()
    version = getattr(det.model, "version", "detector")
    n = 0
    for batch in store.iter_posts(batch_size=batch_size):
        results = det.detect([r["text"] for r in batch], [r.get("lang") for r in batch])
        store.add_detections([
            {"post_id": r["id"], "model_version": version, "score": d.score, "categories": list(d.categories),
             "evidence": {"flagged": d.flagged}}
            for r, d in zip(batch, results, strict=True)
        ])
        n += len(batch)
        if progress:
            progress(len(batch))
    return n


def prepare_simulated(store: Store, sim_dir: str, *, detect: bool = True) -> dict[str, Any]:
    """Ingest a `basira simulate` folder (tweets, follows), record its suspensions, score posts; return the truth."""
    from pathlib import Path

    import orjson

    from basira.ingest import ingest_file

    d = Path(sim_dir)
    ingest_file(store, str(d / "tweets.jsonl"))
    ingest_file(store, str(d / "follows.jsonl"))
    truth = orjson.loads((d / "ground_truth.json").read_bytes())
    mark_suspensions(store, truth)
    if detect:
        score_posts(store)
    return truth
