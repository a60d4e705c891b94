"""The layering the architecture promises: the app never imports the emulator (nor the emulator
the app); sources stay pure."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(folder: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module.split(".")[0]))
    return found


def test_the_app_never_imports_the_emulator():
    assert [f for f, top in _imports("app") if top == "emulator"] == []


def test_the_emulator_and_the_samples_never_import_the_app():
    found = _imports("emulator") | _imports("webhook_samples")
    assert found  # the walk read files
    assert [f for f, top in found if top == "app"] == []


def test_sources_never_touch_flask_or_the_database():
    banned = {"flask", "sqlalchemy", "flask_sqlalchemy"}
    assert [(f, top) for f, top in _imports("app/sources") if top in banned] == []


def test_the_plural_helper_is_importable_from_every_layer():
    """app.plurals is what clients, sources, services and templates share for "1 venda" /
    "2 vendas": it may import babel, nothing of the app, Flask or the database."""
    found = {top for f, top in _imports("app") if f == "app/plurals.py"}
    assert found <= {"__future__", "babel"}
    assert "babel" in found
