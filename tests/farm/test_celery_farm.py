"""The farm on this machine, with real processes: Dagster's instance on PostgreSQL (the farm's
deploy/farm/dagster.yaml), RabbitMQ, two Celery workers started with `moviefaces worker`, each
with its own working folder, scratch folder and path to the shared root, and runs launched by
`dagster asset materialize` as a third machine would. Every setting comes from one settings
file; only the paths differ per machine."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
from farm_runs import DURATION, FPS, people
from farm_servers import Postgres, RabbitMQ, stop

from moviefaces_dag.store import MovieFolder
from moviefaces_dag.store.shared import SharedRoot

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RUN_SECONDS = 600

pytestmark = pytest.mark.slow


@dataclass
class Farm:
    base: Path
    database: str
    broker: str
    aws: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def env(self, machine: str, output_dir: str, **extra: str) -> dict[str, str]:
        """A machine's environment: the shared settings file, its own paths."""
        folder = self.base / machine
        home = folder / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "deploy" / "farm" / "dagster.yaml", home / "dagster.yaml")
        return {**os.environ, **self.aws, "DAGSTER_HOME": str(home),
                "MOVIEFACES_DAGSTER_DB": self.database,
                "MOVIEFACES_SETTINGS": str(self.base / "settings.toml"),
                "MOVIEFACES_OUTPUT_DIR": output_dir,
                "MOVIEFACES_SCRATCH_DIR": str(folder / "scratch"),
                "MOVIEFACES_COMPUTE_LOGS": str(self.base / "compute_logs"), **extra}

    def start(self, machine: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.base / f"{machine}.log", "ab")  # noqa: SIM115 - the process keeps it
        process = subprocess.Popen(command, cwd=self.base / machine, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def worker(self, name: str, output_dir: str, **extra: str) -> subprocess.Popen:
        process = self.start(name, [str(BIN / "moviefaces"), "worker", "--name", name],
                             self.env(name, output_dir, **extra))
        deadline = time.monotonic() + 120
        while b" ready." not in (self.base / f"{name}.log").read_bytes():
            assert process.poll() is None, self.log(name)
            assert time.monotonic() < deadline, f"worker {name} not ready: {self.log(name)}"
            time.sleep(0.5)
        return process

    def add(self, movie: Path, output_dir: str) -> str:
        done = subprocess.run([str(BIN / "moviefaces"), "add", str(movie)], cwd=self.base,
                              env=self.env("launcher", output_dir), capture_output=True,
                              text=True, check=True)
        return done.stdout.split(" as partition ")[1].strip()

    def materialize(self, key: str, output_dir: str) -> subprocess.Popen:
        """One movie's run, launched from a third machine; its steps go to the workers."""
        env = self.env("launcher", output_dir)
        # Runs launched at once outside the queue each set the face_models pool up on first use,
        # and on PostgreSQL two at once collide (UniqueViolation on concurrency_limits, one run
        # fails; setting it up again fails the same way). The queue's daemon sets it up once
        # (docs/farm.md launches through the queue).
        instance = self.instance()
        if "face_models" not in instance.event_log_storage.get_concurrency_keys():
            instance.event_log_storage.initialize_concurrency_limit_to_default("face_models")
        return self.start("launcher", [
            str(BIN / "dagster"), "asset", "materialize", "-m", "moviefaces_dag.definitions",
            "--select", "group:moviefaces", "--partition", key], env)

    def log(self, machine: str) -> str:
        return (self.base / f"{machine}.log").read_text(errors="replace")[-3000:]

    def instance(self) -> dg.DagsterInstance:
        os.environ["MOVIEFACES_DAGSTER_DB"] = self.database
        return dg.DagsterInstance.from_config(str(self.base / "launcher" / "dagster_home"))


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory, postgres_server: Postgres,
         rabbitmq_server: RabbitMQ) -> Iterator[Farm]:
    """A farm of the module's own: a new database for Dagster's instance, a new virtual host
    for the Celery queues, on the session's servers."""
    base = tmp_path_factory.mktemp("farm")
    database, broker = postgres_server.database(), rabbitmq_server.vhost()
    (base / "settings.toml").write_text(
        f'[sampling]\nfps = {FPS}\nduration = {DURATION}\n\n'
        # A killed worker's claim on a movie in S3 runs out after this (default 60 s).
        '[store]\nlease_seconds = 10\n\n'
        f'[farm]\nexecutor = "celery"\ncelery_broker = "{broker}"\n')
    farm = Farm(base, database, broker)
    yield farm
    for process in farm.processes:
        stop(process)


@pytest.fixture()
def workers(farm: Farm) -> Iterator[None]:
    yield
    for process in farm.processes:
        stop(process)
    farm.processes.clear()


