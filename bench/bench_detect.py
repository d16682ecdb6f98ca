"""Detector benchmark: `basira classify` end to end (JSON in, JSON out), model load time, peak memory."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
N_POSTS = 20_000
RUNS = 3


def _short_posts(n: int) -> tuple[list[dict], str]:
    """Real short posts from ../shared when present (never committed), else the simulator's synthetic corpus."""
    texts: list[str] = []
    for name in ("ar_isis_tweets.jsonl", "en_isis_mentions.jsonl", "ar_osact2022.jsonl", "ru_sensitive_topics.jsonl"):
        path = SHARED / name
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                texts.extend(json.loads(line)["text"] for line in fh if line.strip())
    source = "../shared/datasets short posts"
    if not texts:
        from basira.simulate import simulate_platform

        tmp = Path(tempfile.mkdtemp())
        simulate_platform(accounts=2000, seed=1, out_dir=str(tmp))
        with (tmp / "tweets.jsonl").open(encoding="utf-8") as fh:
            texts = [t["text"] for line in fh for t in json.loads(line)["data"]]
        source = "simulated platform posts"
    texts = [t for t in texts if len(t) <= 400]
    rng = random.Random(7)
    return [{"id": f"b{i}", "text": rng.choice(texts)} for i in range(n)], source


def _child_peak_rss_mib(cmd: list[str]) -> tuple[float, float]:
    code = (
        "import resource, subprocess, sys, time; t=time.perf_counter(); "
        "r=subprocess.run(sys.argv[1:]); w=time.perf_counter()-t; "
        "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    wall, rss_kib = out.stdout.split()
    return float(wall), int(rss_kib) / 1024


def run() -> dict:
    posts, source = _short_posts(N_POSTS)
    basira = str(Path(sys.executable).parent / "basira")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), encoding="utf-8")
        modes = {}
        for mode, extra in (("cascade", []), ("fast", ["--fast"])):
            walls, peaks = [], []
            for _ in range(RUNS):
                cmd = [basira, "classify", str(src), "--output", str(Path(tmp) / "out.jsonl"), *extra]
                wall, peak = _child_peak_rss_mib(cmd)
                walls.append(wall)
                peaks.append(peak)
            modes[mode] = {"wall_seconds": walls, "posts_per_second_median": round(N_POSTS / statistics.median(walls), 1),
                           "peak_rss_mib": round(max(peaks), 1)}
        load_code = (
            "import time; t=time.perf_counter(); from basira.detect import load_detector; "
            "d=load_detector(); d.detect(['warm']); print(time.perf_counter()-t)"
        )
        loads = [float(subprocess.run([sys.executable, "-c", load_code], capture_output=True, text=True,
                                      check=True).stdout) for _ in range(RUNS)]
    load = statistics.median(loads)
    load_avg = os.getloadavg()[0]
    c, f = modes["cascade"], modes["fast"]
    return {
        "title": "Detector: `basira classify` end to end",
        "posts": N_POSTS,
        "source": source,
        "runs": RUNS,
        "modes": modes,
        "model_load_seconds": loads,
        "model_load_seconds_median": round(load, 3),
        "load_average_1min_at_end": load_avg,
        "summary": [
            f"- `basira classify` on {N_POSTS:,} short posts ({source}), JSON Lines in and out, process start and "
            f"model load included, median of {RUNS} (target ≥ 2,000 posts/s):",
            f"  - default (second stage on the uncertain band): **{c['posts_per_second_median']:,.0f} posts/s**, "
            f"peak memory {c['peak_rss_mib']:.0f} MiB",
            f"  - `--fast` (first stage only): **{f['posts_per_second_median']:,.0f} posts/s**, "
            f"peak memory {f['peak_rss_mib']:.0f} MiB",
            f"- Model load + first prediction in a fresh interpreter: **{load:.2f} s** median (target < 2 s).",
            f"- Machine load average when the run ended: {load_avg:.1f} (2 cores; other work was running if > 1).",
        ],
    }
