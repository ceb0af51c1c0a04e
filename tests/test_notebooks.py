"""Notebooks run top to bottom under nbclient, both as a student runs them (solutions hidden) and as an
instructor does (SCALING_EXPLORER_SOLUTIONS=1), and are committed without outputs."""

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
TEACHING = [p for p in NOTEBOOKS if p.name[0].isdigit()]
GUARD = "if SHOW_SOLUTIONS:"
FLAG = 'SHOW_SOLUTIONS = os.environ.get("SCALING_EXPLORER_SOLUTIONS") == "1"'


def _solution_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    stored = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not stored, f"{path.name}: cells {stored} have stored outputs; clear them"


@pytest.mark.parametrize("path", TEACHING, ids=lambda p: p.name)
def test_solutions_are_guarded_and_colours_come_from_style(path):
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    solutions = _solution_cells(nb)
    if solutions:
        assert any(FLAG in s for s in code), f"{path.name} does not define SHOW_SOLUTIONS from the environment"
    unguarded = [c.source.splitlines()[0] for c in solutions if GUARD not in c.source.splitlines()[:3]]
    assert not unguarded, f"{path.name}: solution cells run on Run All: {unguarded}"
    # One palette for the page and the notebooks (scaling_explorer.style), not a copy per notebook.
    palettes = [s for s in code if re.search(r'"#[0-9A-Fa-f]{6}"\s*[,}]', s) and "COLORS" in s]
    assert not palettes, f"{path.name} defines its own palette; use scaling_explorer.style.law_color"


def _execute(path: Path, solutions: bool):
    """``path`` run top to bottom in a fresh kernel, as a student (solutions hidden) or an instructor."""
    env = {**os.environ, "SCALING_EXPLORER_SOLUTIONS": "1" if solutions else "0"}
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    return nb


INSTRUCTED = [p for p in TEACHING if _solution_cells(nbformat.read(p, as_version=4))]
# Lines a solution prints only when it has run to its end (the solutions assert their own answers).
SOLUTION_TEXT = {"06-beyond-chinchilla.ipynb": ("cheapest over the lifetime", "epochs; unlimited data", "Llama 3 8B")}


def _ran(path: Path, solutions: bool):
    nb = _execute(path, solutions)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    warnings = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr" and "Warning" in o.text]
    assert not warnings, f"{path.name} prints warnings a student would see: {warnings}"
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom_without_revealing_solutions(path):
    nb = _ran(path, solutions=False)
    shown = [c.source.splitlines()[0] for c in _solution_cells(nb) if c.outputs]
    assert not shown, f"{path.name}: Run All prints solutions: {shown}"
    if path.name == "explorer.ipynb":
        mimes = {k for c in nb.cells for o in c.outputs for k in o.get("data", {})}
        assert "application/vnd.jupyter.widget-view+json" in mimes


@pytest.mark.parametrize("path", INSTRUCTED, ids=lambda p: p.name)
def test_solutions_run_for_the_instructor(path):
    nb = _ran(path, solutions=True)
    silent = [c.source.splitlines()[2] for c in _solution_cells(nb) if not c.outputs]
    assert not silent, f"{path.name}: solution cells printed nothing with SCALING_EXPLORER_SOLUTIONS=1: {silent}"
    printed = "".join(o.get("text", "") for c in _solution_cells(nb) for o in c.outputs)
    missing = [line for line in SOLUTION_TEXT.get(path.name, ()) if line not in printed]
    assert not missing, f"{path.name}: the solutions did not print {missing}"
