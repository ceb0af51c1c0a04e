"""Kernel-side cost of one page update, this tree against an earlier commit, in one run.

Usage: ``.venv/bin/python benchmarks/bench_step.py [--baseline 91d6b4c] [--steps 200] [--rounds 3]``.

Builds the explorer headless (as a Voila kernel does, without the browser) in a subprocess per
tree, sizes it as a 1280x800 window does (trees build at different sizes) and draws once, then
times steps: a budget slider step (the blitted fast path), a law toggle and a band change (full
redraws), and, where the tree has the field, a budget step with 1e13 tokens of inference demand
(inference-aware markers and total FLOPs on the fast path). Rounds alternate between the two trees
so that load from other processes hits both alike. Prints medians of CPU seconds per step, the
ratio new / baseline, and demand on / off.
Never fails a build.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from scaling_explorer.app.explorer import FIRST_FIGURE_PX

ROOT = Path(__file__).resolve().parents[1]
BRIDGE_WIDTH = FIRST_FIGURE_PX[0] + 4  # what the page bridge reports at 1280x800 (PlotsView.resize takes 4 off)

# Runs inside the tree under test; speaks whichever state API that tree has.
PROBE = r"""
import json, math, sys, time
from scaling_explorer.app import Explorer
app = Explorer(raise_errors=True)
# Every tree at the size a 1280x800 window gives the figure (trees build at different sizes; a tree
# without the page bridge keeps its own).
bridge = getattr(app, "bridge", None)
if bridge is not None:
    bridge.viewport_height, bridge.width = 800, int(sys.argv[2])
app.figure.canvas.draw()
c = app.controls
lo = math.log10(5.76e23)
def cpu():
    return time.process_time()
out = {}
steps = int(sys.argv[1])
t = []
for i in range(steps):
    value = 10 ** (lo + 0.05 * ((i % 20) + 1))
    t0 = cpu(); c.budget.value = value; t.append(cpu() - t0)
out["budget step"] = t
t = []
for i in range(max(steps // 10, 5)):
    box = c.law_boxes["hoffmann2022-approach2"]
    t0 = cpu(); box.value = not box.value; app.figure.canvas.draw(); t.append(cpu() - t0)
out["law toggle + draw"] = t
t = []
for i in range(max(steps // 10, 5)):
    t0 = cpu(); c.band.value = 3.0 if i % 2 == 0 else 2.0; app.figure.canvas.draw(); t.append(cpu() - t0)
out["band change + draw"] = t
# With inference demand on (issue 11): a tree without the field skips this measurement.
try:
    app.state.update(inference_tokens=1e13)
except Exception:
    pass
else:
    app.figure.canvas.draw()
    t = []
    for i in range(steps):
        value = 10 ** (lo + 0.05 * ((i % 20) + 1))
        t0 = cpu(); c.budget.value = value; t.append(cpu() - t0)
    out["budget step, demand 1e13"] = t
print(json.dumps(out))
"""


def export_tree(rev: str, into: Path) -> Path:
    """The files of ``rev`` (src/ and data/) in ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src", "data"], capture_output=True,
                             check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_probe(src: Path, steps: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "agg"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(steps), str(BRIDGE_WIDTH)], env=env, capture_output=True,
                         text=True, cwd=tempfile.gettempdir())
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="91d6b4c", help="commit to compare with")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            old = export_tree(args.baseline, Path(tmp)) / "src"
            trees = {f"baseline {args.baseline}": old, "this tree": ROOT / "src"}
            samples: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
            for _ in range(args.rounds):
                for name, src in trees.items():
                    for kind, values in run_probe(src, args.steps).items():
                        samples[name].setdefault(kind, []).extend(values)
        kinds = list(dict.fromkeys(k for values in samples.values() for k in values))
        print(f"CPU seconds per update, median over {args.rounds} rounds (kernel side, no browser)")
        print(f"{'update':<26}" + "".join(f"{name:>22}" for name in trees) + f"{'new / baseline':>16}")
        medians = {name: {k: statistics.median(v) for k, v in samples[name].items()} for name in trees}
        old_name, new_name = trees
        for kind in kinds:
            cells = "".join(f"{medians[name][kind] * 1e3:>19.2f} ms" if kind in medians[name] else f"{'—':>22}"
                            for name in trees)
            ratio = (f"{medians[new_name][kind] / medians[old_name][kind]:>16.2f}" if kind in medians[old_name]
                     else f"{'—':>16}")
            print(f"{kind:<26}{cells}{ratio}")
        demand, step = medians[new_name].get("budget step, demand 1e13"), medians[new_name]["budget step"]
        if demand is not None:  # the bar: a step with demand on within 10% of today's
            print(f"budget step with demand 1e13 / without, this tree: {demand / step:.2f}; "
                  f"/ baseline's step without: {demand / medians[old_name]['budget step']:.2f}")
    except Exception as exc:  # a benchmark never fails the build
        print(f"bench_step: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
