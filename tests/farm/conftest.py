"""Fixtures for the farm tests: real servers (farm_servers.py) and S3 on moto. One PostgreSQL
server and one RabbitMQ node serve the whole session; a test keeps apart by a new database or
virtual host of its own (starting a server takes seconds, a database a fraction of one)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from farm_runs import machine, people, process
from farm_servers import Postgres, RabbitMQ, moto_s3, postgres, rabbitmq


@pytest.fixture(scope="session")
def s3_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """moto's S3 server for the session, with this process's environment pointing at it."""
    with moto_s3(tmp_path_factory.mktemp("moto")) as env, pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield env


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    with postgres() as server:
        yield server


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[RabbitMQ]:
    with rabbitmq() as server:
        yield server


@pytest.fixture()
def bucket(s3_env: dict[str, str], request: pytest.FixtureRequest) -> str:
    """A new empty bucket; yields its s3:// URL."""
    import s3fs

    name = f"mf-{abs(hash(request.node.nodeid)) % 10**10}-{os.getpid()}"
    s3fs.S3FileSystem(skip_instance_cache=True).mkdir(name)
    return f"s3://{name}"


@pytest.fixture(scope="session")
def farm_movies(testdata: Path) -> list[Path]:
    return [testdata / "movies" / "cast_a.mp4", testdata / "movies" / "cast_b.mp4"]


@pytest.fixture(scope="session")
def one_machine(tmp_path_factory: pytest.TempPathFactory, farm_movies: list[Path]) -> dict:
    """Face counts of each movie's people (key -> counts) from a run on one machine."""
    resources = machine(str(tmp_path_factory.mktemp("one") / "out"), None)
    keys = process([resources], farm_movies)
    root = resources["store"].root()
    return {key: people(root.folder(key)) for key in keys}
