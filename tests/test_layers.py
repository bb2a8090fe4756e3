"""The package's layers: a lower layer never imports a higher one, and no modules import each other in a circle."""
import ast
from pathlib import Path

import faqbot

ROOT = Path(faqbot.__file__).parent
# Lowest first. A module may import its own layer and those below it, never one above.
LAYERS = [
    {"faqbot.config", "faqbot.data"},
    {"faqbot.knowledge"},
    {"faqbot.answering"},
    {"faqbot.storage"},
    {"faqbot.evaluation"},
    {"faqbot.building", "faqbot.reindex"},
    {"faqbot.errors", "faqbot.webapp"},
    {"faqbot", "faqbot.cli", "faqbot.cli_text", "faqbot.wsgi", "faqbot.gunicorn_conf", "faqbot.upgrade"},
]


def layer_of(module: str) -> int:
    parts = module.split(".")
    for n in (2, 1):
        name = ".".join(parts[:n])
        for i, layer in enumerate(LAYERS):
            if name in layer:
                return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ("faqbot",) + path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(module: str, path: Path) -> set[str]:
    """The faqbot modules this one imports at run time (not those imported only for type checking)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and getattr(node.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("faqbot")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("faqbot"):
                known = modules()
                for alias in node.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found


def test_no_lower_layer_imports_a_higher_one():
    wrong = []
    for module, path in modules().items():
        for target in imports(module, path):
            if layer_of(target) > layer_of(module):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle():
    graph = {m: {t for t in imports(m, p) if t != m} for m, p in modules().items()}
    # A package's __init__ is imported by its modules' import anyway; edges into it from inside don't count.
    graph = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    seen, stack, circles = set(), [], []

    def visit(node):
        if node in stack:
            circles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert not circles, circles


def test_the_answering_core_needs_neither_flask_nor_a_database():
    for module, path in modules().items():
        if module.startswith(("faqbot.answering", "faqbot.knowledge")):
            source = path.read_text()
            assert "import flask" not in source and "from flask" not in source, module
            assert "sqlite3" not in source and "psycopg" not in source, module


def test_a_wrong_import_would_be_caught(tmp_path):
    """The check itself works: an answering module importing the web layer is reported."""
    fake = tmp_path / "_layer_probe.py"
    fake.write_text("from ..webapp import api\n")
    assert "faqbot.webapp.api" in imports("faqbot.answering._layer_probe", fake)
    assert layer_of("faqbot.webapp.api") > layer_of("faqbot.answering._layer_probe")
