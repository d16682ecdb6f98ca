"""Returning-account evaluation: Basira's ranking against two baselines (username similarity alone — difflib's
ratio of the lower-cased usernames — and the most recent suspension) on simulated platforms at three evidence
profiles and on public ban-evasion pairs. Not a speed benchmark (no `run()`): the figures go into
docs/network.md.

    python -m bench.eval_returning --seeds 201 202 203 --accounts 10000 [--wikipedia /tmp/banev/final_data]

`--wikipedia` takes the `final_data/` folder of github.com/claws-lab/ban_evasion (Niverthi, Verma & Kumar,
WWW 2022); keep it outside the repository (it is not ours to redistribute).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def simulated(seed: int, accounts: int) -> dict:
    from basira.network.evaluate import evaluate_simulated_profiles, prepare_simulated
    from basira.network.load import load_network_data
    from basira.simulate import simulate_platform
    from basira.store import open_store

    with tempfile.TemporaryDirectory() as d:
        simulate_platform(accounts, seed, f"{d}/sim")
        with open_store(f"{d}/sim.db") as store:
            truth = prepare_simulated(store, f"{d}/sim", detect=False)
            data = load_network_data(store)
        return evaluate_simulated_profiles(data, truth)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[])
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--wikipedia", help="final_data/ folder of claws-lab/ban_evasion")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args(argv)
    results: dict = {}
    if args.wikipedia:
        from basira.network.evaluate import compare_returning, load_ban_evasion_pairs

        new, old, truth = load_ban_evasion_pairs(args.wikipedia)
        results["wikipedia_ban_evasion_sample"] = compare_returning(new, old, truth)
    for seed in args.seeds:
        t = time.perf_counter()
        results[f"sim_{seed}"] = simulated(seed, args.accounts)
        results[f"sim_{seed}"]["seconds"] = round(time.perf_counter() - t, 1)
        print(f"seed {seed} done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    text = json.dumps(results, indent=1)
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