def mounts(farm: Farm, test: str) -> tuple[Path, dict[str, str]]:
    """A shared folder and, per machine, its path to it (each machine mounts it elsewhere)."""
    share = farm.base / test / "share"
    share.mkdir(parents=True)
    paths = {}
    for machine in ("A", "B", "launcher"):
        mount = farm.base / machine / f"mnt-{test}"
        mount.parent.mkdir(parents=True, exist_ok=True)
        mount.symlink_to(share)
        paths[machine] = str(mount / "out")
    return share / "out", paths


def wait(process: subprocess.Popen, farm: Farm) -> None:
    try:
        assert process.wait(RUN_SECONDS) == 0, farm.log("launcher")
    except subprocess.TimeoutExpired:
        pytest.fail(f"run not done in {RUN_SECONDS} s: {farm.log('launcher')}")


def steps_by_worker(instance: dg.DagsterInstance, key: str) -> dict[str, set[str]]:
    """For the movie's runs: which steps each Celery worker executed (from the event log)."""
    ran: dict[str, set[str]] = {}
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}))
    for run in runs:
        for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
            data = record.dagster_event.engine_event_data
            worker = data.metadata.get("Celery worker") if data else None
            if worker is not None:
                name = worker.value.split("@")[0]
                ran.setdefault(name, set()).add(record.dagster_event.step_key)
    return ran


def shared_root(farm: Farm, storage: str, test: str,
                request: pytest.FixtureRequest) -> tuple[str | Path, dict[str, str]]:
    """The root (an s3:// URL or the shared folder) and each machine's path to it."""
    if storage == "s3":
        farm.aws = request.getfixturevalue("s3_env")
        root = f"{request.getfixturevalue('bucket')}/farm"
        return root, {machine: root for machine in ("A", "B", "launcher")}
    return mounts(farm, test)


def published(root: str | Path, farm: Farm, key: str) -> list[int]:
    if isinstance(root, str):
        reader = SharedRoot(root, farm.base / "reader", 60).library_reading()
        return people(MovieFolder(reader.path / key))
    return people(MovieFolder(root / key))


STORAGE = ["mounted folder", "s3"]


@pytest.mark.parametrize("storage", STORAGE)
def test_two_workers_two_movies(farm: Farm, workers, storage: str, farm_movies: list[Path],
                                one_machine: dict, request: pytest.FixtureRequest) -> None:
    root, paths = shared_root(farm, storage, "two", request)
    farm.worker("A", paths["A"])
    farm.worker("B", paths["B"])
    keys = [farm.add(movie, paths["launcher"]) for movie in farm_movies]
    runs = [farm.materialize(key, paths["launcher"]) for key in keys]  # at once
    for run in runs:
        wait(run, farm)

    instance = farm.instance()
    used = {}
    for key in keys:
        for worker, steps in steps_by_worker(instance, key).items():
            used.setdefault(worker, set()).update(steps)
    assert set(used) == {"A", "B"}, f"steps by worker: {used}"
    assert {key: published(root, farm, key) for key in keys} == one_machine


def stopped(group: int) -> bool:
    """Whether a process of the group is stopped (state T): the worker hit its fault point."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] == "T":
            return True
    return False


@pytest.mark.parametrize("storage", STORAGE)
def test_a_worker_killed_mid_step(farm: Farm, workers, storage: str, farm_movies: list[Path],
                                  one_machine: dict, request: pytest.FixtureRequest) -> None:
    root, paths = shared_root(farm, storage, "kill", request)
    # Worker A stops itself inside face detection; then it is killed, process group and all,
    # as when its machine dies. The broker hands the step to worker B, which takes the movie
    # once A's lock is gone (at once on a mount, when its lease runs out on S3).
    a = farm.worker("A", paths["A"], MOVIEFACES_FAULT="during:face_detections:STOP")
    key = farm.add(farm_movies[0], paths["launcher"])
    run = farm.materialize(key, paths["launcher"])
    deadline = time.monotonic() + RUN_SECONDS
    while not stopped(a.pid):
        assert run.poll() is None and time.monotonic() < deadline, farm.log("A")
        time.sleep(0.5)
    farm.worker("B", paths["B"])
    os.killpg(a.pid, signal.SIGKILL)
    wait(run, farm)

    ran = steps_by_worker(farm.instance(), key)
    assert "face_detections" in ran["A"] and "face_detections" in ran["B"], ran
    assert {"face_embeddings", "movie_report"} <= ran["B"]
    assert published(root, farm, key) == one_machine[key]
    if storage != "s3":
        assert not list(root.rglob("*.part*"))
