#!/usr/bin/env python3
"""How Celery brokers recover a step whose worker was killed: for each broker, a worker takes a
30 s task (acknowledged when done, as moviefaces' workers are configured), is killed with its
process group, a second worker starts, and the time until the second one starts the task is
measured (or "lost" after --wait seconds). Also how long each broker takes to start.

    python benchmarks/broker_recovery.py [--wait 90]

Needs Debian's redis-server and rabbitmq-server (scripts/test-env/farm.sh installs RabbitMQ;
`apt-get install redis-server`) and the `redis` client (`pip install redis`). kombu's SQLAlchemy
transport runs on a SQLite file here (on Postgres it behaves the same: a taken message is
marked invisible and never handed back).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "farm"))

from farm_servers import free_port, rabbitmq, wait_for_port

APP = '''
import os, pathlib, time
from celery import Celery
app = Celery("bench", broker=os.environ["BROKER"])
app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True,
                worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True)
@app.task(name="step")
def step(marker):
    pathlib.Path(marker, os.environ["WORKER"]).write_text(str(time.time()))
    time.sleep(30)
'''


@contextmanager
def redis() -> object:
    port = free_port()
    folder = Path(tempfile.mkdtemp())
    log = folder / "redis.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["redis-server", "--port", str(port), "--save", ""],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process, log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()


@contextmanager
def sqlalchemy() -> object:
    yield f"sqla+sqlite:///{tempfile.mkdtemp()}/broker.sqlite"


def worker(folder: Path, broker: str, name: str) -> subprocess.Popen:
    env = {**os.environ, "BROKER": broker, "WORKER": name, "PYTHONPATH": str(folder)}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "bench_app", "worker",
         "--concurrency=1", "-n", f"{name}@%h", "--loglevel=WARNING"],
        cwd=folder, env=env, stdout=open(folder / f"{name}.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(path: Path, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if path.exists():
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def measure(name: str, server, wait: float) -> None:
    started = time.monotonic()
    with server() as broker:
        ready = time.monotonic() - started
        folder = Path(tempfile.mkdtemp())
        (folder / "bench_app.py").write_text(APP)
        marker = folder / "markers"
        marker.mkdir()
        sys.path.insert(0, str(folder))
        os.environ["BROKER"] = broker
        import bench_app

        bench_app.step.delay(str(marker))  # before any worker: the client sets the broker up
        first = worker(folder, broker, "first")
        if wait_for(marker / "first", 120) is None:
            print(f"{name}: the first worker never started the task")
            return
        os.killpg(first.pid, signal.SIGKILL)
        second = worker(folder, broker, "second")
        taken = wait_for(marker / "second", wait)
        os.killpg(second.pid, signal.SIGKILL)
        sys.modules.pop("bench_app")
        sys.path.remove(str(folder))
        outcome = f"rerun by the second worker {taken:.1f} s after the kill" if taken is not None \
            else f"lost (not rerun within {wait:.0f} s)"
        print(f"{name:28} starts in {ready:5.1f} s; killed worker's task: {outcome}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wait", type=float, default=90.0)
    wait = parser.parse_args().wait
    measure("kombu SQLAlchemy transport", sqlalchemy, wait)
    measure("redis-server 7", redis, wait)
    measure("rabbitmq-server 3.10", rabbitmq, wait)
    return 0


if __name__ == "__main__":
    sys.exit(main())
