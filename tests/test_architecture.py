"""The import graph follows the house plan (/work/shared/ARCHITECTURE.md, 'Rooms'): arrows point down.

Read from the source with ast (nothing is imported): every `from .x import ...` and `from . import x`,
at the top or inside a function.  Rules: no cycles (the op table's two files, ops.py and the entries in
table.py, are one room); the rooms the plan names import only what it allows; nothing imports the
command line; and no module reaches into another's private names (`from .engine import _compute`,
`node._prev` outside the engine).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "autodiff_cli"

# What each room may import from the package, as ARCHITECTURE.md's table says (errors is everyone's;
# formulas is the op table's little language, labels the views' naming helper, limits the shared limits).
ALLOWED = {
    "formulas": set(),
    "ops": {"errors", "formulas", "table"},
    "table": {"ops"},
    "careful": {"ops", "errors", "formulas"},  # the engine's error path: the rules in decimal numbers
    "engine": {"ops", "errors", "formulas", "careful", "rulecode"},
    "rulecode": {"ops", "formulas"},
    "dual": {"ops", "formulas", "engine", "careful"},
    "symbolic": {"simplify", "derivatives", "printer"},  # gathers the three rooms' public names
    "simplify": {"engine", "exact", "limits", "signs"},
    "exact": {"ops"},
    "signs": {"engine", "ops"},
    "derivatives": {"engine", "ops", "errors", "limits", "simplify"},
    "printer": {"engine", "ops", "errors", "limits"},
    "compile": {"engine", "compile_writer", "expression"},
    "compile_writer": {"engine", "ops", "formulas", "compile_rules", "peephole"},
    "compile_rules": {"ops", "peephole"},
    "peephole": set(),
    "labels": {"engine", "formulas"},
    "explain": {"engine", "ops", "labels"},
    "export": {"engine", "ops", "errors", "files", "labels", "limits"},
    "files": {"errors"},
    "html_explain": {"engine", "ops", "errors", "explain", "html_layout", "limits", "columns", "export"},
    "html_layout": {"errors", "explain", "columns", "export"},
    "render": {"columns", "tree_view", "functions_view", "explain_tables", "notebook"},  # gathers the views
    "columns": set(),
    "array_text": {"columns"},  # arrays as text: NumPy's layout, summaries, element names
    "tree_view": {"engine", "columns", "labels"},
    "functions_view": {"ops", "columns"},
    "explain_tables": {"explain", "columns"},
    "notebook": {"engine", "export", "limits", "tree_view"},
    "nn": {"engine"},
    "optim": {"engine"},
    "losses": {"engine"},
    # the same on tensors (issue 15): layers, losses and optimizers built on the Tensor layer
    "tensor.nn": {"ops", "errors", "tensor.backends", "tensor.creation", "tensor.elementwise", "tensor.tensor"},
    "tensor.losses": {"errors", "tensor.reductions", "tensor.tensor"},
    "tensor.optim": {"ops", "errors", "tensor.tensor"},
    "errors": set(),
    "tensor.backends.python_backend": {"tensor.backends", "tensor.backends.python_storage", "ops", "errors", "rulecode",
                                       "careful", "formulas", "tensor.backends.python_columns",
                                       "tensor.backends.square"},
    # Gaussian elimination on any numbers (floats, Values), and the square-matrix kernels made of it
    "tensor.backends.lu": set(),
    "tensor.backends.square": {"tensor.backends", "tensor.backends.lu"},
    "tensor.backends.numpy_square": {"tensor.backends"},
    # scalar Values as a backend's numbers: a tensor program expanded into its scalar graph (for the exact Hessian)
    "tensor.backends.value_backend": {"tensor.backends", "tensor.backends.python_storage", "tensor.backends.square",
                                      "tensor.backends.python_columns", "engine", "errors", "formulas", "limits",
                                      "ops"},
    "tensor.backends.python_storage": {"errors"},
    # the NumPy backend: the table's rules translated to NumPy, the scalar engine's rules on its error path
    "tensor.backends.numpy_backend": {"tensor.backends", "tensor.backends.numpy_rules", "tensor.backends.numpy_bounds",
                                      "ops", "errors", "rulecode", "careful", "tensor.backends.numpy_square"},
    "tensor.backends.numpy_rules": {"ops", "formulas"},
    "tensor.backends.numpy_bounds": {"ops", "tensor.backends.numpy_rules"},
    # the Tensor layer: the node and backward() below, the operations above it, __init__ gathering them
    "tensor.nested": {"errors"},
    "tensor.tensor": {"ops", "errors", "tensor.backends", "tensor.nested"},
    "tensor.elementwise": {"ops", "formulas", "tensor.tensor"},
    "tensor.shapes": {"errors", "tensor.tensor"},
    "tensor.reductions": {"errors", "tensor.elementwise", "tensor.shapes", "tensor.tensor"},
    "tensor.linalg": {"errors", "tensor.backends", "tensor.elementwise", "tensor.shapes", "tensor.tensor"},
    "tensor.linsolve": {"errors", "tensor.backends", "tensor.tensor"},
    "tensor.functional": {"engine", "errors", "limits", "tensor.backends", "tensor.backends.value_backend",
                          "tensor.tensor"},
    "tensor.softmax": {"tensor.shapes", "tensor.tensor"},
    "tensor.creation": {"errors", "tensor.backends", "tensor.nested", "tensor.shapes", "tensor.tensor"},
    "tensor.__init__": {"errors", "ops", "tensor.backends", "tensor.creation", "tensor.elementwise",
                        "tensor.functional", "tensor.linalg", "tensor.linsolve", "tensor.reductions", "tensor.shapes",
                        "tensor.softmax", "tensor.tensor"},
    "tensor.backends.python_columns": set(),
    # train and predict (issue 15): tables, the model and its file, the trainer on tensor networks; the scalar
    # nn is the trainer's reference (forward_floats), imported for its type only
    "data": {"errors"},
    "charts": set(),
    "trained": {"data", "errors", "ops", "tensor", "tensor.backends", "tensor.tensor"},
    "training": {"data", "errors", "limits", "nn", "ops", "tensor", "tensor.backends", "trained"},
    "modelfile": {"data", "errors", "limits", "tensor", "trained"},
    # the views of Tensor graphs: read the graph (tensor_graph), name the rules, lay out, draw
    # (each names the Tensor type for type checking only: "tensor")
    "tensor_graph": {"columns", "tensor", "tensor.tensor"},
    "tensor_rules": {"ops", "explain", "tensor"},
    "tensor_explain": {"errors", "tensor", "tensor_graph", "tensor_rules"},
    "tensor_explain_text": {"array_text", "columns", "tensor_graph", "tensor_explain"},
    "tensor_export": {"ops", "export", "tensor", "tensor_graph", "tree_view"},
    # the tensor expression language: route (standard library only), the builder and its program, bindings
    "texpr.__init__": set(),  # names loaded on first use (importlib)
    "texpr.route": set(),
    "texpr.nodes": set(),
    "texpr.functions": {"errors", "limits", "notation", "ops", "texpr.nodes"},
    "texpr.builder": {"errors", "limits", "notation", "ops", "texpr.functions", "texpr.nodes"},
    "texpr.evaluate": {"errors", "limits", "tensor", "tensor.backends", "texpr.nodes"},
    "texpr.program": {"errors", "limits", "ops", "parser", "parser_driver", "parser_errors", "tensor",
                      "texpr.builder", "texpr.evaluate", "texpr.nodes"},
    "texpr.bindings": {"errors", "limits", "notation", "ops", "parser", "tensor", "tensor.backends"},
}
# The op table (machinery and entries), and the parser with the generator of its LALR tables
# (tablegen reads the grammar through the parser; the parser falls back on tablegen when the
# grammar changed since the tables were made).
ONE_ROOM = {("ops", "table"), ("table", "ops"), ("parser", "tablegen"), ("tablegen", "parser")}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _imports(path: Path) -> set[str]:
    """The package modules a file imports, by dotted name relative to the package."""
    found = set()
    here = list(path.relative_to(PACKAGE).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = here[: len(here) - (node.level - 1)]
            if node.module:
                found.add(".".join([*base, *node.module.split(".")]))
            else:
                found |= {".".join([*base, a.name]) for a in node.names}
    return {m for m in found if (PACKAGE / (m.replace(".", "/") + ".py")).exists() or
            (PACKAGE / m.replace(".", "/")).is_dir()}


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_rooms_import_only_what_the_plan_allows():
    graph = _graph()
    for room, allowed in ALLOWED.items():
        assert room in graph, room
        extra = graph[room] - allowed
        assert not extra, f"{room} imports {sorted(extra)}"


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(start: str) -> None:
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if (node, child) in ONE_ROOM:
                    continue
                assert state.get(child) != 1, f"import cycle through {node} -> {child}"
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(sorted(graph.get(child, ())))))
                    break
            else:
                state[node] = 2
                stack.pop()

    for module in graph:
        if module not in state:
            visit(module)


def test_nothing_imports_the_command_line():
    for module, imports in _graph().items():
        if module.startswith("cli") or module == "__main__":
            continue
        assert not {m for m in imports if m == "cli" or m.startswith("cli.")}, module


def _private_definitions(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            names.add(node.value)  # __slots__ entries
    return {n for n in names if n.startswith("_")}


def _is_private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    ipython = name.startswith("_repr_") and name.endswith("_")  # Jupyter's display protocol
    return name.startswith("_") and not dunder and not ipython


def test_no_module_reaches_into_another_modules_private_names():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = _private_definitions(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                private = [a.name for a in node.names if _is_private(a.name)]
                assert not private, f"{_module(path)} imports {private} from .{node.module or ''}"
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                assert node.attr in own, f"{_module(path)}:{node.lineno} reads .{node.attr}, private elsewhere"


def test_the_engine_backward_fits_on_one_screen():
    import inspect

    from autodiff_cli.engine import Value

    lines = inspect.getsource(Value.backward).splitlines()
    assert len(lines) <= 60, len(lines)


# A room a newcomer can hold in mind: about 400 lines at most (teenygrad asserts its size the same way).
ROOM_LINES = 400
# A room allowed a little more, with the reason and its own ceiling: it may not grow past that unnoticed.
ALLOWED_OVER = {
    # Value's operators, its backward pass and their error paths share the node's private fields (_prev, _op,
    # _pending), which no other room may touch; the code the table generates for it lives in rulecode.py.
    "engine.py": 440,
}
# Written by a program, read by none: the parser's LALR tables (python -m autodiff_cli.tablegen).
GENERATED = {"grammar_tables.py"}


def test_every_room_fits_in_a_newcomer_s_head():
    over = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if name not in GENERATED and lines > ALLOWED_OVER.get(name, ROOM_LINES):
            over[name] = lines
    assert not over, f"split these rooms along their seams: {over}"
