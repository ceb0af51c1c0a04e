"""Notebooks run top to bottom under nbclient, both as a student runs them (solutions hidden) and as an
instructor does (SCALING_EXPLORER_SOLUTIONS=1), and are committed without outputs.

Where a notebook's solutions come after all its other code, the instructor's run is the student's run followed
by the solution cells, so it continues in the student's kernel (``_solutions_come_last`` says when; a kernel
start and a second run of every figure saved, 119 -> 78 CPU-s for this file on 2 cores)."""

import ast
import copy
import io
import os
import re
import tokenize
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
TEACHING = [p for p in NOTEBOOKS if p.name[0].isdigit()]
GUARD = "if SHOW_SOLUTIONS:"
FLAG = 'SHOW_SOLUTIONS = os.environ.get("SCALING_EXPLORER_SOLUTIONS") == "1"'


def _is_solution(cell) -> bool:
    return cell.cell_type == "code" and "solution" in cell.metadata.get("tags", [])


def _solution_cells(nb):
    return [c for c in nb.cells if _is_solution(c)]


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


def _client(nb, path: Path) -> NotebookClient:
    return NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})


def _env(solutions: bool) -> dict:
    return {**os.environ, "SCALING_EXPLORER_SOLUTIONS": "1" if solutions else "0"}


