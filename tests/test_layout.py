"""The package layout a newcomer can walk (issue 8), checked so that it cannot drift.

- every module under ``src/cnncourse``: a docstring naming its book section, an explicit
  ``__all__`` whose names exist, at most 320 lines, no ``import *``;
- no module imports another module's underscore name (private *modules* of public names,
  such as ``cnncourse._checks``, are the documented convention);
- no test imports a private cnncourse module or name;
- the map in ``DEVELOPERS.md`` names only paths that exist, and lists every notebook,
  assignment and top-level module of the package.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cnncourse import data, functional, training, widgets

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "cnncourse"
MAX_LINES = 320
SECTION = re.compile(r"\bSections? \d+\.\d+")

MODULES = sorted(PACKAGE.rglob("*.py"))
TESTS = sorted((ROOT / "tests").glob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def top_level_names(tree: ast.Module) -> set[str]:
    """Names a module binds at its top level (defs, classes, assignments, imports), read statically."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


def declared_all(tree: ast.Module) -> list[str] | None:
    """The strings listed in ``__all__``, or None when the module has none."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                for t in node.targets):
            return [element.value for element in node.value.elts]
    return None


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def imports(path: Path) -> list[tuple[str, str | None]]:
    """``(module, name)`` for every import in the file; ``name`` is None for ``import module``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level + (node.module or "")
            found += [(prefix, alias.name) for alias in node.names]
    return found


