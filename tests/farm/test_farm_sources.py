"""The farm of test_celery_farm.py (PostgreSQL, RabbitMQ, two `moviefaces worker`s) on movies
that no worker finds at the launcher's path: movies that live only in S3, and movies under a
movies root that each machine mounts at another path. Results equal a one-machine run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_celery_farm import (  # noqa: F401 - farm, workers: the farm's fixtures, here too
    BIN,
    Farm,
    farm,
    mounts,
    published,
    steps_by_worker,
    wait,
    workers,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def three_movies(tmp_path_factory: pytest.TempPathFactory, farm_movies: list[Path]) -> list[Path]:
    """The farm tests' two movies and a third file (cast_b's content under another name: its
    one-machine result is known, and the suite stays lean)."""
    third = tmp_path_factory.mktemp("third") / "cast_c.mp4"
    shutil.copy(farm_movies[1], third)
    return [*farm_movies, third]


@pytest.fixture(scope="module")
def reference(one_machine: dict) -> dict:
    """Each movie's people from a run on one machine."""
    return {**one_machine, "cast_c": one_machine["cast_b"]}


def add(cluster: Farm, location: str, output_dir: str, **extra: str) -> str:
    done = subprocess.run([str(BIN / "moviefaces"), "add", location], cwd=cluster.base,
                          env=cluster.env("launcher", output_dir, **extra), capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split(" as partition ")[1].strip()


def run_all(cluster: Farm, keys: list[str], output_dir: str) -> None:
    runs = [cluster.materialize(key, output_dir) for key in keys]  # at once
    for run in runs:
        wait(run, cluster)
    used: dict[str, set[str]] = {}
    instance = cluster.instance()
    for key in keys:
        for worker, steps in steps_by_worker(instance, key).items():
            used.setdefault(worker, set()).update(steps)
    assert set(used) == {"A", "B"}, f"steps by worker: {used}"
    assert {"movie", "frames"} <= used["A"] | used["B"]


def test_movies_only_in_object_storage(farm: Farm, workers, three_movies: list[Path],  # noqa: F811
                                       reference: dict, request: pytest.FixtureRequest) -> None:
    import s3fs

    farm.aws = request.getfixturevalue("s3_env")
    bucket = request.getfixturevalue("bucket")
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    urls = [f"{bucket}/movies/{movie.name}" for movie in three_movies]
    for movie, url in zip(three_movies, urls, strict=True):
        fs.put_file(str(movie), url)
    root = f"{bucket}/farm"
    farm.worker("A", root)
    farm.worker("B", root)
    keys = [add(farm, url, root) for url in urls]
    run_all(farm, keys, root)

    assert {key: published(root, farm, key) for key in keys} == reference
    rows = registered(root, farm)
    assert sorted(row.path for row in rows.values()) == sorted(urls)


def test_movies_under_a_root_mounted_apart(farm: Farm, workers,  # noqa: F811
                                           three_movies: list[Path],
                                           reference: dict) -> None:
    out, paths = mounts(farm, "sources")
    # One filesystem of movies (hard links: one inode, as a network mount shows every
    # machine), seen by each machine in a folder of its own.
    share = farm.base / "movies-share"
    share.mkdir()
    for movie in three_movies:
        shutil.copy(movie, share / movie.name)
    roots = {}
    for name in ("A", "B", "launcher"):
        roots[name] = farm.base / name / "films"
        (roots[name] / "new").mkdir(parents=True)
        for movie in three_movies:
            os.link(share / movie.name, roots[name] / "new" / movie.name)
    farm.worker("A", paths["A"], MOVIEFACES_MOVIES_DIR=str(roots["A"]))
    farm.worker("B", paths["B"], MOVIEFACES_MOVIES_DIR=str(roots["B"]))
    keys = [add(farm, str(roots["launcher"] / "new" / movie.name), paths["launcher"],
                MOVIEFACES_MOVIES_DIR=str(roots["launcher"])) for movie in three_movies]
    shutil.rmtree(roots["launcher"])  # the steps run on the workers, under their mounts
    run_all(farm, keys, paths["launcher"])

    assert {key: published(out, farm, key) for key in keys} == reference
    rows = registered(str(out), farm)
    assert sorted(row.path for row in rows.values()) == \
        sorted(f"movies:new/{movie.name}" for movie in three_movies)


def registered(root: str, cluster: Farm) -> dict:
    """The registered movies' rows, as any machine reads them from the root."""
    from moviefaces_dag.store.shared import SharedRoot

    return SharedRoot(root, cluster.base / "reader", 60).movies()
