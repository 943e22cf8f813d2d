"""Issue 25: a half-copied movie is never registered; the whole file, once there, is.

The first half of a file whose index comes first (a faststart mp4, Matroska, MPEG-TS) opens and
probes as a movie. The folder scan (and so the sensor) registers a file only when it is whole,
and a run key names the file's size and time, so the whole file gets a run of its own.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import av
import dagster as dg
import pytest

from moviefaces_dag.definitions import build_definitions
from moviefaces_dag.defs.resources import MovieFolderResource, MovieStoreResource
from moviefaces_dag.media.video import MovieError
from moviefaces_dag.media.whole import check_whole
from moviefaces_dag.pipeline.watch import scan, version_text
from moviefaces_dag.store import OutputRoot

FORMATS = {"mp4": ("mp4", {"movflags": "faststart"}), "mkv": ("matroska", {}),
           "ts": ("mpegts", {})}


def remux(source: Path, target: Path, seconds: float) -> None:
    """The first `seconds` of `source`'s video in `target`'s container (`-c copy`), as
    `ffmpeg -t S -c copy [-movflags +faststart]` writes it (PyAV: no ffmpeg binary needed)."""
    fmt, options = FORMATS[target.suffix[1:]]
    with av.open(str(source)) as inp, av.open(str(target), "w", format=fmt,
                                               options=options) as out:
        stream = inp.streams.video[0]
        copy = out.add_stream_from_template(stream)
        for packet in inp.demux(stream):
            if packet.dts is None:
                continue
            if packet.pts is not None and packet.pts * stream.time_base >= seconds:
                break
            packet.stream = copy
            out.mux(packet)


@pytest.fixture(scope="module")
def whole_files(tmp_path_factory, cast_a: Path) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("whole")
    made = {}
    for ext in FORMATS:
        remux(cast_a, folder / f"x.{ext}", 10)
        made[ext] = (folder / f"x.{ext}").read_bytes()
    assert made["mp4"][4:8] == b"ftyp" and made["mp4"][36:40] == b"moov"  # index first
    return made


def write(path: Path, data: bytes, age: float = 60) -> None:
    """Write the file and date it `age` seconds back (older than any settle time)."""
    path.write_bytes(data)
    then = time.time() - age
    os.utime(path, (then, then))


@pytest.mark.parametrize("ext", list(FORMATS))
def test_the_scan_registers_only_the_whole_file(tmp_path: Path, whole_files, ext: str) -> None:
    folder, root = tmp_path / "movies", OutputRoot(tmp_path / "out")
    folder.mkdir()
    movie, data = folder / f"movie.{ext}", whole_files[ext]
    write(movie, data[:len(data) // 2], age=30)  # the copy stalled 30 s ago
    with pytest.raises(MovieError, match="the file is incomplete"):
        check_whole(movie)
    found = scan(folder, root, settle_seconds=10, rejected_before={})
    assert not found.found and not root.movies()
    (why, version), = found.rejected.values()
    assert "incomplete" in why and "\n" not in why
    half_version = version_text(movie)
    # Looked at once per version: the same half file is not checked again.
    assert not scan(folder, root, 10, {str(movie.resolve()): version}).rejected
    write(movie, data, age=20)  # the copy completed
    found = scan(folder, root, 10, {str(movie.resolve()): version})
    assert list(found.found.values()) == [str(movie.resolve())] and not found.rejected
    assert version_text(movie) != half_version


def test_the_sensor_requests_no_run_for_a_half_file(tmp_path: Path, whole_files) -> None:
    folder = tmp_path / "movies"
    folder.mkdir()
    resources = {"store": MovieStoreResource(output_dir=str(tmp_path / "out")),
                 "movie_folder": MovieFolderResource(folder=str(folder), settle_seconds=10)}
    sensor = build_definitions(**resources).resolve_sensor_def("movie_folder_sensor")
    instance = dg.DagsterInstance.ephemeral()
    movie, data = folder / "film.mp4", whole_files["mp4"]
    write(movie, data[:len(data) // 2], age=30)
    half_key = f"new:film:{movie.resolve()}:{version_text(movie)}"
    context = dg.build_sensor_context(instance=instance, resources=resources)
    assert isinstance(sensor(context), dg.SkipReason)
    write(movie, data, age=20)
    context = dg.build_sensor_context(instance=instance, resources=resources,
                                      cursor=context.cursor)
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    assert request.partition_key == "film" and request.run_key != half_key
    assert request.run_key == f"new:film:{movie.resolve()}:{version_text(movie)}"


def test_the_check_reads_the_end_only(tmp_path: Path, testdata: Path) -> None:
    """The cost on a 2-minute movie: headers and the last second, never the whole stream."""
    for ext in FORMATS:
        movie = tmp_path / f"long.{ext}"
        remux(testdata / "movies" / "hard_a.mp4", movie, 120)
        started = time.perf_counter()
        check_whole(movie)
        took = time.perf_counter() - started
        print(f"whole-file check, 2-minute {ext} ({movie.stat().st_size >> 20} MiB): "
              f"{took * 1000:.0f} ms")
        assert took < 2.0