def private_attributes(path: Path, only_cnncourse: bool) -> list[str]:
    """``name._attr`` uses where ``name`` was bound by an import (of cnncourse only, if asked)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            pairs = [(alias.name, alias.asname or alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            origin = "." * node.level + (node.module or "")
            pairs = [(origin, alias.asname or alias.name) for alias in node.names]
        else:
            continue
        wanted = ("cnncourse", ".") if only_cnncourse else ("",)
        bound |= {name for origin, name in pairs if origin.startswith(wanted)}
    return [f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in bound and is_private(node.attr)]


def test_the_layout_finds_the_package_and_the_tests():
    assert PACKAGE / "functional" / "__init__.py" in MODULES and PACKAGE / "runtime.py" in MODULES
    assert ROOT / "tests" / "test_layout.py" in TESTS


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_module_has_a_section_docstring_all_and_a_readable_size(path):
    source = path.read_text()
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree) or ""
    assert SECTION.search(docstring), f"{relative(path)}: the module docstring must name a book section"
    lines = len(source.splitlines())
    assert lines <= MAX_LINES, f"{relative(path)} has {lines} lines; split it (at most ~300)"
    assert not any(name == "*" for _, name in imports(path)), f"{relative(path)} uses import *"
    exported = declared_all(tree)
    assert exported is not None, f"{relative(path)} has no explicit __all__"
    missing = [name for name in exported if name not in top_level_names(tree)]
    assert not missing, f"{relative(path)}: __all__ names {missing}, which the module does not define"


@pytest.mark.parametrize("path", MODULES, ids=relative)
def test_module_imports_no_other_modules_private_name(path):
    private = [f"from {module} import {name}" for module, name in imports(path)
               if name is not None and is_private(name)]
    private += private_attributes(path, only_cnncourse=False)
    assert not private, f"{relative(path)} uses other modules' private names: {private}; make them public"


@pytest.mark.parametrize("path", TESTS, ids=relative)
def test_tests_import_only_public_cnncourse_names(path):
    private = []
    for module, name in imports(path):
        if module.split(".")[0] != "cnncourse":
            continue
        if any(is_private(part) for part in module.split(".")) or (name is not None and is_private(name)):
            private.append(f"{module}{'' if name is None else ' import ' + name}")
    private += private_attributes(path, only_cnncourse=True)
    assert not private, f"{relative(path)} imports private cnncourse modules or names: {private}"


def test_the_static_all_check_sees_names_a_module_does_not_define():
    tree = ast.parse("import os\nfrom a import b as c\nX: int = 1\nY = Z = 2\n"
                     "def f(): pass\nclass K: pass\n__all__ = ['os', 'c', 'X', 'Y', 'Z', 'f', 'K', 'gone']\n")
    assert declared_all(tree)[-1] == "gone"
    assert [name for name in declared_all(tree) if name not in top_level_names(tree)] == ["gone"]


def test_the_checker_sees_private_imports(tmp_path):
    """The checks above would fail on the imports the old layout had."""
    sample = tmp_path / "sample.py"
    sample.write_text("from cnncourse._corr import check_float_tensor\nfrom .x import _helper\n"
                      "import cnncourse._idx\nimport torch\nfrom cnncourse import data as d\n"
                      "d._CLASSES, torch._C, self._x\n")
    assert imports(sample) == [("cnncourse._corr", "check_float_tensor"), (".x", "_helper"),
                               ("cnncourse._idx", None), ("torch", None), ("cnncourse", "data")]
    assert private_attributes(sample, only_cnncourse=True) == ["d._CLASSES"]
    assert sorted(private_attributes(sample, only_cnncourse=False)) == ["d._CLASSES", "torch._C"]
    names = ("_helper", "__version__", "check", "_checks")
    assert [is_private(name) for name in names] == [True, False, False, True]


# What notebooks, assignments and students import: the layout may move code, never these names.
PUBLIC_NAMES = {
    "cnncourse.functional": ("corr2d corr2d_fast corr2d_as_matmul corr2d_multi_in corr2d_multi_in_out "
                             "corr2d_multi_in_out_1x1 conv2d pool2d pool2d_batched conv_output_shape "
                             "conv_transpose_output_shape batch_norm"),
    "cnncourse.widgets": ("conv_explorer kernel_explorer pooling_explorer receptive_field_explorer "
                          "feature_map_explorer ConvExplorer ConvKernelExplorer PoolingExplorer "
                          "ReceptiveFieldExplorer FeatureMapExplorer"),
    "cnncourse.data": ("DATASETS DIGITS_CLASSES FASHION_MNIST_CLASSES DatasetInfo text_labels resize_images "
                       "load_digits_tensors load_fashion_mnist_tensors fashion_mnist_cached load_data "
                       "load_course_data FASHION_MNIST_URL FASHION_MNIST_SHA256 cache_dir download_file "
                       "fetch_files read_idx"),
    "cnncourse.training": "quick_mode default_device set_seed init_xavier evaluate fit plot_history",
}


@pytest.mark.parametrize("module", [functional, widgets, data, training], ids=lambda m: m.__name__)
def test_every_name_the_course_imports_is_still_public(module):
    name = module.__name__
    missing = [n for n in PUBLIC_NAMES[name].split() if n not in module.__all__ or not hasattr(module, n)]
    assert not missing, f"{name} no longer exports {missing}"


def map_paths() -> list[str]:
    """Every backquoted path in the map section of DEVELOPERS.md."""
    text = (ROOT / "DEVELOPERS.md").read_text()
    section = text.split("## Map: where each concept lives", 1)[1].split("\n## ", 1)[0]
    return [token for token in re.findall(r"`([^`\s]+)`", section) if "/" in token]


def test_the_map_in_developers_md_names_only_paths_that_exist():
    paths = map_paths()
    assert len(paths) > 30
    missing = sorted({p for p in paths if not (ROOT / p).exists()})
    assert not missing, f"DEVELOPERS.md's map names paths that do not exist: {missing}"


def test_the_map_lists_every_notebook_assignment_and_top_level_module():
    listed = {p.rstrip("/") for p in map_paths()}
    wanted = [relative(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    wanted += [relative(p) for p in sorted((ROOT / "course" / "source").glob("*/*.ipynb"))]
    wanted += [relative(p) for p in sorted(PACKAGE.iterdir())
               if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()]
    absent = [p for p in wanted if p not in listed]
    assert not absent, f"add these to the map in DEVELOPERS.md: {absent}"
