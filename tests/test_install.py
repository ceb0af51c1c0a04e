"""A plain (non-editable) install carries data/models.csv and data/lectures/: build the wheel, install it into a fresh
venv and run the CLI from an unrelated directory."""

import csv
import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, **kwargs):
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert out.returncode == 0, f"{args}\n{out.stdout}\n{out.stderr}"
    return out


def test_wheel_install_finds_the_catalog_from_any_directory(tmp_path):
    # Build from a copy of the sources so the checkout gets no build/ or egg-info directories.
    src = tmp_path / "src-copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", src / "src", ignore=ignore)
    shutil.copytree(ROOT / "data", src / "data", ignore=ignore)
    shutil.copytree(ROOT / "share", src / "share", ignore=ignore)
    wheels = tmp_path / "wheels"
    # --no-build-isolation: the test venv's setuptools builds it, so no download is needed.
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, src)
    # setuptools warns about a data directory under the package that is not a listed package (issue 19)
    assert "would be ignored" not in built.stdout + built.stderr, "a data directory is missing from `packages`"
    (wheel,) = wheels.glob("scaling_explorer-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    assert "scaling_explorer/data/models.csv" in names and "scaling_explorer/data/README.md" in names
    # The offline Voila template lands in <prefix>/share/jupyter, where Voila looks for templates.
    # (every file of it: the page, and 503.html, the "class is full" page)
    for template in (ROOT / "share" / "jupyter" / "voila" / "templates" / "scaling-explorer").iterdir():
        path = template.relative_to(ROOT).as_posix()
        assert any(n.endswith(".data/data/" + path) for n in names), f"{path} is missing from the wheel"
    lectures = {p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data" / "lectures").glob("*.json")}
    assert lectures and {f"scaling_explorer/data/{p}" for p in lectures} <= names, "a lecture is missing from the wheel"
    labs = {p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data" / "labs").glob("*.json")}
    assert labs and {f"scaling_explorer/data/{p}" for p in labs} <= names, "a lab file is missing from the wheel"
    modules = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.py")}
    assert modules <= names, f"modules missing from the wheel (add the package to pyproject): {modules - names}"

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel)
    # Dependencies (numpy, pandas, ...) come from this test environment's site-packages, added as a
    # plain path: .pth files there (the editable install's finder among them) are not run.
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    Path(site, "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run(python, "-c", "import scaling_explorer.catalog as c; print(c.__file__); print(c.MODELS_CSV)",
                 cwd=elsewhere).stdout.split()
    assert all(Path(p).resolve().is_relative_to(venv.resolve()) for p in where), where

    out = _run(venv / "bin" / "scaling-explorer", "models", "--json", cwd=elsewhere)
    records = json.loads(out.stdout)
    with open(ROOT / "data" / "models.csv", newline="") as f:
        expected = [row["name"] for row in csv.DictReader(f)]
    assert [r["name"] for r in records] == expected
    assert all(isinstance(r["caveats"], list) for r in records)

    # The shipped lecture loads from the installed package, and each step's scenario validates.
    out = _run(python, "-c", "import scaling_explorer.lecture as L; lec = L.load_lecture('scaling-laws'); "
               "[L.step_scenario(lec, i) for i in range(len(lec))]; print(L.LECTURES_DIR); print(len(lec))",
               cwd=elsewhere)
    where, n_steps = out.stdout.split()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    with open(ROOT / "data" / "lectures" / "scaling-laws.json") as f:
        assert int(n_steps) == len(json.load(f)["steps"])
