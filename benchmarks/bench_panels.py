"""Kernel-side cost of the lecture panel and the model table, headless (no browser, no figure).

Usage: ``.venv/bin/python benchmarks/bench_panels.py [--rounds 30]``. Prints medians in ms; never
fails a build. Each figure is the Python time of one user action on an ``AppState`` with both
panels watching it (the widgets' comm messages go nowhere without a front end, so the browser's
share is not in these numbers):

- budget step: ``state.update(budget=...)`` with the panels watching (the table ignores the
  budget; the lecture panel compares the scenario with its step's);
- lecture next: ``LecturePanel.next`` (a new scenario, its readout, the table's refresh);
- table refresh: re-sorting and relabelling all rows (a sort change);
- table filter: typing one more letter in the Find box;
- select row: clicking a row (``state.update(model=...)`` and the table's read-back).
"""

from __future__ import annotations

import argparse
import statistics
import time
import traceback


def _median_ms(fn, rounds: int) -> float:
    times = []
    for i in range(rounds):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    from scaling_explorer.app.controls import ErrorSink
    from scaling_explorer.app.lecture import LecturePanel
    from scaling_explorer.app.state import AppState
    from scaling_explorer.app.table import ModelTable

    state = AppState()
    errors = ErrorSink(raise_errors=True)
    table = ModelTable(state, errors)
    lecture = LecturePanel(state, errors, "scaling-laws")
    n = len(lecture.lecture)
    rows = []
    rows.append(("budget step", _median_ms(lambda i: state.update(budget=1e23 * (1 + i % 7)), rounds)))
    rows.append(("lecture next (wraps to step 1)",
                 _median_ms(lambda i: lecture.goto((lecture.step + 1) % n), rounds)))
    sorts = [value for _, value in table.sort.options]
    rows.append(("table re-sort", _median_ms(lambda i: setattr(table.sort, "value", sorts[i % len(sorts)]), rounds)))
    words = ["l", "ll", "lla", "llam", "llama", ""]
    rows.append(("table filter keystroke",
                 _median_ms(lambda i: setattr(table.search, "value", words[i % len(words)]), rounds)))
    table.search.value = ""
    pick = ["Gopher", "Chinchilla", "Llama 3 8B", "DeepSeek-V3"]
    rows.append(("select a row", _median_ms(lambda i: setattr(table.rows, "value", pick[i % len(pick)]), rounds)))
    print(f"{'action':34s} median ms ({rounds} rounds, {len(table.visible)} rows)")
    for name, ms in rows:
        print(f"{name:34s} {ms:8.2f}")


if __name__ == "__main__":
    try:
        main()
    except Exception:  # a benchmark reports, it never fails the build
        traceback.print_exc()
