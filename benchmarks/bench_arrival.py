"""Kernel-side cost of one arrival on a preheated kernel, this tree against an earlier commit, in one run.

Usage: ``.venv/bin/python benchmarks/bench_arrival.py [--baseline HEAD~1] [--rounds 5] [--width 930]``.

A preheated kernel has imported the app and built the page before anyone comes (Voila runs the
notebook). What a visitor then costs the kernel, as recorded from Chromium (``protocol_client.py``):
the page bridge reports the column's width (``--width``, 930 px in a 1280x800 window; the figure
re-lays itself out and places the model labels for that size), the first full render, its PNG, and
the second full render the browser's ``refresh`` asks for. Prints median CPU seconds of each part
and the USS of the process once the page is built. Rounds alternate between the trees. Never fails
a build.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_step import ROOT, export_tree

from scaling_explorer.app.explorer import FIRST_FIGURE_PX

PROBE = r"""
import json, sys, time
import psutil
t0 = time.process_time()
from scaling_explorer.app import Explorer
t1 = time.process_time()
app = Explorer()
t2 = time.process_time()
canvas = app.figure.canvas
out = {"import": t1 - t0, "build (preheat)": t2 - t1}
t = time.process_time()
app.bridge.viewport_height = 800
app.bridge.width = int(sys.argv[1])
out["width arrives (layout, labels)"] = time.process_time() - t
t = time.process_time(); canvas.draw(); out["first render"] = time.process_time() - t
t = time.process_time()
canvas._force_full = True; canvas._png_is_old = True; canvas.get_diff_image()
out["PNG"] = time.process_time() - t
t = time.process_time(); canvas.draw(); out["second render (refresh)"] = time.process_time() - t
out["arrival total"] = sum(out[k] for k in ("width arrives (layout, labels)", "first render", "PNG",
                                            "second render (refresh)"))
out["USS MiB"] = psutil.Process().memory_full_info().uss / 2**20
print(json.dumps(out))
"""


def run_probe(src: Path, width: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "agg"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(width)], env=env, capture_output=True, text=True,
                         cwd=tempfile.gettempdir())
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD~1", help="commit to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--width", type=int, default=FIRST_FIGURE_PX[0] + 4, help="the bridge's width in CSS px")
    args = parser.parse_args()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            trees = {f"baseline {args.baseline}": export_tree(args.baseline, Path(tmp)) / "src",
                     "this tree": ROOT / "src"}
            samples: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
            for _ in range(args.rounds):
                for name, src in trees.items():
                    for kind, value in run_probe(src, args.width).items():
                        samples[name].setdefault(kind, []).append(value)
        print(f"Preheated arrival at a {args.width}-px column, kernel side: median CPU-s over {args.rounds} rounds "
              f"(load average {os.getloadavg()[0]:.1f})")
        print(f"{'part':<32}" + "".join(f"{name:>22}" for name in trees) + f"{'new / baseline':>16}")
        old, new = ({k: statistics.median(v) for k, v in samples[name].items()} for name in trees)
        for kind in new:
            print(f"{kind:<32}{old.get(kind, float('nan')):>22.3f}{new[kind]:>22.3f}"
                  f"{new[kind] / old[kind] if old.get(kind) else float('nan'):>16.2f}")
    except Exception as exc:  # a benchmark never fails the build
        print(f"bench_arrival: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
