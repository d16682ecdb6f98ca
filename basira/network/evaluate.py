"""Evaluation against `basira simulate` ground truth: communities (NMI), recruiter hubs (precision@k),
returning accounts (precision/recall at the threshold), coordinated groups (precision/recall by overlap)."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from basira.ingest.repository import upsert_accounts
from basira.network.analysis import NetworkAnalysis, analyze, coordinated_groups, returning_accounts
from basira.network.coordinated import CoordinatedGroup
from basira.network.data import NetworkData
from basira.network.returning import THRESHOLD, Profile, ReturningMatch, find_returning
from basira.store.detections import add_detections

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
        with store.transaction() as tx:
            upsert_accounts(tx, recs[i : i + 1000])
    return len(recs)


def score_posts(store: Store, progress: Callable[[int], None] | None = None, batch_size: int = 2000) -> int:
    """Run the packaged detector over every stored post and store the detections (until `basira scan` lands)."""
    from basira.detect import load_detector

    det = load_detector()
    version = getattr(det.model, "version", "detector")
    n = 0
    for batch in store.iter_posts(batch_size=batch_size):
        results = det.detect([r["text"] for r in batch], [r.get("lang") for r in batch])
        with store.transaction() as tx:
            add_detections(tx, [
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
    if (d / "suspended_accounts.jsonl").exists():
        # What the platform exports: the users lookup (suspensions as X error objects) and its list of
        # suspended accounts with handles and dates.
        ingest_file(store, str(d / "users_lookup.jsonl"))
        ingest_file(store, str(d / "suspended_accounts.jsonl"))
    else:  # a folder written before the simulator exported suspensions
        mark_suspensions(store, truth)
    if detect:
        score_posts(store)
    return truth


# --- ranked returning-account evaluation (simulator profiles, public ban-evasion pairs) -------------------

PROFILE_LEVELS = ("handles", "profiles", "full")


def mask_profile(p: Profile, level: str) -> Profile:
    """What a platform with less data would know: `handles` (handle and dates only), `profiles` (and display
    name, bio, image), `full` (everything: follows, mentions, replies, links, hashtags, threads, media, style)."""
    if level == "full":
        return p
    keep = {"id": p.id, "handle": p.handle, "created_at": p.created_at, "suspended_at": p.suspended_at,
            "first_seen": p.first_seen}
    if level == "profiles":
        keep.update(display_name=p.display_name, bio=p.bio, image=p.image)
    elif level != "handles":
        raise ValueError(f"level must be one of {', '.join(PROFILE_LEVELS)}")
    return Profile(**keep)


def ranked_metrics(ranked: dict[int, list[tuple[int, float]]], truth: dict[int, int], *,
                   threshold: float | None = None, new_accounts: Iterable[int] | None = None) -> dict[str, Any]:
    """ranked: new account → [(old account, score)] best first; truth: new → old for the returning ones.
    hit@k and MRR over the true pairs; precision/recall of "top candidate at or above threshold" over every
    new account (a flag on a new account that returns nobody is a false positive)."""
    pairs = truth
    hit1 = hit5 = 0
    rr = 0.0
    for n, o in pairs.items():
        olds = [x for x, _ in ranked.get(n, [])]
        if olds[:1] == [o]:
            hit1 += 1
        if o in olds[:5]:
            hit5 += 1
        if o in olds:
            rr += 1 / (olds.index(o) + 1)
    out: dict[str, Any] = {"true_pairs": len(pairs),
                           "hit_at_1": round(hit1 / len(pairs), 4) if pairs else 0.0,
                           "hit_at_5": round(hit5 / len(pairs), 4) if pairs else 0.0,
                           "mrr": round(rr / len(pairs), 4) if pairs else 0.0}
    if threshold is not None:
        consider = set(ranked) if new_accounts is None else set(new_accounts)
        flagged = {n: r[0][0] for n, r in ranked.items() if n in consider and r and r[0][1] >= threshold}
        tp = sum(1 for n, o in flagged.items() if pairs.get(n) == o)
        out.update(threshold=threshold, flagged=len(flagged), correct=tp,
                   precision=round(tp / len(flagged), 4) if flagged else None,
                   recall=round(tp / len(pairs), 4) if pairs else 0.0)
        # Threshold-free: the best recall at precision >= 0.95 over every possible threshold.
        tops = sorted(((r[0][1], pairs.get(n) == r[0][0]) for n, r in ranked.items() if n in consider and r),
                      key=lambda x: -x[0])
        best, correct = 0.0, 0
        for k, (_, ok) in enumerate(tops, start=1):
            correct += ok
            if correct / k >= 0.95 and (k == len(tops) or tops[k][0] < tops[k - 1][0]):
                best = max(best, correct / len(pairs)) if pairs else 0.0
        out["recall_at_p95"] = round(best, 4)
    return out


def rank_basira(new: Sequence[Profile], old: Sequence[Profile], top_k: int = 50) -> dict[int, list[tuple[int, float]]]:
    matches = find_returning(new, old, top_k=top_k, min_score=0.0)
    return {m.account: [(c.account, c.score) for c in m.candidates] for m in matches}


def rank_username_baseline(new: Sequence[Profile], old: Sequence[Profile],
                           top_k: int = 50) -> dict[int, list[tuple[int, float]]]:
    """Username similarity alone: difflib's ratio of the lower-cased usernames, over every old account."""
    from difflib import SequenceMatcher

    out = {}
    olds = [(o.id, (o.handle or "").lower()) for o in old if o.handle]
    for n in new:
        if not n.handle:
            continue
        sm = SequenceMatcher(None, "", n.handle.lower())  # seq2 fixed: difflib caches its analysis
        scored = []
        for oid, h in olds:
            if oid == n.id:
                continue
            sm.set_seq1(h)
            scored.append((oid, sm.ratio()))
        scored.sort(key=lambda x: -x[1])
        out[n.id] = scored[:top_k]
    return out


