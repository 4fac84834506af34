"""The layout tells the architecture: one template for every service (docs/architecture.md).

These tests read the source (AST), so breaking the template fails here before review: a rule
moved into `api.py`, a use case that returns an HTTP schema, a domain module that opens a
database, a subscriber that bypasses the runtime, a test module that imports another.
"""

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from botram_runtime.access import rule_of

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["scheduler", "registry", "notifier", "reporting"]
APPS = {f"botram_{name}": ROOT / "services" / name for name in SERVICES} | {
    "botram_cli": ROOT / "cli"
}
MAX_MODULE_LINES = 400
IO_MODULES = {
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "fastapi",
    "starlette",
    "faststream",
    "nats",
    "httpx",
    "asyncpg",
    "aiosqlite",
    "socket",
    "asyncio",
}


def package_of(service: str) -> Path:
    return ROOT / "services" / service / f"botram_{service}"


def modules_of(service: str) -> dict[str, Path]:
    """Dotted module name -> file, for one service's package (migrations left out)."""
    package = package_of(service)
    found = {}
    for path in package.rglob("*.py"):
        if "migrations" in path.relative_to(package).parts:
            continue
        dotted = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        found[dotted.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for each absolute import in a file (`import x` gives names [])."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def imported_modules(directory: Path) -> set[str]:
    return {
        module.split(".")[0] for path in directory.rglob("*.py") for module, _ in imports_of(path)
    }


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# --- apps and libraries -------------------------------------------------------------------


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


# --- the template -------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_parts_of_the_template(service: str) -> None:
    package = package_of(service)
    parts = ["api.py", "schemas.py", "subscribers.py", "deps.py", "settings.py", "main.py"]
    parts += ["__main__.py", "migrations/env.py"]

    missing = [part for part in parts if not (package / part).exists()]
    missing += [
        part
        for part in ("domain", "store")
        if not (package / f"{part}.py").exists() and not (package / part / "__init__.py").exists()
    ]
    use_cases = [p for p in (package / "usecases").glob("*.py") if p.name != "__init__.py"]

    assert missing == []
    assert use_cases, f"{service} has no use case modules under usecases/"


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_is_pure(service: str) -> None:
    """Rules import no I/O: they run (and are tested) without a database, bus or network."""
    own = f"botram_{service}"
    allowed_local = (
        "botram_contracts",
        "botram_runtime.errors",
        "botram_runtime.clock",
        "botram_runtime.actors",
        "botram_runtime.inputs",
    )
    offences = []
    for module, path in modules_of(service).items():
        if not in_package(module, f"{own}.domain"):
            continue
        for imported, _ in imports_of(path):
            top = imported.split(".")[0]
            if in_package(imported, f"{own}.domain") or any(
                in_package(imported, ok) for ok in allowed_local
            ):
                continue
            if top in sys.stdlib_module_names and top not in IO_MODULES:
                continue
            offences.append(f"{module} imports {imported}")

    assert offences == []


# The HTTP layer: JSON routes (`api.py`, and `screens_api.py` for the screens' own JSON) and
# screens (`pages.py`, optional). Pages may show a schema's public view (the same masking as the
# API), so both may import `schemas`. A capability's routes may live in a router module of their
# own, `<capability>_api.py` (the registry's `pre_registrations_api.py`, `offline_api.py`,
# `followups_api.py`, `survey_api.py`), under the same rules.
HTTP_MODULES = ("api", "screens_api", "pages")


def is_schemas(module: str, own: str) -> bool:
    """`schemas`, or a module of HTTP bodies of its own beside it (`offline_schemas`)."""
    name = module.removeprefix(f"{own}.")
    return name == "schemas" or (name.endswith("_schemas") and "." not in name)


def http_module_names(service: str) -> list[str]:
    """`api`, `pages` and every `*_api` module of the service's package."""
    extra = sorted(p.stem for p in package_of(service).glob("*_api.py"))
    return list(dict.fromkeys([*HTTP_MODULES, *extra]))


def http_modules_of(service: str) -> list[Path]:
    package = package_of(service)
    return [p for name in http_module_names(service) if (p := package / f"{name}.py").exists()]


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_http_layer_imports_the_http_schemas(service: str) -> None:
    own = f"botram_{service}"
    importers = {
        module
        for module, path in modules_of(service).items()
        for imported, _ in imports_of(path)
        if in_package(imported, f"{own}.schemas")
    }

    assert importers <= {f"{own}.{name}" for name in http_module_names(service)} | {
        module for module in modules_of(service) if is_schemas(module, own)
    }


@pytest.mark.parametrize("service", SERVICES)
def test_use_cases_know_nothing_of_http(service: str) -> None:
    own = f"botram_{service}"
    http = (
        "fastapi",
        "starlette",
        "jinja2",
        f"{own}.schemas",
        f"{own}.api",
        f"{own}.pages",
        "botram_runtime.problems",
        "botram_runtime.pages",
    )
    offences = [
        f"{module} imports {imported}"
        for module, path in modules_of(service).items()
        if in_package(module, f"{own}.usecases") or in_package(module, f"{own}.domain")
        for imported, _ in imports_of(path)
        if any(in_package(imported, h) for h in http) or is_schemas(imported, own)
    ]

    assert offences == []


@pytest.mark.parametrize(
    "service,module",
    [(service, module) for service in SERVICES for module in http_module_names(service)],
)
def test_routes_parse_call_and_map_and_hold_no_rules(service: str, module: str) -> None:
    """`api.py` and `pages.py` have no try/except, raise nothing, touch no database and call
    no rule (a page only renders a template, with what a use case answered)."""
    own = f"botram_{service}"
    path = package_of(service) / f"{module}.py"
    if module != "api" and not path.exists():
        return  # a service without screens
    tree = ast.parse(path.read_text())
    rule_functions = []
    for imported, names in imports_of(path):
        if in_package(imported, f"{own}.domain"):
            module = importlib.import_module(imported)
            rule_functions += [
                name
                for name in names
                if inspect.isfunction(getattr(module, name, None))
                or inspect.ismodule(getattr(module, name, None))
            ]
    storage = [
        imported
        for imported, _ in imports_of(path)
        if imported.split(".")[0] in {"sqlalchemy", "sqlmodel"}
        or in_package(imported, f"{own}.store")
        or in_package(imported, "botram_runtime.errors")
    ]

    uses_use_cases = any(in_package(i, f"{own}.usecases") for i, _ in imports_of(path))

    assert [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Try)] == [], f"try in {module}"
    assert [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Raise)] == [], f"raise: {module}"
    assert storage == [], f"{module}.py reaches storage or raises domain errors itself"
    assert rule_functions == [], f"{module}.py calls domain rules instead of a use case"
    if module == "api" or uses_use_cases:
        assert "DepsDep" in path.read_text(), "routes take their dependencies as DepsDep"


