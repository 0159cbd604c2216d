"""docs/architecture.md names only code that exists, and the docs' links lead somewhere.

A newcomer reads the architecture page to find where something happens; a name there that the
code no longer has (renamed, removed) sends them looking for nothing. Every backticked word
that looks like a code name (``reconstruction``, ``Mirror.fresh_file``, ``server.app.dispatch``,
``open_mirror``) must be a module, a definition, a class member, an index table or a setting.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import re
from functools import cache
from pathlib import Path

from hubmirror.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "hubmirror"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# Backticked words on the page that are not hubmirror's names: values, HTTP, Linux, aiohttp.
NOT_CODE = {
    *("main", "public", "restricted", "unknown", "HIT", "STALE"),  # a branch, values
    *("HEAD", "Host", "Link", "Range", "xetHash"),  # HTTP and the Hub's JSON
    *("RWF_NOWAIT", "flock", "web.Server", "hf_xet", "pyproject.toml"),
}
_CODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\*?$")


def parse(source: str) -> ast.Module:
    """``ast.parse``, tried again on a spurious "AST constructor recursion depth mismatch":
    CPython 3.11's AST constructor keeps its recursion count in state shared by every thread,
    so a parse that races another thread's can fail although the source is fine (seen once
    in a full run, while earlier tests' threads were still busy)."""
    for _ in range(2):
        try:
            return ast.parse(source)
        except SystemError:
            continue
    return ast.parse(source)


def backticked(text: str) -> list[str]:
    """Every `...` span of the page that is one name (paths and URLs are not); a call such
    as `Resolve(repo, revision="main", path)` gives `Resolve`."""
    words = []
    for span in re.findall(r"`([^`\n]+)`", text):
        word = span.split("(", 1)[0].strip()
        if _CODE_NAME.match(word) and word not in NOT_CODE:
            words.append(word)
    return words


@cache
def defined_names() -> frozenset[str]:
    """Modules, packages, and every name a module defines: functions, classes, their members
    (also ``self.x`` attributes), module constants; the index's tables; the settings."""
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        names.add(path.stem if path.stem != "__init__" else path.parent.name)
        tree = parse(path.read_text())
        bodies = [tree.body] + [n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        for statement in (s for body in bodies for s in body):  # module and class level
            targets = statement.targets if isinstance(statement, ast.Assign) else []
            if isinstance(statement, ast.AnnAssign):
                targets = [statement.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)  # self.x = ...
    for sql in (SRC / "index" / "migrations").glob("*.sql"):
        names.update(re.findall(r"CREATE TABLE (\w+)", sql.read_text()))
    names.update(setting.name for setting in SETTINGS)
    return frozenset(names)


def class_members(cls: type) -> set[str]:
    """A class's attributes, also those its methods assign on ``self`` and dataclass fields."""
    members = {name for klass in cls.__mro__ for name in vars(klass)}
    members |= set(getattr(cls, "__dataclass_fields__", {}))
    source = Path(importlib.import_module(cls.__module__).__file__).read_text()
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Store):
                    members.add(inner.attr)
    return members


@cache
def classes() -> dict[str, type]:
    """Every class defined in hubmirror, by name (imported: the page names real objects)."""
    found: dict[str, type] = {}
    for path in SRC.rglob("*.py"):
        module_name = ".".join(("hubmirror", *path.relative_to(SRC).with_suffix("").parts))
        module = importlib.import_module(module_name.removesuffix(".__init__"))
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                found[value.__name__] = value
    return found


def resolves(dotted: str) -> bool:
    """`server.app.dispatch`, `hubmirror.runtime`, `mirror.flights`: a module path, then
    attributes of what it holds; `Mirror.file`: a class, then one of its members."""
    parts = dotted.removeprefix("hubmirror.").split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module("hubmirror." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if isinstance(target, type):
                return attr in class_members(target)
            if not hasattr(target, attr):
                return False
            target = getattr(target, attr)
        return True
    head, *rest = parts
    cls = classes().get(head)
    return cls is not None and len(rest) == 1 and rest[0] in class_members(cls)


def exists(word: str) -> bool:
    if word.endswith("*"):  # `bundle_*`: some module starts so
        return any(fnmatch.fnmatch(p.stem, word) for p in SRC.rglob("*.py"))
    if "." in word:
        return resolves(word)
    return word in defined_names()


def test_every_code_name_in_the_architecture_page_exists():
    words = backticked(ARCHITECTURE.read_text())
    assert len(words) > 50  # the page still names its modules in backticks
    missing = sorted({word for word in words if not exists(word)})
    assert missing == []


def test_a_made_up_name_is_caught():
    words = backticked("`reconstruction`, `Mirror.no_such_use_case`, `mirror.nowhere`, `Nobody.x`")
    assert [word for word in words if not exists(word)] == [
        "Mirror.no_such_use_case",
        "mirror.nowhere",
        "Nobody.x",
    ]


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def test_links_between_the_docs_lead_to_files_and_headings_that_exist():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            file, _, anchor = target.partition("#")
            linked = (page.parent / file).resolve() if file else page
            if not linked.exists() or anchor and anchor not in _anchors(linked):
                broken.append(f"{page.name}: {target}")
    assert broken == []
