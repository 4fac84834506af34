"""deploy/postgres/init.sql gives each service a role that reaches its own database only.

The shipped script runs through psql (as the postgres image runs it) against the PostgreSQL of
BOTRAM_TEST_DATABASE_URL, with every name it creates prefixed for this test (the server is
shared) and its passwords from the environment as compose passes them. Then each service's
role migrates its own database, and no role connects to another service's database or to the
server's own `postgres` database. Needs PostgreSQL and psql 15+: CI has both (.ci/run).
"""

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from botram_runtime.db import Database

ROOT = Path(__file__).resolve().parents[2]
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"
SERVICES = ("scheduler", "registry", "notifier", "reporting")
PG_URL = os.environ.get("BOTRAM_TEST_DATABASE_URL")

pytestmark = pytest.mark.timeout(120)


def postgres_or_fail() -> str:
    """The test server; missing in CI is a failure, on a laptop without PostgreSQL a skip."""
    if PG_URL is None or shutil.which("psql") is None:
        if os.environ.get("CI"):
            pytest.fail("BOTRAM_TEST_DATABASE_URL and psql are required in CI")
        pytest.skip("no PostgreSQL here: set BOTRAM_TEST_DATABASE_URL (and install psql)")
    return PG_URL


class Cluster:
    """The init script's roles and databases, under a prefix of this test's own."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.prefix = f"t{uuid.uuid4().hex[:8]}"
        self.passwords = {service: uuid.uuid4().hex for service in SERVICES}

    def name(self, service: str) -> str:
        return f"{self.prefix}_{service}"

    def dsn(self, database: str, role: str | None = None, password: str | None = None) -> str:
        user = role or self.url.username or "postgres"
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@{self.url.host}:{self.url.port or 5432}/{database}"

    def script(self) -> str:
        text = INIT_SQL.read_text()
        text = re.sub(r"\b(scheduler|registry|notifier|reporting)\b", rf"{self.prefix}_\1", text)
        # The server's own `postgres` database is shared: a scratch one stands in for it.
        assert text.count("ON DATABASE postgres ") == 1
        return text.replace("ON DATABASE postgres ", f"ON DATABASE {self.name('postgres')} ")

    def run_script(self) -> None:
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        env |= {f"BOTRAM_{s.upper()}_DATABASE_PASSWORD": p for s, p in self.passwords.items()}
        result = subprocess.run(
            ["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", self.dsn(self.name("postgres"))],
            input=self.script(),
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    async def admin(self, statements: list[str]) -> None:
        connection = await asyncpg.connect(self.dsn(self.url.database or "postgres"))
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    found = Cluster(postgres_or_fail())
    await found.admin([f'CREATE DATABASE "{found.name("postgres")}"'])
    try:
        found.run_script()
        yield found
    finally:
        names = [found.name(s) for s in (*SERVICES, "postgres")]
        await found.admin([f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names])
        await found.admin([f'DROP ROLE IF EXISTS "{found.name(s)}"' for s in SERVICES])


async def test_each_service_migrates_its_own_database_as_its_own_role(cluster: Cluster) -> None:
    for service in SERVICES:
        role = cluster.name(service)
        url = cluster.dsn(role, role, cluster.passwords[service])
        database = Database(url.replace("postgresql://", "postgresql+asyncpg://"), service=service)
        module = __import__(f"botram_{service}.main", fromlist=["MIGRATIONS"])
        try:
            await database.migrate(module.MIGRATIONS)
            assert await database.ping()
        finally:
            await database.dispose()

        connection = await asyncpg.connect(url)
        try:
            owners = {
                row["tableowner"]
                for row in await connection.fetch(
                    "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'"
                )
            }
        finally:
            await connection.close()
        assert owners == {role}


@pytest.mark.parametrize("service", SERVICES)
async def test_a_role_connects_to_no_other_database(cluster: Cluster, service: str) -> None:
    role, password = cluster.name(service), cluster.passwords[service]
    others = [cluster.name(s) for s in SERVICES if s != service] + [cluster.name("postgres")]

    for database in others:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await asyncpg.connect(cluster.dsn(database, role, password))


async def test_a_services_schema_is_its_own_and_granted_to_no_one_else(cluster: Cluster) -> None:
    registry = cluster.name("registry")
    connection = await asyncpg.connect(
        cluster.dsn(registry, registry, cluster.passwords["registry"])
    )
    try:
        await connection.execute("CREATE TABLE citizens_probe (phone text)")
        acl = await connection.fetchval(
            "SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'"
        )
        owner = await connection.fetchval(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'"
        )
    finally:
        await connection.close()

    assert owner == registry
    grants = (acl or "").strip("{}").split(",")
    assert [grant for grant in grants if grant.startswith("=")] == []  # nothing for PUBLIC
