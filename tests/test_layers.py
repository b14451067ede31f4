"""The layer rules of DESIGN.md hold, and the contract that says so can fail."""

from __future__ import annotations

import ast
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = [
    sys.executable,
    "-c",
    "from importlinter.cli import lint_imports_command; lint_imports_command()",
]


def _lint(src: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [*LINT_IMPORTS, str(config), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=src.parent,
        check=False,
    )


def test_the_package_keeps_its_layers() -> None:
    result = _lint(ROOT / "src", ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _copy_with_import(tmp_path: Path, module: str, statement: str) -> Path:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "claimbridge", src / "claimbridge")
    target = src / "claimbridge" / module
    target.write_text(target.read_text() + f"\n{statement}\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return src


def test_contract_fails_when_formats_imports_storage(tmp_path: Path) -> None:
    src = _copy_with_import(tmp_path, "formats/__init__.py", "import claimbridge.storage.db")
    result = _lint(src, tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert "claimbridge.formats -> claimbridge.storage" in result.stdout


def test_contract_fails_when_storage_reaches_up_to_the_gateway(tmp_path: Path) -> None:
    src = _copy_with_import(tmp_path, "storage/db.py", "import claimbridge.phi")
    result = _lint(src, tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert "claimbridge.storage.db -> claimbridge.phi" in result.stdout


Imports = tuple[ast.Import | ast.ImportFrom, ...]


def _import_statements(path: Path) -> Imports:
    """Every ``import`` and ``from ... import`` in ``path``, at any depth.

    Imports are statements, so only statements are searched: module and
    class bodies, function bodies, and the blocks of compound statements
    (``if``, loops, ``with``, ``try`` and its handlers, ``match`` cases).
    Expressions cannot hold a statement, so this finds what ``ast.walk``
    over the whole tree finds, without visiting every expression node.
    """
    found: list[ast.Import | ast.ImportFrom] = []
    blocks = [ast.parse(path.read_text()).body]
    while blocks:
        for node in blocks.pop():
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    blocks.append(block)
    return tuple(found)


@functools.cache
def _package_imports(path: Path) -> Imports:
    """The import statements of a file of the package, parsed once for all the tests here."""
    return _import_statements(path)


def _imports(statements: Imports) -> set[str]:
    names: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif node.module:
            names.add(node.module)
    return names


def test_only_the_private_primitives_module_touches_cryptography_hazmat() -> None:
    package = ROOT / "src" / "claimbridge"
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "_primitives.py"
        and any(name.startswith("cryptography.hazmat") for name in _imports(_package_imports(path)))
    ]
    assert offenders == []


PHI_TABLES = {"Patient", "Coverage", "Encounter", "Claim", "ServiceLine"}
PHI_TABLE_MODULES = {"claimbridge.storage.clinical", "claimbridge.storage.claims"}


def _phi_table_imports(statements: Imports) -> set[str]:
    found: set[str] = set()
    sources = PHI_TABLE_MODULES | {"claimbridge.storage.models"}
    for node in statements:
        if isinstance(node, ast.ImportFrom) and node.module in sources:
            found |= {alias.name for alias in node.names} & PHI_TABLES
    return found


def test_phi_tables_are_reached_only_by_the_gateway_and_storage() -> None:
    package = ROOT / "src" / "claimbridge"
    allowed = {package / "phi", package / "storage"}
    offenders = {
        str(path.relative_to(package)): sorted(names)
        for path in package.rglob("*.py")
        if not any(path.is_relative_to(folder) for folder in allowed)
        and (names := _phi_table_imports(_package_imports(path)))
    }
    assert offenders == {}


def test_the_phi_table_check_would_catch_a_route_querying_patients() -> None:
    route = ROOT / "src" / "claimbridge" / "api" / "routes" / "phi.py"
    tampered = route.read_text() + "\nfrom claimbridge.storage.clinical import Patient\n"
    probe = Path(route.parent / "_probe_not_committed.py")
    probe.write_text(tampered)
    try:
        assert _phi_table_imports(_import_statements(probe)) == {"Patient"}
    finally:
        probe.unlink()
