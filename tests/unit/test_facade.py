"""``server/`` and ``dashboard/`` use the ``Mirror`` facade's use cases, never its parts.

Every attribute read (or call) on an expression that is the mirror — a name ``mirror``,
anything's ``.mirror`` (``ctx.mirror``, ``request[CONTEXT].mirror``), ``mirror_of(...)``,
a parameter annotated ``Mirror``, or a local name assigned one of these — must be a
public method or property of the ``Mirror`` class. What ``Mirror.__init__`` assigns
(``index``, ``fills``, ``pool``, ``clock``, ...) are its parts: reaching them from the
server or the dashboard fails here.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import hubmirror
from hubmirror.mirror.service import Mirror

SOURCE = Path(hubmirror.__file__).parent
CHECKED = ("server", "dashboard")

# Reach-throughs in modules other helpers are rewriting at the same time (the resolve
# plan; the Xet use cases), as (module, attribute). Only these may stay until their
# branches are merged; then this set is emptied (the check below says when).
PENDING_OTHER_HELPERS: set[tuple[str, str]] = set()


def facade() -> frozenset[str]:
    """Public methods and properties defined on the class (instance attributes are parts)."""
    return frozenset(
        name
        for name, value in inspect.getmembers(Mirror)
        if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, property))
    )


def reach_throughs(source: str, allowed: frozenset[str]) -> list[tuple[int, str]]:
    """(line, attribute) of every attribute of the mirror read in ``source`` that is not
    in ``allowed``."""
    tree = ast.parse(source)
    names = _mirror_names(tree)
    return sorted(
        (node.lineno, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and _is_mirror(node.value, names)
        and node.attr not in allowed
    )


def _is_mirror(node: ast.expr, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Attribute):
        return node.attr == "mirror"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id == "mirror_of"
    return False


def _mirror_names(tree: ast.Module) -> set[str]:
    """``mirror``, parameters annotated ``Mirror``, and names assigned a mirror expression
    (followed until nothing changes: an alias of an alias is the mirror too)."""
    names = {"mirror"}
    names |= {
        node.arg
        for node in ast.walk(tree)
        if isinstance(node, ast.arg) and _annotation(node) in _MIRROR_TYPES
    }
    while True:
        found = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr)
            and node.value is not None
            and _is_mirror(node.value, names)
            for target in _targets(node)
            if isinstance(target, ast.Name)
        }
        if found <= names:
            return names
        names |= found


_MIRROR_TYPES = ("Mirror", "Mirror | None", "'Mirror'")


def _annotation(arg: ast.arg) -> str | None:
    return ast.unparse(arg.annotation) if arg.annotation is not None else None


def _targets(node: ast.Assign | ast.AnnAssign | ast.NamedExpr) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def _found_in_package() -> set[tuple[str, str, int]]:
    allowed = facade()
    found = set()
    for package in CHECKED:
        for path in sorted((SOURCE / package).rglob("*.py")):
            module = path.relative_to(SOURCE).as_posix()
            for line, attr in reach_throughs(path.read_text("utf-8"), allowed):
                found.add((module, attr, line))
    return found


def test_server_and_dashboard_call_only_the_mirror_facade():
    found = _found_in_package()
    unexpected = sorted(f for f in found if f[:2] not in PENDING_OTHER_HELPERS)
    assert unexpected == [], "reach into the mirror's parts; add a use case to Mirror instead"
    fixed = PENDING_OTHER_HELPERS - {f[:2] for f in found}
    assert fixed == set(), "fixed already: remove these from PENDING_OTHER_HELPERS"


def test_the_facade_check_catches_reaches_into_the_mirrors_parts():
    source = """
async def handler(request):
    mirror = mirror_of(request)
    await mirror.api(route, [], None, None)
    return mirror.fills.running

def page(ctx, viewer):
    if ctx.mirror.may_see(viewer, repo):
        return ctx.mirror.index.known_repos()
    return ctx.mirror.clock()

def render(m: Mirror, context):
    alias = context.mirror
    again = alias
    return m.served, again.pool.stats, mirror_of(request).store.tmp, mirror_of(request).status()
"""
    assert reach_throughs(source, facade()) == [
        (5, "fills"),
        (9, "index"),
        (10, "clock"),
        (15, "pool"),
        (15, "served"),
        (15, "store"),
    ]


def test_the_facade_offers_use_cases_not_its_parts():
    offered = facade()
    assert {"status", "store_usage", "decide_approval", "audit_entries", "node_fill"} <= offered
    assert not offered & {"index", "fills", "pool", "served", "audit", "clock", "shared"}
