"""A shared output root, with each stage run by another "machine" in turn (its own mount path
and scratch folder): a folder mounted at two paths, and S3 on moto's server. The result equals a
one-machine run, no SQLite file is ever opened on the root, and the pages work from there."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import dagster as dg
import pytest
from browser_pages import LOAD_ALL_IMAGES
from farm_runs import LIBRARY, machine, materialize, people, process, sensor_registers

from moviefaces_dag.definitions import versioned_assets
from moviefaces_dag.store import MovieFolder, StoreError
from moviefaces_dag.store.folder import SNAPSHOT_NAME
from moviefaces_dag.store.library_db import LIBRARY_DB, LibraryDB


@pytest.fixture()
def opened_databases(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQLite file this process opens from now on."""
    opened: list[str] = []
    connect = sqlite3.connect

    def recording(database, *args, **kwargs):
        opened.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", recording)
    return opened


def test_a_folder_mounted_at_two_paths(tmp_path: Path, farm_movies: list[Path],
                                       one_machine: dict, opened_databases: list[str]) -> None:
    share = tmp_path / "share"
    share.mkdir()
    machines = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mnt").symlink_to(share)  # the same share at another path
        machines.append(machine(str(tmp_path / name / "mnt" / "out"), tmp_path / name / "scratch"))
    keys = process(machines, farm_movies)
    opened = [str(Path(db.removeprefix("file:").split("?")[0]).resolve())
              for db in opened_databases]

    on_share = [db for db in opened if db.startswith(str(share.resolve()))]
    assert not on_share, f"SQLite opened on the shared root: {on_share[:3]}"
    assert any("scratch" in db for db in opened)
    assert {key: people(MovieFolder(share / "out" / key)) for key in keys} == one_machine
    for key in keys:  # both results whole, and nothing left of the uploads
        assert (share / "out" / key / "index.html").is_file()
        assert not list((share / "out" / key).rglob("*.part*"))
        assert not list((share / "out").rglob("*.sqlite-*"))
    assert (share / "out" / "index.html").is_file()  # the library page


def test_a_movie_published_again_keeps_what_the_library_points_at(
        tmp_path: Path, farm_movies: list[Path]) -> None:
    """The movie's writer prunes the shared root's old generations and files, except those the
    published library's pages still point at: no library link breaks before it is rebuilt."""
    share = tmp_path / "share" / "out"
    machines = [machine(str(share), tmp_path / name / "scratch") for name in ("a", "b")]
    key = process(machines, farm_movies[:1])[0]
    first = json.loads((share / key / "published.json").read_text())["generation"]
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("movies", [key])
    materialize(machines[1], ["movie_report"], key, instance)  # a new generation, library as it was
    now = json.loads((share / key / "published.json").read_text())["generation"]
    assert now != first and (share / key / "g" / first).is_dir()
    library = (share / "index.html").read_text()
    targets = {unquote(link) for link in re.findall(r'(?:href|src)="([^"#?:]+)"', library)}
    pages = [(share / target) for target in targets if target.startswith(key)]
    assert pages and all(page.is_file() for page in pages), \
        [str(p) for p in pages if not p.is_file()][:3]


def test_a_fresh_worker_reads_only_the_movies_published_anew(
        tmp_path: Path, farm_movies: list[Path]) -> None:
    """The library's build on a worker with an empty scratch folder fetches the snapshot of the
    one movie published since the last build, and keeps what the library holds of the other."""
    share = tmp_path / "share" / "out"
    machines = [machine(str(share), tmp_path / name / "scratch") for name in ("a", "b")]
    keys = process(machines, farm_movies)
    people_before = library_people(share)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("movies", keys)
    materialize(machines[0], ["movie_report"], keys[0], instance)
    fresh = tmp_path / "fresh" / "scratch"
    result = dg.materialize(versioned_assets(machine(str(share), fresh)),
                            selection=dg.AssetSelection.assets(*LIBRARY), instance=instance,
                            resources=machine(str(share), fresh))
    metadata = result.asset_materializations_for_node("library")[0].metadata
    assert (metadata["movies_read"].value, metadata["movies_kept"].value) == (1, len(keys) - 1)
    fetched = {path.parents[2].name for path in fresh.rglob(SNAPSHOT_NAME)}
    assert fetched == {keys[0]}
    assert library_people(share) == people_before


