"""Packaging: environment.yml (conda/Binder) against pyproject.toml, the extras, and one version number."""

import ast
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
WIDGET_STACK = {"ipywidgets", "ipympl", "jupyterlab", "voila", "anywidget"}


def _split(spec: str) -> tuple[str, str]:
    name, version = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec.strip()).groups()
    return name.lower(), version.replace(" ", "")


def test_environment_yml_is_the_library_plus_the_app_extra():
    project = PROJECT["project"]
    pip_deps = dict(_split(d) for d in [*project["dependencies"], *project["optional-dependencies"]["app"]])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    conda_deps = dict(_split(d) for d in conda if not d.startswith(("python", "pip")))
    assert conda_deps == pip_deps
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e .[app]" in pip_section, "environment.yml must install the package with the page's extra"


def test_the_library_installs_without_the_widget_stack():
    project = PROJECT["project"]
    core = {_split(d)[0] for d in project["dependencies"]}
    assert not core & WIDGET_STACK, f"the widget stack belongs in the app extra: {core & WIDGET_STACK}"
    app = {_split(d)[0] for d in project["optional-dependencies"]["app"]}
    assert WIDGET_STACK <= app
    assert any("[app" in d for d in project["optional-dependencies"]["test"])  # tests and `make demo` get it


def test_one_version_number():
    from importlib.metadata import version

    import scaling_explorer

    assert "version" not in PROJECT["project"] and "version" in PROJECT["project"]["dynamic"]
    assert PROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "scaling_explorer.__version__"}
    # setuptools reads the attribute statically: it must be a literal in __init__.py
    tree = ast.parse((ROOT / "src" / "scaling_explorer" / "__init__.py").read_text())
    (literal,) = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
                  and any(getattr(t, "id", None) == "__version__" for t in node.targets)]
    assert re.fullmatch(r"\d+\.\d+\.\d+", literal) and scaling_explorer.__version__ == literal
    # the installed metadata agrees (re-install after bumping it: `make .venv/.installed`)
    assert version("scaling-explorer") == literal


def test_python_pin_is_supported():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pin = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    pinned = tuple(map(int, pin.split("=")[1].split(".")[:2]))
    required = tuple(map(int, PROJECT["project"]["requires-python"].removeprefix(">=").split(".")))
    assert pinned >= required, f"environment.yml pins Python {pinned}, below requires-python {required}"
    assert sys.version_info[:2] >= required, f"running on {sys.version_info[:2]}, below requires-python {required}"


def test_the_app_without_its_extra_says_what_to_install(tmp_path):
    import subprocess

    # A stand-in ipywidgets that cannot be imported, first on the path: as if the extra were missing.
    (tmp_path / "ipywidgets").mkdir()
    (tmp_path / "ipywidgets" / "__init__.py").write_text("raise ImportError('No module named ipywidgets')\n")
    out = subprocess.run([sys.executable, "-c", "import scaling_explorer, scaling_explorer.cli; "
                          "import scaling_explorer.app"], capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1 and "pip install 'scaling-explorer[app]'" in out.stderr, out.stderr


def test_every_data_directory_is_a_listed_package():
    """A directory under data/ is importable as a (namespace) package: unlisted, setuptools warns at every
    install that it "would be ignored" (though package-data ships it), which misleads whoever installs."""
    listed = set(PROJECT["tool"]["setuptools"]["packages"])
    data_dirs = {"scaling_explorer.data." + p.name for p in (ROOT / "data").iterdir()
                 if p.is_dir() and not p.name.startswith((".", "__"))}
    assert data_dirs and data_dirs <= listed, f"add to [tool.setuptools] packages: {sorted(data_dirs - listed)}"
    package_data = PROJECT["tool"]["setuptools"]["package-data"]
    assert all(name in package_data for name in data_dirs), "each data package ships its files (package-data)"