@pytest.mark.parametrize("service", SERVICES)
def test_pages_are_public_html_routes(service: str) -> None:
    """A page carries no personal data: anyone may load it, and what a signed-in person sees
    comes from the JSON API with their token. So every route of `pages.py` is `public()` and
    answers HTML, and no JSON route lives there."""
    path = package_of(service) / "pages.py"
    if not path.exists():
        return
    pages = importlib.import_module(f"botram_{service}.pages")
    routes = [r for r in pages.router.routes if isinstance(r, APIRoute)]
    rules = {route.path: rule_of(route) for route in routes}

    assert routes, "pages.py declares its routes on `router`"
    assert {p for p, rule in rules.items() if rule is None or not rule.public} == set()
    # The class is FastAPI's `DefaultPlaceholder` when it comes from the router's default.
    classes = {r.path: getattr(r.response_class, "value", r.response_class) for r in routes}
    assert {p for p, cls in classes.items() if not issubclass(cls, HTMLResponse)} == set()


@pytest.mark.parametrize("service", SERVICES)
def test_subscribers_use_the_runtime_helpers_with_one_signature(service: str) -> None:
    path = package_of(service) / "subscribers.py"
    tree = ast.parse(path.read_text())
    direct = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "subscriber"
    ]
    register = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "register"
    )

    assert direct == [], "subscribe through runtime.subscribe / subscribe_batches"
    assert [arg.arg for arg in register.args.args] == ["runtime", "deps"]


@pytest.mark.parametrize("service", SERVICES)
def test_deps_are_one_frozen_bundle(service: str) -> None:
    deps = importlib.import_module(f"botram_{service}.deps")

    assert deps.Deps.__dataclass_params__.frozen  # type: ignore[attr-defined]
    # The routes' dependency sits beside the bundle, or in `api_deps` where a command (the
    # reporting rebuild) imports the bundle without the web framework.
    try:
        routes = importlib.import_module(f"botram_{service}.api_deps")
    except ModuleNotFoundError:
        routes = deps
    assert routes.DepsDep.__origin__ is deps.Deps


@pytest.mark.parametrize("service", SERVICES)
def test_no_module_is_too_long_to_read(service: str) -> None:
    long = {
        module: length
        for module, path in modules_of(service).items()
        if (length := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }

    assert long == {}


def test_no_blanket_type_ignores() -> None:
    """Every `type: ignore` names the error it silences."""
    blanket = re.compile(r"#\s*type:\s*ignore(?!\[)")
    offences = [
        f"{path.relative_to(ROOT)}:{number}"
        for top in ("services", "shared", "cli")
        for path in (ROOT / top).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if blanket.search(line)
    ]

    assert offences == []


def test_no_test_module_imports_another() -> None:
    """Shared test code lives in fixtures (conftest.py) or tests/helpers.py, never in a test."""
    tests = ROOT / "tests"
    test_modules = {path.stem for path in tests.rglob("test_*.py")}
    offences = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in tests.rglob("*.py")
        for imported, _ in imports_of(path)
        if imported.split(".")[0] in test_modules
    ]

    assert offences == []