def library_people(share: Path) -> list[tuple[int, int]]:
    """(movies, faces) of each person of the published library."""
    generation = json.loads((share / "library" / "published.json").read_text())["generation"]
    db = LibraryDB(share / "library" / "g" / generation / LIBRARY_DB, readonly=True)
    return sorted((p.movies, p.faces) for p in db.people())


def test_s3_on_moto(tmp_path: Path, bucket: str, s3_env: dict[str, str], farm_movies: list[Path],
                    one_machine: dict, browser) -> None:
    import s3fs

    root = f"{bucket}/moviefaces"
    machines = [machine(root, tmp_path / name / "scratch") for name in ("a", "b")]
    keys = process(machines, farm_movies)

    reader = machine(root, tmp_path / "reader")["store"].library_reading()
    assert {key: people(reader.path and MovieFolder(reader.path / key)) for key in keys} \
        == one_machine
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    for key in keys:
        objects = fs.find(f"{root}/{key}")
        assert not [o for o in objects if o.endswith((".sqlite-wal", ".sqlite-shm"))]
        assert f"{root.removeprefix('s3://')}/{key}/work.sqlite" in objects
    # The pages as a bucket's static hosting serves them to anyone, under the bucket policy
    # of docs/farm.md (moto's server enforces bucket policies on anonymous requests): every
    # page and image loads, and nothing else can be read.
    apply_documented_policy(root)
    base = f"{s3_env['AWS_ENDPOINT_URL']}/{root.removeprefix('s3://')}"
    readable = {path: anonymous_status(f"{s3_env['AWS_ENDPOINT_URL']}/{path}")
                for path in fs.find(root)}
    public = {p for p, status in readable.items() if status == 200}
    assert {p for p in readable if p.endswith(PUBLIC)} == public, \
        f"not as the policy says: {sorted(set(readable.items()) - {(p, 200) for p in public})[:5]}"
    assert set(readable.values()) == {200, 403}
    private = {p.rsplit("/", 1)[-1] for p in readable if p not in public}
    assert {"work.sqlite", "movie.json", "published.json", "library.sqlite"} <= private, private
    assert any(p.endswith(".jpg") for p in public)
    with urllib.request.urlopen(f"{base}/index.html") as response:
        assert response.headers["Content-Type"].startswith("text/html")
        library_page = response.read().decode()
    links = re.findall(r'href="([^"#]+\.html)"', library_page)
    assert any(link.startswith(keys[0]) for link in links)
    page = browser.new_page()
    for url in (f"{base}/index.html", f"{base}/{keys[0]}/index.html"):
        page.goto(url)
        sizes = page.evaluate(LOAD_ALL_IMAGES)
        broken = [src for src, width in sizes if not width]
        assert sizes and not broken, f"{url}: {len(broken)} of {len(sizes)} images broken"
    page.close()


# What the documented policy serves: pages, their style sheet, images.
PUBLIC = (".html", ".css", ".jpg")


def documented_policy() -> str:
    """The bucket policy of docs/farm.md, as the reader copies it."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "farm.md").read_text()
    return re.search(r"```json\n(.*?)```", text.split("### Private by default")[1], re.S)[1]


def apply_documented_policy(root: str) -> None:
    import boto3

    bucket, prefix = root.removeprefix("s3://").split("/", 1)
    policy = documented_policy().replace("BUCKET", bucket).replace("PREFIX", prefix)
    boto3.client("s3").put_bucket_policy(Bucket=bucket, Policy=policy)


def anonymous_status(url: str) -> int:
    """The HTTP status of a GET without credentials (as a browser asks)."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_unregistered_movie_on_a_shared_root_is_one_line(tmp_path: Path, bucket: str) -> None:
    store = machine(f"{bucket}/x", tmp_path / "scratch")["store"]
    with pytest.raises(StoreError, match="not registered"), \
            store.shared().writing("nothing", "test"):
        pass


def test_the_folder_sensor_registers_into_object_storage(tmp_path: Path, bucket: str,
                                                         farm_movies: list[Path]) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    shutil.copy(farm_movies[0], incoming / "night.mp4")
    assert sensor_registers(machine(f"{bucket}/library", tmp_path / "scratch"),
                            str(incoming)) == {"night": str((incoming / "night.mp4").resolve())}
