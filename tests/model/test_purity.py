"""The model is pure: standard library only (and nothing else of ours), no I/O or asyncio."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import crowdfill.model

MODEL_DIR = Path(crowdfill.model.__file__).parent
FORBIDDEN_STDLIB = {
    "asyncio",
    "socket",
    "sqlite3",
    "threading",
    "subprocess",
    "os",
    "io",
    "random",
    "time",
}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_model_modules_import_only_the_standard_library_and_the_model() -> None:
    offenders = []
    for path in sorted(MODEL_DIR.glob("*.py")):
        for module in _imported_modules(path):
            top = module.split(".")[0]
            if module.startswith("crowdfill.model") or module == "__future__":
                continue
            if top not in sys.stdlib_module_names or top in FORBIDDEN_STDLIB:
                offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_the_purity_check_would_notice_a_third_party_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import networkx\nfrom crowdfill.server import app\n", encoding="utf-8")
    assert _imported_modules(bad) == {"networkx", "crowdfill.server"}
