"""The compiler's peephole pass: a temporary read once, whose arithmetic cannot raise, is written where it is read.

Python stores and loads every named temporary; `t4 = t2 + v2` with `t2 = v0 * v1`
read nowhere else is faster as `t4 = v0 * v1 + v2`.  The syntax trees are moved,
never rewritten, so every value is the same to the last bit.  Standard library only.
"""

from __future__ import annotations

import ast
import bisect

__all__ = ["inline_single_uses", "number"]


def number(node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        return node.value
    return None


_PURE_OPS = (ast.Add, ast.Sub, ast.Mult)
_MAX_INLINED = 12  # operations in one statement, at most: short lines, and no expression too deep to compile


def _scan(tree: ast.AST, parent: ast.AST | None = None) -> tuple[list[tuple[ast.Name, ast.AST, str, int]], int, bool]:
    """The names in tree with where each sits (parent, field, index or -1), the operations, and purity.

    parent: the statement whose value tree is, if it is one.
    Pure: arithmetic that cannot raise, + - * and negation of names and numbers, division by a number
    that is not 0.  Written out for the node types generated code uses (ast.walk is much slower).
    """
    names: list[tuple[ast.Name, ast.AST, str, int]] = []
    ops, pure = 0, True
    stack: list[tuple[ast.AST, ast.AST | None, str, int]] = [(tree, parent, "value", -1)]
    while stack:
        node, parent, field, index = stack.pop()
        kind = type(node)
        if kind is ast.Name:
            names.append((node, parent, field, index))  # type: ignore[arg-type]
        elif kind is ast.BinOp:
            ops += 1
            op = type(node.op)  # type: ignore[attr-defined]
            if op is ast.Div:
                pure = pure and bool(number(node.right))  # type: ignore[attr-defined]
            elif op not in _PURE_OPS:
                pure = False
            stack += [(node.right, node, "right", -1), (node.left, node, "left", -1)]  # type: ignore[attr-defined]
        elif kind is ast.UnaryOp:
            ops += 1
            pure = pure and type(node.op) is ast.USub  # type: ignore[attr-defined]
            stack.append((node.operand, node, "operand", -1))  # type: ignore[attr-defined]
        elif kind is not ast.Constant:
            pure = False
            for name, value in reversed(list(ast.iter_fields(node))):
                if isinstance(value, ast.AST):
                    stack.append((value, node, name, -1))
                elif isinstance(value, list):
                    stack += [(v, node, name, i) for i, v in reversed(list(enumerate(value))) if isinstance(v, ast.AST)]
    return names, ops, pure


def inline_single_uses(statements: list[str]) -> list[str]:
    """Write each temporary that is read once, and whose arithmetic cannot raise, where it is read.

    Python stores and loads every named temporary; `t4 = t2 + v2` with `t2 = v0 * v1` read nowhere
    else is faster as `t4 = v0 * v1 + v2`.  The operations and their operands are the same (the
    syntax tree is moved, not rewritten), so every value is the same to the last bit; only + - *,
    negation and division by a number move, which cannot raise, so the errors come in the same order.
    `x += a` is read as a new x (x + a): the first sum of an adjoint and the ones after it join.
    A temporary stays where a name it reads is assigned again before its use.  Lines starting with
    '#' are comments; a statement that is not an assignment or a return (try, if) stays as it is.
    """
    first_line, line = [], 1
    for text in statements:
        first_line.append(line)
        line += text.count("\n") + 1
    position = {n: k for k, n in enumerate(first_line)}
    trees: list[ast.stmt | None] = [None] * len(statements)
    for tree in ast.parse("\n".join(statements)).body:  # one parse for the whole function
        if isinstance(tree, ast.AugAssign) and isinstance(tree.target, ast.Name):  # x op= a: x = x op a
            load = ast.Name(id=tree.target.id, ctx=ast.Load())
            value = ast.BinOp(left=load, op=tree.op, right=tree.value)
            tree = ast.Assign(targets=[tree.target], value=value, lineno=tree.lineno)
        trees[position[tree.lineno]] = tree
    # every name read, resolved to the statement that assigned it (reads of a statement come before its writes)
    assigned: dict[str, list[int]] = {}
    uses: dict[int, list[tuple[int, ast.Name]]] = {}
    where: dict[int, tuple[ast.AST, str, int]] = {}  # id of a Name read -> its parent, field and index
    latest: dict[str, int] = {}
    reads: dict[int, set[str]] = {}
    size: dict[int, int] = {}
    pure: dict[int, bool] = {}
    for k, tree in enumerate(trees):
        if tree is None:
            continue
        names, size[k], pure[k] = _scan(tree.value, tree) if isinstance(tree, ast.Assign) else _scan(tree)
        reads[k] = {n.id for n, *_ in names if isinstance(n.ctx, ast.Load)}
        for n, parent, field, index in names:
            if isinstance(n.ctx, ast.Load) and n.id in latest:
                uses.setdefault(latest[n.id], []).append((k, n))
                where[id(n)] = (parent, field, index)
        stored = [t.id for t in tree.targets if isinstance(t, ast.Name)] if isinstance(tree, ast.Assign) else [
            n.id for n, *_ in names if isinstance(n.ctx, ast.Store)
        ]
        for name in stored:
            latest[name] = k
            assigned.setdefault(name, []).append(k)
    moved: set[int] = set()
    changed: set[int] = set()

    def assigned_between(name: str, d: int, k: int) -> bool:
        where = assigned.get(name, [])
        i = bisect.bisect_right(where, d)
        while i < len(where) and where[i] < k:
            if where[i] not in moved:
                return True
            i += 1
        return False

    for d, tree in enumerate(trees):
        if not (isinstance(tree, ast.Assign) and pure[d] and len(uses.get(d, ())) == 1):
            continue
        k, name = uses[d][0]
        if not isinstance(trees[k], ast.Assign | ast.Return) or size[k] + size[d] > _MAX_INLINED:
            continue
        if any(assigned_between(r, d, k) for r in reads[d]):
            continue
        parent, field, index = where[id(name)]
        if index < 0:
            setattr(parent, field, tree.value)
        else:
            getattr(parent, field)[index] = tree.value
        if isinstance(tree.value, ast.Name):  # an alias: it now sits where the name was
            where[id(tree.value)] = where[id(name)]
        size[k] += size[d]
        reads[k] |= reads[d]
        moved.add(d)
        changed.add(k)
    out = []
    for k, (text, tree) in enumerate(zip(statements, trees, strict=True)):
        if k in moved:
            continue
        if k not in changed or tree is None:
            out.append(text)
            continue
        comment = text.partition("  # ")[2]
        out.append(_unparse(tree) + (f"  # {comment}" if comment else ""))
    return out


def _unparse(tree: ast.stmt) -> str:
    """An assignment or a return as generated code writes it: x += a, return a, b."""
    if isinstance(tree, ast.Return) and isinstance(tree.value, ast.Tuple):
        items = [ast.unparse(e) for e in tree.value.elts]
        return "return " + ", ".join(items) + ("," if len(items) == 1 else "")
    if isinstance(tree, ast.Assign):
        target, value = tree.targets[0], tree.value
        if (
            isinstance(target, ast.Name) and isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add | ast.Sub)
            and isinstance(value.left, ast.Name) and value.left.id == target.id
        ):
            return f"{target.id} {'+' if isinstance(value.op, ast.Add) else '-'}= {ast.unparse(value.right)}"
    return ast.unparse(tree)
