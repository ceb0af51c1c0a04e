"""environment.yml (conda/Binder) and pyproject.toml (pip, CI) must list the same dependencies."""

import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(spec: str) -> tuple[str, str]:
    name, version = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec.strip()).groups()
    return name.lower(), version.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = dict(_split(d) for d in project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    conda_deps = dict(_split(d) for d in conda if not d.startswith(("python", "pip")))
    assert conda_deps == pip_deps
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section, "environment.yml must install the package itself"


def test_python_pin_is_supported():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pin = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    major, minor = map(int, pin.split("=")[1].split(".")[:2])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (major, minor) >= tuple(map(int, project["requires-python"].lstrip(">=").split(".")))
    assert sys.version_info >= (3, 10)
