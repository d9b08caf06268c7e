"""What a module imports: read from its source without importing it (the purity tests), or seen in a
fresh interpreter (what a start imports)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


def imported_modules(path: Path) -> set[str]:
    """Absolute module names imported by the file at `path`.

    Relative imports (``from . import x``) are left out: they stay inside the package being checked.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def in_fresh_interpreter(probe: str) -> subprocess.CompletedProcess[str]:
    """Run ``probe`` in a new Python process (what a start imports can only be seen there: this
    test process has imported everything already); its return code is checked."""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result
