"""What an orchestrator's task needs around the registry's functions (dags/ use it; no Airflow here).

`final_errors`: a `RegistryError` that cannot change on retry (`retryable` False: a list date out of
order, a bad catalog, a missing database, a failing dbt test) becomes the orchestrator's "fail now,
do not retry" exception (Airflow's `AirflowFailException`), with the error's one-line message and
hint; a retryable one (`DatabaseBusy`: another writer holds the file) and anything unexpected are
raised as they are, so the task's `retries` apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from registry.core.errors import RegistryError


@contextmanager
def final_errors(fail: Callable[[str], BaseException]) -> Iterator[None]:
    try:
        yield
    except RegistryError as err:
        if err.retryable:
            raise
        raise fail(f"{type(err).__name__}: {err.one_line()}") from err
