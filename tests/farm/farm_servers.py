"""Real servers for the farm tests, each started on 127.0.0.1 and a free port in a temporary
folder and stopped afterwards: moto's S3, Debian's PostgreSQL and RabbitMQ (installed by
scripts/test-env/farm.sh). As root, the databases run as their own unprivileged users.
Starting a server takes seconds: the tests share one of each and keep apart by asking each for
a new database or virtual host."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql")
RABBITMQ = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"server not listening on {port} after {seconds} s: {log.read_text()[-2000:]}")


@contextmanager
def server_folder(user: str) -> Iterator[tuple[Path, list[str]]]:
    """A new folder for a server's files and the command prefix that runs it as `user` when
    the tests run as root (PostgreSQL and RabbitMQ refuse root). The folder is outside
    pytest's (which only root may enter) and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"moviefaces-{user}-"))
    try:
        if os.geteuid() != 0:
            yield folder, []
        else:
            shutil.chown(folder, user)
            yield folder, ["runuser", "-u", user, "--"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def moto_s3(folder: Path) -> Iterator[dict[str, str]]:
    """moto's S3 server; yields the environment that points boto/s3fs at it."""
    port = free_port()
    log = folder / "moto.log"
    moto = Path(sys.executable).parent / "moto_server"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process, log)
        yield {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    finally:
        stop(process)


def _pg_bin() -> Path:
    versions = sorted(PG_BIN.glob("*/bin/initdb"))
    if not versions:
        pytest.fail("PostgreSQL is not installed; run `bash scripts/test-env/farm.sh` "
                    "(or make test)")
    return versions[-1].parent


@dataclass
class Postgres:
    """A PostgreSQL server; `url` is its SQLAlchemy URL of database `dagster` (psycopg2: with
    SQLAlchemy 2.1 a plain postgresql:// URL means psycopg 3)."""

    url: str
    _names: Iterator[int] = field(default_factory=lambda: count(1))

    def database(self) -> str:
        """A new empty database on the server; its SQLAlchemy URL."""
        import psycopg2
        from psycopg2 import sql

        name = f"test{next(self._names)}"
        conn = psycopg2.connect(self.url.replace("+psycopg2", ""))
        try:
            conn.autocommit = True  # CREATE DATABASE refuses to run in a transaction
            with conn.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return f"{self.url.rsplit('/', 1)[0]}/{name}"


@contextmanager
def postgres() -> Iterator[Postgres]:
    """A new PostgreSQL cluster with database `dagster`."""
    bin_dir, port = _pg_bin(), free_port()
    with server_folder("postgres") as (folder, prefix):
        data = folder / "data"
        done = subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust",
                               "-U", "dagster", "--no-sync"], capture_output=True, text=True)
        if done.returncode:
            pytest.fail(f"initdb failed: {done.stderr[-2000:]}")
        log = folder / "postgres.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [*prefix, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
                 "-h", "127.0.0.1", "-k", str(folder), "-c", "fsync=off",
                 "-c", "max_connections=200"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        with _running(process):
            wait_for_port(port, process, log)
            subprocess.run([*prefix, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p",
                            str(port), "-U", "dagster", "dagster"], check=True,
                           capture_output=True)
            yield Postgres(f"postgresql+psycopg2://dagster@127.0.0.1:{port}/dagster")


@contextmanager
def _running(process: subprocess.Popen) -> Iterator[None]:
    try:
        yield
    finally:
        stop(process)


@dataclass
class RabbitMQ:
    """A RabbitMQ node; `url` is its AMQP URL of the default virtual host."""

    url: str
    ctl: list[str]  # rabbitmqctl, as the node's user
    env: dict[str, str]  # what rabbitmqctl needs to find the node
    home: Path  # the node's folder: rabbitmqctl runs there (the node's user may not enter ours)
    _names: Iterator[int] = field(default_factory=lambda: count(1))

    def vhost(self) -> str:
        """A new virtual host (queues and exchanges of its own) for user guest; its AMQP URL."""
        name = f"test{next(self._names)}"
        for args in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*",
                                           ".*"]):
            done = subprocess.run([*self.ctl, *args], env=self.env, cwd=self.home,
                                  capture_output=True, text=True, timeout=120)
            if done.returncode:
                pytest.fail(f"rabbitmqctl {' '.join(args)} failed: {done.stderr[-2000:]}")
        return f"{self.url.removesuffix('/')}{name}"


@contextmanager
def rabbitmq() -> Iterator[RabbitMQ]:
    """A RabbitMQ node."""
    if not RABBITMQ.exists():
        pytest.fail("RabbitMQ is not installed; run `bash scripts/test-env/farm.sh` "
                    "(or make test)")
    port, dist, epmd = free_port(), free_port(), free_port()
    with server_folder("rabbitmq") as (home, prefix):
        (home / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{port}\n"
            "loopback_users = none\n"
            # Steps are acknowledged when done: allow a day per step (default 30 min).
            "consumer_timeout = 86400000\n")
        (home / "enabled_plugins").write_text("[].\n")
        env = {**os.environ, "HOME": str(home), "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
               "RABBITMQ_LOG_BASE": str(home / "log"),
               "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
               "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
               "RABBITMQ_NODENAME": f"moviefaces{port}@localhost",
               "RABBITMQ_DIST_PORT": str(dist), "RABBITMQ_PID_FILE": str(home / "pid"),
               # epmd and the Erlang distribution on loopback too (by default on every
               # interface), epmd on a port of its own: a system epmd on 4369 is left alone.
               **LOOPBACK_ERLANG, "ERL_EPMD_PORT": str(epmd)}
        for name in ("rabbitmq.conf", "enabled_plugins"):
            if prefix:
                shutil.chown(home / name, "rabbitmq")
        log = home / "rabbitmq.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([*prefix, str(RABBITMQ)], env=env, cwd=home,
                                       stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        with _epmd_stopped(epmd, env), _running(process):
            wait_for_port(port, process, log)
            exposed = {p: a for p, a in listeners([port, dist, epmd]).items() if a - LOOPBACK}
            assert not exposed, f"RabbitMQ listens beyond loopback: {exposed}"
            yield RabbitMQ(f"amqp://guest:guest@127.0.0.1:{port}//",
                           [*prefix, str(RABBITMQ.with_name("rabbitmqctl"))], env, home)


@contextmanager
def _epmd_stopped(port: int, env: dict[str, str]) -> Iterator[None]:
    """Afterwards, the epmd that the node started on `port` (a daemon outside its process
    group) stops too."""
    try:
        yield
    finally:
        epmd = shutil.which("epmd") or next(iter(Path("/usr/lib/erlang").glob("erts-*/bin/epmd")),
                                            None)
        if epmd:
            subprocess.run([str(epmd), "-port", str(port), "-kill"], env=env,
                           capture_output=True, timeout=30)


LOOPBACK = {"127.0.0.1", "::1"}
LOOPBACK_ERLANG = {
    "ERL_EPMD_ADDRESS": "127.0.0.1",
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
}


def listeners(ports: list[int]) -> dict[int, set[str]]:
    """The addresses on which `ports` listen (TCP, from /proc/net)."""
    found: dict[int, set[str]] = {}
    for table, size in (("tcp", 4), ("tcp6", 16)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] != "0A" or int(port, 16) not in ports:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # /proc writes each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))
            found.setdefault(int(port, 16), set()).add(
                socket.inet_ntop(socket.AF_INET if size == 4 else socket.AF_INET6, raw))
    return found
