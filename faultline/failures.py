"""Which failures of the ingest sink pass with time (retry) and which never will (isolate
and dead-letter): the composition root knows the stores, so the rule lives here."""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

from storage.errors import StorageError
from storage.telemetry import TelemetryError, TelemetryRejected

# A store that is away, locked, full or timing out: it will take the same data later.
_TRANSIENT = (
    OSError,
    sqlite3.OperationalError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)
# The data itself is the problem: the same write fails however often it is tried.
_DATA = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.ProgrammingError,
    sa_exc.DataError,
    sa_exc.IntegrityError,
    ValueError,
    TypeError,
    OverflowError,
    ArithmeticError,
)


def is_transient(exc: BaseException) -> bool:
    """True when retrying the same write may succeed; False when it never will.

    A store's own error is transient unless it says the data was refused or was caused by
    a data error; anything else raised while storing a batch (an overflow, a bug one
    message triggers) is permanent. The ingest worker still probes a batch that keeps
    failing "transiently", so a misjudged poison message cannot wedge ingest for ever.
    """
    if isinstance(exc, TelemetryRejected):
        return False
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, _TRANSIENT):
        return True
    if isinstance(exc, TelemetryError | StorageError):
        cause = exc.__cause__
        return cause is None or not isinstance(cause, _DATA)
    return False
