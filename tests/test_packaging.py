"""The two ways of installing the course (pip and conda) must agree, and the README's two
commands must be the ones CI and the Makefile really run."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = {}
    for spec in specs:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([0-9][^\s;]*)", spec)
        assert match, f"pyproject.toml: {spec!r} is not pinned exactly (name==version)"
        pins[_norm(match[1])] = match[2]
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                if line.startswith("-"):
                    continue
                name, version = line.split("==")
                pins[_norm(name)] = version
        elif not dep.startswith(("python=", "pip")) or dep.startswith("pip=="):
            name, version = dep.split("=", 1)
            pins[_norm(name)] = version.lstrip("=")
    return pins


def test_environment_yml_pins_the_same_packages_and_versions_as_pyproject():
    assert _environment_pins() == _pyproject_pins()


def test_environment_yml_uses_python_311_from_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    assert "python=3.11" in env["dependencies"]


def test_torch_is_pinned_to_the_local_cpu_build():
    assert _pyproject_pins()["torch"] == "2.13.0"


def test_readme_opens_with_the_lab_and_test_commands():
    text = (ROOT / "README.md").read_text()
    commands = re.findall(r"^\s*\$?\s*(make \w+)\s*$", text.split("\n## ", 1)[0], flags=re.M)
    assert commands[:2] == ["make lab", "make test"], commands


def test_ci_runs_exactly_the_readme_test_command():
    lines = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines()]
    assert lines[-1] == "make test"


def test_make_test_lints_then_runs_every_test():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: system-requirements lint$", makefile, flags=re.M)
    assert re.search(r"^lint: .*\n\t\$\(BIN\)/ruff check \.$", makefile, flags=re.M)
    test_recipe = re.search(r"^test: system-requirements lint\n((?:\t.*\n)+)", makefile, flags=re.M)[1]
    assert "-m pytest" in test_recipe
    assert not re.search(r"pytest.* -m ", test_recipe), "make test must not deselect any marker"
