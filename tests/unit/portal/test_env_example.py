"""`.env.example` names every environment variable the settings read.

The names are read from the code, not listed here: every call of the
``portal.env`` helpers (``env_str``, ``env_bool``, ``env_int``, ``env_list``)
and every ``os.environ`` / ``os.getenv`` look-up in the settings and in any
module that imports ``portal.env``. A variable added anywhere that way fails
this test until it is documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HELPERS = {"env_str", "env_bool", "env_int", "env_list"}
SKIP = {".venv", "var", "tests", "node_modules", ".git"}


def _reading_modules() -> list[Path]:
    modules = []
    for path in ROOT.rglob("*.py"):
        if SKIP & set(path.relative_to(ROOT).parts) or path.name == "env.py":
            continue
        text = path.read_text()
        if path == ROOT / "portal" / "settings.py" or "portal.env" in text:
            modules.append(path)
    return modules


def _names_read(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        is_environ = isinstance(func, ast.Attribute) and ast.unparse(func) in {"os.environ.get", "os.getenv"}
        if called in HELPERS or is_environ:
            names.add(node.args[0].value)
    return names


def _documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_scan_finds_the_settings_reads():
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= _names_read(ROOT / "portal" / "settings.py")


def test_env_example_documents_every_variable_the_code_reads():
    read = set().union(*(_names_read(path) for path in _reading_modules()))
    assert read - _documented() == set(), "document these in .env.example"


def test_env_example_documents_nothing_the_code_does_not_read():
    read = set().union(*(_names_read(path) for path in _reading_modules()))
    assert _documented() - read == set(), "remove these from .env.example, or read them"
