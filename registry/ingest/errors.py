"""Errors of the source machinery (no heavy imports: the DAG factory imports this at parse time)."""

from __future__ import annotations

from registry.core.errors import RegistryError


class IngestError(RegistryError):
    """The file as a whole cannot be read against its source spec (nothing was landed)."""


class SpecError(IngestError):
    """A source spec (`sources/<name>/source.yml`) is malformed; the message names the file and the key."""


class RowProblem(ValueError):
    """One row cannot be mapped: raised by converters and transforms, quarantined with `field`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