def _check_outputs(path: Path, cells) -> None:
    """No error and no warning a student would see among the outputs of ``cells``."""
    outputs = [o for c in cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    warnings = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr" and "Warning" in o.text]
    assert not warnings, f"{path.name} prints warnings a student would see: {warnings}"


def _check_solutions_printed(path: Path, solutions) -> None:
    silent = [c.source.splitlines()[2] for c in solutions if not c.outputs]
    assert not silent, f"{path.name}: solution cells printed nothing with SCALING_EXPLORER_SOLUTIONS=1: {silent}"
    printed = "".join(o.get("text", "") for c in solutions for o in c.outputs)
    missing = [line for line in SOLUTION_TEXT.get(path.name, ()) if line not in printed]
    assert not missing, f"{path.name}: the solutions did not print {missing}"


def _code_words(source: str) -> list[str]:
    """The names and strings of a cell's code (comments and magics aside)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tokens = tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline)
    return [t.string for t in tokens if t.type in (tokenize.NAME, tokenize.STRING)]


def _solutions_come_last(nb) -> bool:
    """Whether the instructor's top-to-bottom run is the student's run followed by the solution cells.

    True when every solution cell comes after the notebook's other code, no other code than the FLAG line
    names SHOW_SOLUTIONS or the environment variable, and each solution cell is a bare ``if SHOW_SOLUTIONS:``
    (so with solutions hidden it runs nothing and leaves the kernel as it found it).
    """
    code = [c for c in nb.cells if c.cell_type == "code"]
    is_solution = [_is_solution(c) for c in code]
    if not any(is_solution) or is_solution != sorted(is_solution):
        return False
    words = [w for c, sol in zip(code, is_solution, strict=True) if not sol for w in _code_words(c.source)]
    if words.count("SHOW_SOLUTIONS") != 1 or sum("SCALING_EXPLORER_SOLUTIONS" in w for w in words) != 1:
        return False
    if not any(FLAG in c.source for c in code):
        return False
    for c in _solution_cells(nb):
        body = ast.parse(c.source).body
        if not (len(body) == 1 and isinstance(body[0], ast.If) and not body[0].orelse
                and ast.unparse(body[0].test) == "SHOW_SOLUTIONS"):
            return False
    return True


INSTRUCTED = [p for p in TEACHING if _solution_cells(nbformat.read(p, as_version=4))]
SOLUTIONS_LAST = [p for p in INSTRUCTED if _solutions_come_last(nbformat.read(p, as_version=4))]
# Lines a solution prints only when it has run to its end (the solutions assert their own answers).
SOLUTION_TEXT = {"06-beyond-chinchilla.ipynb": ("cheapest over the lifetime", "epochs; unlimited data", "Llama 3 8B")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom_for_a_student_and_then_for_the_instructor(path):
    """Run All in a fresh kernel as a student (solutions hidden); where the solutions come last
    (``_solutions_come_last``), the instructor's run goes on in the same kernel: SHOW_SOLUTIONS set by its own
    line with SCALING_EXPLORER_SOLUTIONS=1, then the solution cells in order. Other notebooks' instructor runs:
    ``test_solutions_run_for_the_instructor``."""
    nb = nbformat.read(path, as_version=4)
    client = _client(nb, path)
    with client.setup_kernel(env=_env(solutions=False)):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        _check_outputs(path, nb.cells)
        shown = [c.source.splitlines()[0] for c in _solution_cells(nb) if c.outputs]
        assert not shown, f"{path.name}: Run All prints solutions: {shown}"
        if path.name == "explorer.ipynb":
            mimes = {k for c in nb.cells for o in c.outputs for k in o.get("data", {})}
            assert "application/vnd.jupyter.widget-view+json" in mimes
        if path not in SOLUTIONS_LAST:
            return
        switch = nbformat.v4.new_code_cell(f'os.environ["SCALING_EXPLORER_SOLUTIONS"] = "1"\n{FLAG}')
        solution_cells = [(i, c) for i, c in enumerate(nb.cells) if _is_solution(c)]
        nb.cells.append(switch)  # nbclient stores each cell it runs at its index in the notebook
        client.execute_cell(switch, len(nb.cells) - 1)
        solutions = []
        for index, cell in solution_cells:
            solutions.append(nbformat.from_dict({**copy.deepcopy(cell), "outputs": []}))
            client.execute_cell(solutions[-1], index)
        _check_outputs(path, [switch, *solutions])
        _check_solutions_printed(path, solutions)


@pytest.mark.parametrize("path", [p for p in INSTRUCTED if p not in SOLUTIONS_LAST], ids=lambda p: p.name)
def test_solutions_run_for_the_instructor(path):
    """Run All in a fresh kernel with SCALING_EXPLORER_SOLUTIONS=1, for notebooks with code after a solution."""
    nb = nbformat.read(path, as_version=4)
    _client(nb, path).execute(env=_env(solutions=True))
    _check_outputs(path, nb.cells)
    _check_solutions_printed(path, _solution_cells(nb))


def test_the_instructors_run_is_shared_only_where_it_equals_a_fresh_one():
    """``_solutions_come_last`` refuses a notebook whose solutions are followed by code, read
    SHOW_SOLUTIONS elsewhere or do something with solutions hidden; notebooks 01-07 qualify, 08 does not."""
    names = {p.name[:2] for p in SOLUTIONS_LAST}
    assert names == {"01", "02", "03", "04", "05", "06", "07"}, names

    def notebook(*cells):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": ["solution"]} if solution else {})
                    for source, solution in cells]
        return nb

    setup = (FLAG, False)
    solution = ("# Solution\nif SHOW_SOLUTIONS:\n    print(1)", True)
    assert _solutions_come_last(notebook(setup, ("x = 1", False), solution, solution))
    assert not _solutions_come_last(notebook(setup, solution, ("x = 1", False)))
    assert not _solutions_come_last(notebook(setup, ("print(SHOW_SOLUTIONS)", False), solution))
    with_else = "# Solution\nif SHOW_SOLUTIONS:\n    x = 1\nelse:\n    x = 2"
    assert not _solutions_come_last(notebook(setup, (with_else, True)))
    reads_env = ('print(os.environ["SCALING_EXPLORER_SOLUTIONS"])', False)
    assert not _solutions_come_last(notebook(setup, reads_env, solution))
    # A comment or a magic may name them.
    assert _solutions_come_last(notebook(("%matplotlib inline\n# SCALING_EXPLORER_SOLUTIONS=1 shows them\n" + FLAG,
                                          False), solution))
    assert not _solutions_come_last(notebook(setup, ("# Solution\nx = 2\nif SHOW_SOLUTIONS:\n    print(x)", True)))
    assert not _solutions_come_last(notebook(("x = 1", False)))
