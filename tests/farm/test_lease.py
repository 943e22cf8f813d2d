"""Leases on object storage, against moto's S3 server: two workers that both find an expired
lease, and a holder that stalls past its lease while a successor takes over."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from farm_servers import Postgres

from moviefaces_dag.store import MovieBusyError, StoreError
from moviefaces_dag.store.lease import shared_lock
from moviefaces_dag.store.shared import SharedRoot

LEASE = ".writer.lock"
WORKER = Path(__file__).with_name("lease_worker.py")


def s3(**kwargs):
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False, **kwargs)


def pausing_s3(rendezvous):
    """A machine's own S3 client that, after its first read of a lease, waits at `rendezvous`:
    every worker has then read the lease before any of them writes."""
    import s3fs

    class PausingS3(s3fs.S3FileSystem):
        paused = False

        async def _call_s3(self, method, *args, **kwargs):
            out = await super()._call_s3(method, *args, **kwargs)
            if method == "get_object" and kwargs.get("Key", "").endswith(LEASE) \
                    and not self.paused:
                self.paused = True
                await asyncio.to_thread(rendezvous)
            return out

    return PausingS3(skip_instance_cache=True, use_listings_cache=False)


def lease_body(fs, path: str) -> dict:
    return json.loads(fs.cat_file(path))


def test_two_workers_that_find_an_expired_lease_do_not_both_take_it(bucket: str) -> None:
    path = f"{bucket.removeprefix('s3://')}/film/{LEASE}"
    s3().pipe_file(path, json.dumps({"what": "a dead worker", "pid": 1, "host": "gone",
                                     "expires": time.time() - 10, "token": 7}).encode())
    read, tried = threading.Barrier(2, timeout=30), threading.Barrier(2, timeout=60)
    holding, busy, errors = [], [], []

    def worker(index: int) -> None:
        def rendezvous() -> None:  # both have read the expired lease; then one goes first
            read.wait()
            time.sleep(0.5 * index)

        fs = pausing_s3(rendezvous)
        try:
            with shared_lock(fs, path, f"worker {index}", "movie film is already being processed",
                             0.0, 30.0):
                holding.append(index)
                tried.wait()
        except MovieBusyError as exc:
            busy.append(str(exc))
            tried.wait()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
            tried.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not errors
    assert len(holding) == 1, f"workers {holding} all hold the movie"
    assert len(busy) == 1 and busy[0].startswith(
        f"movie film is already being processed by worker {holding[0]} (pid {os.getpid()} on ")


def test_a_late_new_lease_takes_over_with_the_next_token(bucket: str) -> None:
    path = f"{bucket.removeprefix('s3://')}/film/{LEASE}"
    fs = s3()
    fs.pipe_file(path, json.dumps({"what": "a dead worker", "expires": time.time() - 10,
                                   "token": 7}).encode())
    with shared_lock(fs, path, "worker", "busy", 0.0, 30.0):
        assert lease_body(fs, path)["token"] == 8
    with shared_lock(fs, path, "worker", "busy", 0.0, 30.0):  # released: free at once
        assert lease_body(fs, path)["token"] == 9
    assert lease_body(fs, path)["expires"] == 0


@pytest.fixture(scope="module")
def lease_database(postgres_server: Postgres) -> str:
    return postgres_server.database()


def database_lease(url: str, name: str) -> dict:
    """The lease row `name`, as its holder describes itself, with its token."""
    import psycopg2

    with psycopg2.connect(url.replace("+psycopg2", "")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT info, token, expires < now() FROM moviefaces_leases "
                       "WHERE name = %s", (name,))
        info, token, expired = cursor.fetchone()
    return {**json.loads(info), "token": token, "expired": expired}


@pytest.mark.parametrize("kind", ["object", "database"])
def test_a_stalled_holder_neither_overwrites_its_successor_nor_writes(
        tmp_path: Path, bucket: str, kind: str, request: pytest.FixtureRequest) -> None:
    url, seconds = f"{bucket}/output", 2.0
    database = request.getfixturevalue("lease_database") if kind == "database" else None
    successor = SharedRoot(url, tmp_path / "b", seconds, database)
    key = successor.register(tmp_path / "film.mp4")
    fs, name = s3(), f"{bucket.removeprefix('s3://')}/output/{key}/{LEASE}"

    def lease() -> dict:
        return database_lease(database, name) if database else lease_body(fs, name)

    go = tmp_path / "go"
    stalled = subprocess.Popen([sys.executable, str(WORKER), url, key, str(tmp_path / "a"),
                                str(seconds), str(go), *([database] if database else [])],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert stalled.stdout.readline().strip() == "holding"
        stalled_token = lease()["token"]
        os.kill(stalled.pid, signal.SIGSTOP)  # a VM paused, a long GC pause: past its lease
        with successor.writing(key, "the successor") as draft:
            taken = lease()
            assert taken["what"] == "the successor"
            assert taken["token"] == stalled_token + 1
            before = objects(fs, bucket, key)
            os.kill(stalled.pid, signal.SIGCONT)  # it wakes up and goes on as if nothing
            go.touch()
            out, _ = stalled.communicate(timeout=60)
            # Its late renewal and its release left the successor's lease alone; its result
            # was refused in one line, and nothing of it reached the root.
            now = lease()
            assert (now["what"], now["token"]) == ("the successor", taken["token"])
            assert objects(fs, bucket, key) == before
            assert stalled.returncode == 3, out
            assert out.strip().splitlines()[-1].startswith(
                f"the lease on movie {key} was taken over by the successor (pid {os.getpid()}")
            assert out.strip().endswith("this worker's result is not written")
            draft.db.set_movie(key, "/films/film.mp4")
    finally:
        if stalled.poll() is None:
            os.kill(stalled.pid, signal.SIGCONT)
            stalled.kill()
            stalled.wait()
    assert successor.movies()[key].path == "/films/film.mp4"  # the successor's result is


def test_workers_that_find_an_expired_database_lease_do_not_both_take_it(
        lease_database: str, s3_env: dict[str, str]) -> None:
    import psycopg2

    name = f"race-{time.monotonic_ns()}"
    with shared_lock(s3(), name, "a dead worker", "busy", 0.0, 5.0, "movie film",
                     lease_database):
        pass  # released, i.e. expired: free for the next
    with psycopg2.connect(lease_database.replace("+psycopg2", "")) as conn, \
            conn.cursor() as cursor:
        cursor.execute("UPDATE moviefaces_leases SET token = 7 WHERE name = %s", (name,))
    start, tried = threading.Barrier(4, timeout=30), threading.Barrier(4, timeout=60)
    holding, busy, errors = [], [], []

    def worker(index: int) -> None:
        fs = s3()
        start.wait()
        try:
            with shared_lock(fs, name, f"worker {index}", "movie film is already being processed",
                             0.0, 30.0, "movie film", lease_database):
                holding.append(index)
                tried.wait()
        except MovieBusyError as exc:
            busy.append(str(exc))
            tried.wait()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
            tried.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not errors
    assert len(holding) == 1, f"workers {holding} all hold the movie"
    assert len(busy) == 3 and all(b.startswith(
        f"movie film is already being processed by worker {holding[0]} (pid") for b in busy)
    assert database_lease(lease_database, name)["token"] == 8  # 7 + 1: the one that held it


def objects(fs, bucket: str, key: str) -> dict[str, str]:
    """Every object of the movie but its lease, with its ETag."""
    found = fs.find(f"{bucket.removeprefix('s3://')}/output/{key}", detail=True)
    return {path: info["ETag"] for path, info in found.items() if not path.endswith(LEASE)}


def test_an_object_store_without_conditional_writes_is_refused_in_one_line(
        tmp_path: Path) -> None:
    root = SharedRoot("memory://leases/root", tmp_path, 30.0)
    with pytest.raises(StoreError, match="conditional writes") as caught:
        root.register(tmp_path / "film.mp4")
    assert "\n" not in str(caught.value)
