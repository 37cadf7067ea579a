"""The house's shape, kept by the tests (docs/architecture.md): rooms small
enough to know, and no import placed in a function without saying why.
The layers and the absence of import cycles are `lint-imports`' contracts
(pyproject.toml), run by `make test` beside these."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "core",
    "audit",
    "accounts",
    "schools",
    "permissions",
    "federation",
    "provisioning",
    "notifications",
    "web",
    "etjanster",
    "portal",
    "backoffice",
    "demo",
    "config",
]
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80
MAX_VIEW_LINES = 60


def modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def is_view(node) -> bool:
    """A function of the web: it takes the request (first, or after self)."""
    names = [arg.arg for arg in node.args.args[:2]]
    return "request" in names


def test_the_apps_are_the_ones_the_map_names():
    assert [app for app in APPS if (ROOT / app / "__init__.py").exists()] == APPS


@pytest.mark.parametrize("path", list(modules()), ids=lambda path: str(path.relative_to(ROOT)))
def test_each_module_and_function_fits_its_room(path):
    source = path.read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_MODULE_LINES, f"{path.name}: split it by concern"
    too_long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in functions(ast.parse(source))
        if node.end_lineno - node.lineno + 1
        > (MAX_VIEW_LINES if is_view(node) else MAX_FUNCTION_LINES)
    ]
    assert not too_long, f"over {MAX_FUNCTION_LINES} lines (a view: {MAX_VIEW_LINES})"


def _explained(lines: list[str], index: int) -> bool:
    """A comment above the block of imports this line belongs to."""
    while index > 0:
        index -= 1
        above = lines[index].strip()
        if above.startswith("#"):
            return True
        if above and not above.startswith(("from ", "import ", ")")) and not above.endswith(","):
            return False
    return False


def test_every_import_inside_a_function_says_why():
    """An import in a function hides a dependency from the reader (and once
    hid a cycle). Where one is genuinely lazy (an app's ready(), a module
    that needs the app registry), a comment right above it says why."""
    unexplained = []
    for path in modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for function in functions(ast.parse("\n".join(lines))):
            for node in ast.walk(function):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                if not _explained(lines, node.lineno - 1):
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not unexplained
