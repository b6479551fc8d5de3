"""The run lock's file: where it lives and who holds it (read side; `registry.store.lock` takes it).

`<database>.lock` beside the database holds one JSON object naming the writer: pid, host, the
command and when it started. The file is locked with flock(2) while a writer runs; the kernel drops
that lock when the process ends, however it ends (SIGKILL included), so a file that still names a
writer but is not locked is stale: that writer is gone.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from registry.core import settings


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    command: str
    started_at: str  # ISO, Asia/Shanghai

    def describe(self) -> str:
        started = self.started_at.replace("T", " ")[:19]
        return f"process {self.pid} on {self.host} (`{self.command}`, since {started} Asia/Shanghai)"

    def to_json(self) -> str:
        return json.dumps({"pid": self.pid, "host": self.host, "command": self.command,
                           "started_at": self.started_at}, ensure_ascii=False)

    @staticmethod
    def mine(command: str) -> Holder:
        now = dt.datetime.now(settings.TIME_ZONE).replace(microsecond=0)
        return Holder(os.getpid(), os.uname().nodename, command, now.isoformat())


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def parse(text: str) -> Holder | None:
    """The holder a lock file names (None for an empty or unreadable file)."""
    try:
        data = json.loads(text)
        return Holder(int(data["pid"]), str(data.get("host", "")), str(data.get("command", "")),
                      str(data.get("started_at", "")))
    except (ValueError, KeyError, TypeError):
        return None


def current_holder(db: Path) -> Holder | None:
    """The writer holding the run lock of `db` right now (this process included), or None when free."""
    path = lock_path(db)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return parse(path.read_text(encoding="utf-8")) or Holder(0, "?", "(unknown writer)", "")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
