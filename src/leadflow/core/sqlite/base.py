"""Django's SQLite backend, with writers in one process queued on a lock.

SQLite allows one writer at a time. With `transaction_mode="IMMEDIATE"` a second writer
waits in SQLite's busy handler, which polls with sleeps that grow to 100 ms: under load
(several web threads entering leads at once) that turned a 4 ms intake into p99 latencies
of seconds (bench/intake.py). Here a thread takes a per-database lock before BEGIN and gives
it back at COMMIT, ROLLBACK or close, so writers in a process queue without sleeping; the
busy timeout still covers the other processes (worker, sweeper). Reads are not locked: WAL
lets them run beside the writer.
"""

import threading

from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(name), threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _write_lock: threading.Lock | None = None

    def _start_transaction_under_autocommit(self):
        lock = _lock_for(self.settings_dict["NAME"])
        lock.acquire()
        self._write_lock = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        lock, self._write_lock = self._write_lock, None
        if lock is not None:
            lock.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_write_lock()
