"""Setting a registry database up: the one step that creates one, and the upgrade every night runs.

`init_database` is `registry init` (and the start of `registry demo`): it creates the file and
every table the registry owns outside dbt (`registry.store.schema`: raw, reference, policy; and
`registry.ledger.schema`: the ledger). `prepare` is the same statements on an existing database
(every `create` is `if not exists`; the vocabulary tables are rewritten from the code), run as the
night's first step so a database made by an earlier version gains what this one adds.
"""

from __future__ import annotations

from pathlib import Path

from registry.core.errors import RegistryError
from registry.ledger import schema as ledger_schema
from registry.store import db as registry_db
from registry.store import schema as store_schema
from registry.store.lock import writer_lock


class AlreadyExists(RegistryError):
    """`registry init` refuses to touch a database that is already there."""

    hint = "use that database as it is, or choose another path with --db"


def _ensure(db: Path, *, create: bool) -> None:
    with writer_lock(db, "registry init" if create else "registry: upgrade the tables", create=create), \
            registry_db.connect(db, create=create) as con:
        con.execute("begin transaction")
        store_schema.ensure(con)
        ledger_schema.ensure(con)
        con.execute("commit")


def init_database(db: Path) -> Path:
    """Create an empty registry database at `db` (refused when one exists); returns its path."""
    if db.exists():
        raise AlreadyExists(f"a registry database already exists at {db}")
    _ensure(db, create=True)
    return db


def prepare(db: Path) -> None:
    """Bring an existing database's own tables up to this version (idempotent)."""
    _ensure(db, create=False)
