"""The model is pure: standard library only (and nothing else of ours), no I/O or asyncio."""

from __future__ import annotations

import sys
from pathlib import Path

import crowdfill.model
from tests.support.imports import imported_modules

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


def test_model_modules_import_only_the_standard_library_and_the_model() -> None:
    offenders = []
    for path in sorted(MODEL_DIR.glob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if module.startswith("crowdfill.model") or module == "__future__":
                continue
            if top not in sys.stdlib_module_names or top in FORBIDDEN_STDLIB:
                offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_the_purity_check_would_notice_a_third_party_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import networkx\nfrom crowdfill.server import app\n", encoding="utf-8")
    assert imported_modules(bad) == {"networkx", "crowdfill.server"}
