"""One writer, said up front: the run lock every writing entry point takes before it writes.

DuckDB allows one read-write process at a time, but finds out only when a second one opens the
file, in the middle of its work (a second night that already recorded a build, then fails inside
dbt). The registry says it up front instead: every step that writes (`registry init`, `demo`,
`ingest`, `nightly` and its three steps, `hold`, `release`, and the Airflow tasks, which call the
same functions) holds `writer_lock(db, command)` while it works. A second writer is refused at
once, naming who holds the lock and since when (`WriterBusy`), or waits up to `wait` seconds
(`registry --wait SECONDS`).

The lock is `<database>.lock` (see `registry.store.lockfile`): flock(2) plus the holder's pid,
host, command and start time. A lock whose process is gone (killed, crashed) is taken over with a
note, since the kernel released it with the process. The lock is re-entrant within one process, so
`run_nightly` holds it over the whole night and its steps take it again without waiting for
themselves.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from registry.core.errors import DatabaseBusy, DatabaseMissing
from registry.store import db as registry_db
from registry.store.lockfile import Holder, current_holder, lock_path, parse

log = logging.getLogger("registry")
POLL_SECONDS = 0.2


class WriterBusy(DatabaseBusy):
    """Another registry process is writing this database (it holds the run lock)."""

    hint = ("wait for it to finish, or run again with `registry --wait SECONDS ...` to wait for it; "
            "auditors read the snapshot, never the live file")


@dataclass
class _Held:
    fd: int
    depth: int


_HELD: dict[tuple[str, int], _Held] = {}  # (lock file, pid) -> this process's lock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def writer_lock(db: Path, command: str, *, wait: float = 0, create: bool = False,
                note: Callable[[str], None] | None = None) -> Iterator[Holder]:
    """Hold the run lock of `db` while the block writes. `create` (init, demo only) allows a
    database that does not exist yet; otherwise a missing one is `DatabaseMissing` and no lock file
    is made. The auditors' snapshot is refused (`registry.store.db.refuse_snapshot`). A takeover of
    a stale lock calls `note` (default: a warning on the `registry` logger)."""
    db = Path(db)
    registry_db.check_name(db)
    registry_db.refuse_snapshot(db)
    if not create and not db.exists():
        raise DatabaseMissing(f"no registry database at {db}")
    path = lock_path(db)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    key = _key(path)
    held = _HELD.get(key)
    if held is not None:
        held.depth += 1
        try:
            yield parse(_read(held.fd)) or Holder.mine(command)
        finally:
            held.depth -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, db, wait)
        stale = parse(_read(fd))
        if stale is not None and stale.pid != os.getpid():
            gone = "is gone" if not _alive(stale.pid) else "no longer holds it"
            (note or log.warning)(f"took over the run lock of {db.name} from {stale.describe()}: that process {gone} "
                                  "(it ended without releasing the lock)")
        mine = Holder.mine(command)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (mine.to_json() + "\n").encode("utf-8"), 0)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        raise
    _HELD[key] = _Held(fd, 1)
    try:
        yield mine
    finally:
        del _HELD[key]
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _key(path: Path) -> tuple[str, int]:
    return (str(path.resolve() if path.parent.exists() else path), os.getpid())


def _read(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode("utf-8", errors="replace")


def _acquire(fd: int, db: Path, wait: float) -> None:
    deadline = time.monotonic() + max(wait, 0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = parse(_read(fd))
                who = holder.describe() if holder else "another registry process"
                waited = f" (waited {wait:g} s)" if wait > 0 else ""
                raise WriterBusy(f"the registry database {db} is being written by {who}{waited}") from None
            time.sleep(POLL_SECONDS)


def holding(db: Path) -> bool:
    """Does this process hold the run lock of `db`?"""
    return _key(lock_path(Path(db))) in _HELD


__all__ = ["WriterBusy", "current_holder", "holding", "writer_lock"]
