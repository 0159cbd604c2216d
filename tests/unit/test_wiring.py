"""The mirror is wired once, through constructors: nothing is hooked onto a built object.

``open_mirror`` (runtime.py) and ``Mirror.__init__`` build every part with what it needs.
A callback or collaborator assigned afterwards (``fills.on_shared = ...``) hides a
dependency from the constructor's signature and from the order things are built in, so
these checks read the source: the composition code assigns attributes only to ``self``,
and nowhere is a function assigned onto another object.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "hubmirror"
COMPOSITION = ("runtime.py", "mirror/service.py")


def assignments(tree: ast.AST) -> list[tuple[int, ast.expr, ast.expr | None]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            found += [(node.lineno, target, node.value) for target in node.targets]
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            found.append((node.lineno, node.target, node.value))
    return found


def onto_another_object(target: ast.expr) -> bool:
    """``a.b = ...`` or ``self.a.b = ...``: an attribute of something other than ``self``."""
    if not isinstance(target, ast.Attribute):
        return False
    return not (isinstance(target.value, ast.Name) and target.value.id == "self")


def hooked_after_construction(source: str) -> list[str]:
    """Composition code: every attribute assignment that is not ``self.name = ...``."""
    return [
        f"line {line}: {ast.unparse(target)} = ..."
        for line, target, _value in assignments(ast.parse(source))
        if onto_another_object(target)
    ]


def callbacks_assigned(source: str) -> list[str]:
    """Anywhere: a lambda assigned to an attribute of another object."""
    return [
        f"line {line}: {ast.unparse(target)} = lambda ..."
        for line, target, value in assignments(ast.parse(source))
        if onto_another_object(target) and isinstance(value, ast.Lambda)
    ]


def hooked_onto_collaborators(source: str) -> list[str]:
    """Anywhere: an ``__init__`` that sets an attribute on an object it was given."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.FunctionDef) and node.name == "__init__"):
            continue
        given = {a.arg for a in node.args.args[1:] + node.args.kwonlyargs}
        for line, target, _value in assignments(node):
            root = target
            while isinstance(root, ast.Attribute):
                root = root.value
            if target is not root and isinstance(root, ast.Name) and root.id in given:
                found.append(f"line {line}: {ast.unparse(target)} = ...")
    return found


def test_composition_assigns_attributes_only_to_the_object_being_built():
    hooked = {name: hooked_after_construction((SRC / name).read_text()) for name in COMPOSITION}
    assert {name: found for name, found in hooked.items() if found} == {}


def test_no_callback_is_hooked_onto_an_object_anywhere():
    hooked = {
        str(path.relative_to(SRC)): callbacks_assigned(path.read_text())
        for path in SRC.rglob("*.py")
    }
    assert {name: found for name, found in hooked.items() if found} == {}


def test_no_constructor_hooks_itself_onto_what_it_was_given():
    hooked = {
        str(path.relative_to(SRC)): hooked_onto_collaborators(path.read_text())
        for path in SRC.rglob("*.py")
    }
    assert {name: found for name, found in hooked.items() if found} == {}


def test_the_checks_catch_wiring_after_construction():
    source = (
        "def open_mirror():\n"
        "    mirror = Mirror()\n"
        "    shared.tier.busy = mirror.blob_in_use\n"
        "    mirror.fills.upstream = XetOrigin(mirror.fills.upstream)\n"
        "    self.access.is_offline = lambda: self.pool.offline\n"
        "    self.quota = Quota(self)\n"
    )
    assert hooked_after_construction(source) == [
        "line 3: shared.tier.busy = ...",
        "line 4: mirror.fills.upstream = ...",
        "line 5: self.access.is_offline = ...",
    ]
    assert callbacks_assigned(source) == ["line 5: self.access.is_offline = lambda ..."]
    announcements = (
        "class XetAnnouncements:\n"
        "    def __init__(self, hashes, fills):\n"
        "        self.fills = fills\n"
        "        fills.xet_refused = self.refused\n"
    )
    assert hooked_onto_collaborators(announcements) == ["line 4: fills.xet_refused = ..."]
