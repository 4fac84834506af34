"""The layout tells the architecture: apps are run, never imported; shared imports no app."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["scheduler", "registry", "notifier", "reporting"]
APPS = {f"botram_{name}": ROOT / "services" / name for name in SERVICES} | {
    "botram_cli": ROOT / "cli"
}


def imported_modules(directory: Path) -> set[str]:
    modules = set()
    for path in directory.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize("app", sorted(APPS))
def test_no_app_imports_another_app(app: str) -> None:
    others = set(APPS) - {app}

    assert imported_modules(APPS[app]) & others == set()


@pytest.mark.parametrize("library", ["contracts", "runtime"])
def test_the_shared_libraries_import_no_app(library: str) -> None:
    assert imported_modules(ROOT / "shared" / library) & set(APPS) == set()


def test_the_contracts_import_no_runtime() -> None:
    runtime = {"botram_runtime", "faststream", "nats", "sqlalchemy", "sqlmodel", "fastapi"}

    assert imported_modules(ROOT / "shared" / "contracts") & runtime == set()


def test_every_service_has_the_same_shape() -> None:
    for name in SERVICES:
        package = ROOT / "services" / name / f"botram_{name}"
        for module in ("settings.py", "store.py", "main.py", "__main__.py", "migrations/env.py"):
            assert (package / module).exists(), f"{name} lacks {module}"
