"""Leases held as rows of a PostgreSQL database (setting store.lease_database: the farm's
Dagster instance will do), instead of lease objects on the shared root.

One row per lock: its fencing token, its holder and until when (the database's clock, so the
workers' clocks do not matter). Taking a lock is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE
expired`, which PostgreSQL runs with the row locked: of workers that find one expired lease,
exactly one gets a row back, with the previous token + 1. Renewal and release are updates
conditional on the holder and token, so a stalled holder can change nothing of its successor's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from .lock import LeaseLostError, MovieBusyError, describe
from .schema import StoreError

CREATE = """CREATE TABLE IF NOT EXISTS moviefaces_leases (
    name text PRIMARY KEY,
    token bigint NOT NULL,
    holder text NOT NULL,
    info text NOT NULL,
    expires timestamptz NOT NULL)"""
TAKE = """INSERT INTO moviefaces_leases (name, token, holder, info, expires)
    VALUES (%(name)s, 1, %(holder)s, %(info)s, now() + %(seconds)s * interval '1 second')
    ON CONFLICT (name) DO UPDATE SET token = moviefaces_leases.token + 1, holder = EXCLUDED.holder,
        info = EXCLUDED.info, expires = EXCLUDED.expires
    WHERE moviefaces_leases.expires < now()
    RETURNING token"""
RENEW = """UPDATE moviefaces_leases SET expires = now() + %(seconds)s * interval '1 second'
    WHERE name = %(name)s AND holder = %(holder)s AND token = %(token)s RETURNING token"""
RELEASE = """UPDATE moviefaces_leases SET expires = '-infinity'
    WHERE name = %(name)s AND holder = %(holder)s AND token = %(token)s"""
WHO = "SELECT info, token FROM moviefaces_leases WHERE name = %(name)s"


def connect(url: str) -> Any:
    """An autocommit connection to the PostgreSQL at `url` (postgresql[+psycopg2]://...)."""
    try:
        import psycopg2
    except ImportError:
        raise StoreError("store.lease_database needs psycopg2: pip install "
                         "'moviefaces[farm]'") from None
    dsn = url.replace("postgresql+psycopg2://", "postgresql://", 1)
    try:
        conn = psycopg2.connect(dsn, connect_timeout=10)
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or ["no answer"])[0]
        raise StoreError(f"store.lease_database: cannot connect ({first})") from None
    conn.autocommit = True
    with conn.cursor() as cursor:  # one worker at a time creates the table
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", ("moviefaces_leases",))
        try:
            cursor.execute(CREATE)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", ("moviefaces_leases",))
    return conn


class DatabaseLease:
    """The lease named `name` (the lock's path on the root) as a row of the database."""

    def __init__(self, url: str, name: str, info: dict, seconds: float, subject: str):
        self.url, self.name, self.info, self.seconds, self.subject = (
            url, name, info, seconds, subject)
        self.holder = uuid.uuid4().hex
        self.token = 0
        self.lost: dict | None = None
        self.guard = threading.Lock()
        self.stop = threading.Event()
        self.renewer: threading.Thread | None = None
        self.conn: Any = None

    def _run(self, sql: str) -> tuple | None:
        params = {"name": self.name, "holder": self.holder, "token": self.token,
                  "seconds": self.seconds, "info": json.dumps(self.info)}
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if cursor.description else None

    def _who(self) -> dict:
        row = self._run(WHO)
        return json.loads(row[0]) if row else {}

    def acquire(self, busy_message: str, wait: float) -> None:
        self.conn = connect(self.url)
        deadline = time.monotonic() + wait
        while True:
            row = self._run(TAKE)
            if row is not None:
                self.token = int(row[0])
                break
            if time.monotonic() >= deadline:
                holder = self._who()
                self.conn.close()
                raise MovieBusyError(f"{busy_message} by {describe(holder)}")
            time.sleep(min(1.0, self.seconds / 4))
        self.renewer = threading.Thread(target=self._renew, daemon=True,
                                        name=f"lease {self.subject}")
        self.renewer.start()

    def check(self) -> None:
        """Renew the lease if this holder still has it, else LeaseLostError."""
        with self.guard:
            if self.lost is None:
                if self._run(RENEW) is not None:
                    return
                self.lost = self._who()
        raise LeaseLostError(f"the lease on {self.subject} was taken over by "
                             f"{describe(self.lost)}; this worker's result is not written")

    def _renew(self) -> None:
        while not self.stop.wait(self.seconds / 3):
            try:
                self.check()
            except LeaseLostError:
                return
            except Exception:  # noqa: BLE001 - the network: the next write checks anyway
                continue

    def release(self) -> None:
        self.stop.set()
        if self.renewer is not None:
            self.renewer.join()
        try:
            with self.guard:
                if self.lost is None:
                    self._run(RELEASE)
        finally:
            self.conn.close()
