"""Shared fixtures: the bundled rulebook, paths to examples and to ../shared/data."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.rulebook import Rulebook, load_rulebook

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
EXAMPLES = ROOT / "examples"
SHARED = Path(os.environ.get("COMPLIANCE_SHARED", ROOT.parent / "shared"))
SHARED_DATA = SHARED / "data"
AUDIT_TIME = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)

# Dictionaries worked out by compliance/index/lexicon.py are kept for the session in a
# folder of its own (not the user's ~/.cache), shared by worker processes through the env.
if "COMPLIANCE_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="compliance-test-cache-")
    os.environ["COMPLIANCE_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, True)

needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason="../shared/data is not present on this machine"
)


@pytest.fixture(autouse=True)
def isolated_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs without --db use a fresh store, never the user's ~/.local/share one."""
    home = tmp_path_factory.mktemp("store")
    monkeypatch.setenv("COMPLIANCE_DB", str(home / "audits.sqlite"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.delenv("COMPLIANCE_CONFIG", raising=False)


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return load_rulebook(RULES)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server (COMPLIANCE_TEST_PG), dropped
    afterwards; the test is skipped when no server is given."""
    server = os.environ.get("COMPLIANCE_TEST_PG")
    if not server:
        pytest.skip("COMPLIANCE_TEST_PG is not set (no PostgreSQL server for tests)")
    from sqlalchemy import create_engine, text

    name = "compliance_" + uuid.uuid4().hex[:12]
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rpartition('/')[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
