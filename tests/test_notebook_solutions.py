"""Notebook 06 with its hidden exercise solutions switched on (tests/test_notebooks.py runs it with them off)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06-beyond-chinchilla.ipynb"


def _run(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_solutions_are_hidden_by_default_and_run_when_asked(monkeypatch):
    monkeypatch.delenv("SCALING_EXPLORER_SOLUTIONS", raising=False)
    hidden = _run(NOTEBOOK)
    assert "cheapest over the lifetime" not in hidden and "SCALING_EXPLORER_SOLUTIONS=1" in hidden
    monkeypatch.setenv("SCALING_EXPLORER_SOLUTIONS", "1")
    shown = _run(NOTEBOOK)
    # The solutions assert their own answers; here they must all have printed.
    assert "cheapest over the lifetime" in shown and "epochs; unlimited data" in shown and "Llama 3 8B" in shown
