"""The one error family: everything an operator can meet derives from `RegistryError`.

Each error says what went wrong (the message names the file, row, field, clause or date) and,
where one exists, what to do about it (`hint`). The command line catches `RegistryError` and prints
one line for the message and one for the hint, never a traceback; Airflow tasks let it fail the task,
and `retryable` tells the DAG whether running again could help.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Base of every error the registry raises on purpose."""

    hint: str | None = None
    retryable: bool = False  # could the same call succeed later without anyone changing anything?

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def one_line(self) -> str:
        """The message, and the hint when there is one, as an operator reads it."""
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


class ConfigError(RegistryError):
    """A setting ($REGISTRY_*) has a value the registry cannot use."""


class DatabaseMissing(RegistryError):
    """The registry database does not exist (only `registry init` and `registry demo` create one)."""

    hint = "create it with `registry --db PATH init`, or check --db / $REGISTRY_DB for a typo"


class DatabaseBusy(RegistryError):
    """Another process holds the DuckDB file (DuckDB allows one writer, or many readers, at a time)."""

    hint = "wait for the other run to finish; auditors read the snapshot, never the live file"
    retryable = True


class NotFound(RegistryError):
    """A firm, entitlement or file the caller named is not in the registry."""
