"""Per-bank PDQ decode: `full` (full-resolution decode, bit-identical to python-threatexchange / HMA) against
`fast` (reduced-scale JPEG decode): speed per image and how far fast hashes land from the full ones.

Images: generated 1000x1000 and 2000x1500 JPEGs (shapes on gradients, and the same with noise-like texture),
never real content. `python -m bench.run pdq_decode`.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _images(tmp: Path, count: int, size: tuple[int, int], noise: bool, seed: int) -> list[str]:
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    w, h = size
    paths = []
    for i in range(count):
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], -1).astype(np.uint8)
        if noise:  # upscaled noise: the texture that moves reduced-scale hashes most
            small = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
            base = (base // 2 + np.asarray(Image.fromarray(small).resize((w, h))) // 2).astype(np.uint8)
        im = Image.fromarray(base)
        d = ImageDraw.Draw(im)
        for _ in range(20):
            x0, y0 = (int(v) for v in rng.integers(0, min(w, h), 2))
            d.ellipse([x0, y0, x0 + w // 5, y0 + h // 6], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
        p = tmp / f"{'n' if noise else 's'}{w}-{i}.jpg"
        p.write_bytes(buf.getvalue())
        paths.append(str(p))
    return paths


def _timed(paths: list[str], decode: str) -> tuple[float, float, list[str]]:
    """(wall ms per image, CPU ms per image, hashes): the median of three passes."""
    from basira.signals.banks import hash_file

    walls, cpus, out = [], [], []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        out = [hash_file(p, ("pdq",), pdq_decode=decode)["pdq"] for p in paths]
        walls.append((time.perf_counter() - t) * 1000 / len(paths))
        cpus.append((time.process_time() - c) * 1000 / len(paths))
    return statistics.median(walls), statistics.median(cpus), out


def run() -> dict:
    from threatexchange.signal_type.pdq.signal import PdqSignal as TePdq

    from basira.signals.pdq import pdq_distance

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in ((1000, 1000), (2000, 1500)):
            for noise in (False, True):
                paths = _images(Path(tmp), 30, size, noise, seed=size[0] + noise)
                _timed(paths[:2], "full")  # warm up
                full_ms, full_cpu, full = _timed(paths, "full")
                fast_ms, fast_cpu, fast = _timed(paths, "fast")
                te = [TePdq.hash_from_file(Path(p)) for p in paths]
                drift = [pdq_distance(a, b) for a, b in zip(full, fast, strict=True)]
                rows.append({"size": f"{size[0]}x{size[1]}", "texture": "noise" if noise else "shapes",
                             "images": len(paths), "full_ms": round(full_ms, 2), "full_cpu_ms": round(full_cpu, 2),
                             "fast_ms": round(fast_ms, 2), "fast_cpu_ms": round(fast_cpu, 2),
                             "full_equals_threatexchange": sum(a == b for a, b in zip(full, te, strict=True)),
                             "fast_drift_bits_median": statistics.median(drift), "fast_drift_bits_max": max(drift),
                             "fast_differs": sum(d > 0 for d in drift)})
    summary = [
        "| images (30 each) | full: ms per image (CPU ms) | fast: ms per image (CPU ms) | full = threatexchange's hash "
        "| fast hashes off the full one: median (max) bits |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        summary.append(f"| {r['size']} JPEG, {r['texture']} | {r['full_ms']} ({r['full_cpu_ms']}) | {r['fast_ms']} "
                       f"({r['fast_cpu_ms']}) | {r['full_equals_threatexchange']} of {r['images']} | "
                       f"{r['fast_drift_bits_median']} ({r['fast_drift_bits_max']}); {r['fast_differs']} differ |")
    summary += ["", "`--pdq-decode full` costs the difference per image hashed for (or matched against) a full "
                "bank, and gives the hash partners compute; `fast` saves it and moves hashes by the bits shown "
                "(the match threshold is 31). See docs/hash-matching.md."]
    return {"title": "PDQ decode per bank (full vs fast)", "rows": rows, "summary": summary}