def rank_recent_baseline(new: Sequence[Profile], old: Sequence[Profile],
                         top_k: int = 50) -> dict[int, list[tuple[int, float]]]:
    """Most recent suspension: the old accounts suspended last before the new one appeared, latest first."""
    gone = sorted((o.suspended_at, o.id) for o in old if o.suspended_at is not None)
    times = [t for t, _ in gone]
    out = {}
    for n in new:
        if n.since is None:
            continue
        end = bisect.bisect_right(times, n.since)
        out[n.id] = [(oid, 1.0) for _, oid in reversed(gone[max(0, end - top_k):end]) if oid != n.id]
    return out


def compare_returning(new: Sequence[Profile], old: Sequence[Profile], truth: dict[int, int],
                      threshold: float = THRESHOLD, baseline_threshold: float = 0.8) -> dict[str, Any]:
    """Basira's ranking against the two baselines on one dataset (the same new and old accounts)."""
    ids = [n.id for n in new]
    return {
        "basira": ranked_metrics(rank_basira(new, old), truth, threshold=threshold, new_accounts=ids),
        "username_difflib": ranked_metrics(rank_username_baseline(new, old), truth, threshold=baseline_threshold,
                                           new_accounts=ids),
        "most_recent_suspension": ranked_metrics(rank_recent_baseline(new, old), truth),
        "new_accounts": len(new), "old_accounts": len(old),
    }


def simulated_returning_sets(data: NetworkData, truth: dict[str, Any]) -> tuple[list[int], list[int], dict[int, int]]:
    """(new nodes, gone nodes, truth new → old) as returning_accounts chooses them on a simulated platform."""
    node = {a.external_id: i for i, a in enumerate(data.accounts)}
    gone = [i for i, a in enumerate(data.accounts) if a.gone]
    since = min((data.accounts[i].gone_at for i in gone if data.accounts[i].gone_at is not None), default=None)
    first = data.first_post or [None] * data.n
    new = [i for i, a in enumerate(data.accounts)
           if (t := a.created_at if a.created_at is not None else first[i]) is not None
           and (since is None or t >= since)]
    gone_set, new_set = set(gone), set(new)
    pairs = {node[p["new"]]: node[p["old"]] for p in truth["returning_pairs"]
             if p["new"] in node and p["old"] in node and node[p["old"]] in gone_set and node[p["new"]] in new_set}
    return new, gone, pairs


def evaluate_simulated_profiles(data: NetworkData, truth: dict[str, Any],
                                levels: Sequence[str] = PROFILE_LEVELS) -> dict[str, Any]:
    new, gone, pairs = simulated_returning_sets(data, truth)
    out = {}
    for level in levels:
        nps = [mask_profile(data.profile(i), level) for i in new]
        ops = [mask_profile(data.profile(i), level) for i in gone]
        out[level] = compare_returning(nps, ops, pairs)
    return out


def load_ban_evasion_pairs(folder: str) -> tuple[list[Profile], list[Profile], dict[int, int]]:
    """The public Wikipedia ban-evasion sample (claws-lab/ban_evasion, `final_data/`): every parent-child pair
    of its CSVs (usernames, creation and block times; pages edited as threads where user_contribs has them),
    the task-1 banned accounts as extra old accounts, the task-2 control accounts as new accounts that
    return nobody. Returns (new, old, truth new id → old id)."""
    import csv
    from pathlib import Path

    import orjson

    root = Path(folder)

    def t(s: str | None) -> int | None:
        if not s:
            return None
        return int(datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())

    contribs: dict[str, set[str]] = {}
    for f in root.glob("*/user_contribs/*.json"):
        rows = orjson.loads(f.read_bytes())
        contribs[f.stem] = {r["title"] for r in rows if r.get("title")}
    old: dict[int, Profile] = {}
    new: dict[int, Profile] = {}
    truth: dict[int, int] = {}

    def prof(name: str, uid: str, created: str | None, blocked: str | None, *, is_old: bool) -> Profile:
        return Profile(int(uid), handle=name, created_at=t(created), suspended_at=t(blocked) if is_old else None,
                       threads=frozenset(contribs.get(name.replace(" ", "_"), contribs.get(name, set()))))

    for f in sorted(root.glob("*/*_meta.csv")):
        with open(f, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                po = prof(r["parent-username"], r["parent-id"], r["parent-creation-time"], r["parent-block-time"],
                          is_old=True)
                old.setdefault(po.id, po)
                if "child-id" not in r:
                    continue
                pn = prof(r["child-username"], r["child-id"], r["child-creation-time"], None, is_old=False)
                new.setdefault(pn.id, pn)
                if r.get("label", "1") == "1":
                    truth[pn.id] = po.id
    return list(new.values()), list(old.values()), truth
