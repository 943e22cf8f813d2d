"""Movies that live only in object storage, read by "machines" that each copy them into a
scratch folder of bounded size, and the folder sensor watching an object-storage prefix."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from farm_runs import machine, materialize, sensor_registers

from moviefaces_dag.core.scratch import tree_bytes
from moviefaces_dag.definitions import build_definitions
from moviefaces_dag.defs.resources import MovieFolderResource, MovieStoreResource, SamplingResource
from moviefaces_dag.media.video import MovieError
from moviefaces_dag.store import MovieFolder

SCRATCH_BYTES = 25_000_000  # two or three of the test movies and their copies of the root


def upload(fs, movies: list[Path], prefix: str) -> list[str]:
    urls = []
    for n, movie in enumerate(movies):
        url = f"{prefix}/film-{n:02d}.mp4"
        fs.put_file(str(movie), url)
        urls.append(url)
    return urls


def test_a_machines_scratch_stays_under_its_size_over_ten_movies(
        tmp_path: Path, bucket: str, farm_movies: list[Path]) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    urls = upload(fs, [farm_movies[n % 2] for n in range(10)], f"{bucket}/movies")
    machines = []
    for name in ("a", "b"):
        resources = machine(f"{bucket}/out", None)
        resources["store"] = MovieStoreResource(output_dir=f"{bucket}/out",
                                                scratch_dir=str(tmp_path / name),
                                                scratch_gb=SCRATCH_BYTES / 1e9)
        resources["sampling"] = SamplingResource(fps=1.0, duration=2.0)  # lean: a few frames
        machines.append(resources)
    instance = dg.DagsterInstance.ephemeral()
    stages = ["movie", "frames"]  # the steps that read the movie: its copy is the most
    largest = {"a": 0, "b": 0}
    for n, url in enumerate(urls):
        name, resources = ("a", "b")[n % 2], machines[n % 2]
        key = resources["store"].registry().register(url)
        instance.add_dynamic_partitions("movies", [key])
        materialize(resources, stages, key, instance)
        largest[name] = max(largest[name], tree_bytes(tmp_path / name))

    # Each machine copied about 45 MB of movies alone: without eviction it would hold them all.
    assert 0 < max(largest.values()) <= SCRATCH_BYTES, largest
    reader = MovieStoreResource(output_dir=f"{bucket}/out", scratch_dir=str(tmp_path / "r"))
    movies = reader.registry().movies()
    assert sorted(row.path for row in movies.values()) == urls
    assert all(row.fingerprint for row in movies.values())
    assert all(fs.exists(f"{bucket}/out/{key}/frames") for key in movies)


def test_a_movie_replaced_in_the_bucket_is_copied_again(tmp_path: Path, bucket: str,
                                                        farm_movies: list[Path]) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    [url] = upload(fs, farm_movies[:1], f"{bucket}/movies")
    sources = MovieStoreResource(output_dir=str(tmp_path / "out"),
                                 scratch_dir=str(tmp_path / "scratch")).sources()
    with sources.opened(url) as first:
        assert first.stat().st_size == farm_movies[0].stat().st_size
    with sources.opened(url) as again:  # once per version: the copy is reused
        assert again == first
    fs.put_file(str(farm_movies[1]), url)
    with sources.opened(url) as replaced:
        assert replaced != first and replaced.stat().st_size == farm_movies[1].stat().st_size
    with pytest.raises(MovieError, match=r"^s3://.*/gone\.mp4: no such object"), \
            sources.opened(f"{bucket}/movies/gone.mp4"):
        pass


def test_the_folder_sensor_watches_an_object_storage_prefix(tmp_path: Path, bucket: str,
                                                            farm_movies: list[Path]) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.put_file(str(farm_movies[0]), f"{bucket}/incoming/night.mp4")
    fs.pipe_file(f"{bucket}/incoming/notes.txt", b"not a movie")
    assert sensor_registers(machine(f"{bucket}/library", tmp_path / "scratch"),
                            f"{bucket}/incoming/") == {"night": f"{bucket}/incoming/night.mp4"}


def test_the_folder_sensor_registers_movies_by_the_movies_root(
        tmp_path: Path, farm_movies: list[Path]) -> None:
    films = tmp_path / "films"
    (films / "incoming").mkdir(parents=True)
    (films / "incoming" / "night.mp4").symlink_to(farm_movies[0])
    store = MovieStoreResource(output_dir=str(tmp_path / "out"), movies_dir=str(films))
    resources = {**machine(str(tmp_path / "out"), None), "store": store,
                 "movie_folder": MovieFolderResource(folder=str(films / "incoming"),
                                                     settle_seconds=0)}
    sensor = build_definitions(**resources).resolve_sensor_def("movie_folder_sensor")
    result = sensor(dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(),
                                            resources=resources))
    assert [r.partition_key for r in result.run_requests] == ["night"]
    assert store.registry().movies()["night"].path == "movies:incoming/night.mp4"
    assert MovieFolder(tmp_path / "out" / "night").exists()
