"""The package's architecture, checked: folders are layers, imports go one way, none hide in functions.

Every import statement of every module under sim/ is read with ``ast``
(those inside functions too) and resolved to the module it names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent / "sim"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, inside a function) for every import of sim modules in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from sim.model import graph" imports the module sim.model.graph; "from sim.config import X", sim.config
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names
            ]
        else:
            continue
        found += [(name, node.lineno, id(node) in nested) for name in names if name == "sim" or name.startswith("sim.")]
    return found


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(MODULES)
    for name, path in MODULES.items():
        for target, _, _ in imported(path):
            g.add_edge(name, target)
    return g


def test_every_module_is_in_a_layer() -> None:
    top = {name for name in MODULES if name.count(".") == 1}
    assert top == {
        "sim.__main__",
        "sim.cli",
        "sim.config",
        "sim.experiments",
        "sim.model",
        "sim.run",
        "sim.submodels",
        "sim.validation",
        "sim.view",
    }


def test_no_import_cycle() -> None:
    cycles = list(nx.simple_cycles(graph()))
    assert cycles == [], f"import cycles: {cycles[:3]}"


def test_no_import_of_sim_inside_functions() -> None:
    hidden = [
        f"{name}:{line} imports {target}"
        for name, path in MODULES.items()
        for target, line, inner in imported(path)
        if inner
    ]
    assert hidden == []


def _targets(prefix: str) -> set[str]:
    g = graph()
    return {t for name in MODULES if name == prefix or name.startswith(prefix + ".") for t in g.successors(name)}


@pytest.mark.parametrize("layer", ["sim.config", "sim.model", "sim.submodels"])
def test_model_layers_do_not_import_the_engine(layer: str) -> None:
    upward = {t for t in _targets(layer) if t.split(".")[1] in ("run", "experiments", "cli", "validation", "view")}
    assert upward == set()


def test_config_depends_only_on_the_fixed_world() -> None:
    outside = {t for t in _targets("sim.config") if not t.startswith("sim.config")}
    assert outside == {"sim.model.world"}


def test_submodels_do_not_import_the_model_class_or_the_observer() -> None:
    assert not {
        t for t in _targets("sim.submodels") if t in ("sim.model.district", "sim.model.observe", "sim.model.initial")
    }


def test_experiments_reach_the_model_only_through_sim_model_and_sim_run() -> None:
    assert not {t for t in _targets("sim.experiments") if t.startswith("sim.submodels")}


def test_the_view_reaches_the_model_only_through_config_model_and_run():
    """The student view shows whatever the model is: sim.config, sim.model, sim.run, never the submodels."""
    outside = {t for t in _targets("sim.view") if not t.startswith("sim.view")}
    assert outside and all(t.split(".")[1] in ("config", "model", "run") for t in outside), sorted(outside)


def test_nothing_else_imports_the_view():
    """sim.view needs the optional viz extra (solara): no other layer may import it, the CLI included."""
    g = graph()
    outside = [name for name in MODULES if not name.startswith("sim.view")]
    assert not [name for name in outside if any(t.startswith("sim.view") for t in g.successors(name))]


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The checks above would miss nothing: a hidden import and a cycle are found in a toy module."""
    path = tmp_path / "toy.py"
    path.write_text("import numpy\n\ndef f():\n    from sim.model import graph\n    return graph\n")
    assert imported(path) == [("sim.model.graph", 4, True)]
