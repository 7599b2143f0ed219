"""Benchmarks and the product never import test code.

A benchmark that borrows a test's fakes measures the test's world, not the product's (issue 21
found the labeling bench timing a test server); the product importing tests would break on an
installed copy, where the tests are not shipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sentiment_assets.lib.settings import PROJECT_ROOT

TESTS = "sentiment_assets_tests"


def _imported(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("folder", ["bench", "sentiment_assets"])
def test_no_test_code_is_imported_from(folder: str) -> None:
    files = sorted((PROJECT_ROOT / folder).rglob("*.py"))
    assert files
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(
            m for m in _imported(path) if m == TESTS or m.startswith(f"{TESTS}.")
        )
        for path in files
    }
    assert {path: found for path, found in offenders.items() if found} == {}
