"""Where a movie is, as every machine of a farm can name it: its location.

A location is one of
- `movies:REL` — the file REL under the movies root, which each machine mounts where it likes
  (setting `store.movies_dir`, as `store.output_dir` for the output root);
- an object-storage URL (`s3://bucket/film.mp4`, any fsspec URL);
- an absolute path (a movie outside the movies root: read only where that path exists).

Registration stores the location, never a path resolved on one machine. A step opens a URL
through a copy in its scratch folder, made once per version of the object (its ETag) and reused
by the steps that follow on that machine: FFmpeg then reads a local file at disk speed, where
ranged reads through Python would cost a request per seek (benchmarks/movie_sources.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.processes import process_alive
from ..core.scratch import Scratch, default_scratch_dir
from .video import MovieError, file_identity

ROOT_PREFIX = "movies:"
SOURCES = "sources"  # the scratch folder's copies of movies in object storage
MOVIES_DIR_SETTING = "store.movies_dir ($MOVIEFACES_MOVIES_DIR)"


def is_url(location: str) -> bool:
    return "://" in location


def is_path(location: str) -> bool:
    """Whether a location is a path of this machine (not a URL, not under the movies root)."""
    return not (is_url(location) or location.startswith(ROOT_PREFIX))


def normalized(location: str | Path) -> str:
    """A location as stored: a path made absolute with its links resolved, else as given."""
    text = str(location)
    return str(Path(text).resolve()) if is_path(text) else text.rstrip("/")


class MovieSources:
    """Locations of movies for this machine: its mount of the movies root, and `scratch`
    for local copies of movies in object storage."""

    def __init__(self, movies_dir: str | None, scratch: Scratch):
        self.movies_dir = Path(movies_dir).expanduser().absolute() if movies_dir else None
        self.scratch = scratch
        self.cache = scratch.top / SOURCES

    def location(self, given: str | Path) -> str:
        """The location to register for a movie given as a path or a URL."""
        text = str(given)
        if not is_path(text) or self.movies_dir is None:
            return normalized(text)
        # As given first: a link under the movies root is a movie of the root.
        for path, root in ((Path(os.path.abspath(text)), self.movies_dir),
                           (Path(text).resolve(), self.movies_dir.resolve())):
            if path.is_relative_to(root):
                return ROOT_PREFIX + path.relative_to(root).as_posix()
        return normalized(text)

    def local(self, location: str) -> Path:
        """A path of this machine to a movie registered under another location form, without
        reading it (a URL has none)."""
        if location.startswith(ROOT_PREFIX):
            if self.movies_dir is None:
                raise MovieError(f"{location}: this movie is under the movies root; set "
                                 f"{MOVIES_DIR_SETTING} to where this machine mounts it")
            return self.movies_dir / location[len(ROOT_PREFIX):]
        return Path(location)

    @contextmanager
    def opened(self, location: str) -> Iterator[Path]:
        """A local file holding the movie for the block: the file itself, or for a URL a copy
        in scratch kept from eviction until the block ends."""
        if not is_url(location):
            yield self.local(location)
            return
        fs, path = _filesystem(location)
        # One copy per version of the object: a replaced movie is copied again.
        name = hashlib.sha1(f"{location}\0{_version(_info(fs, path, location))}".encode())
        copy = self.cache / f"{name.hexdigest()[:20]}{Path(path).suffix.lower()}"
        with self.scratch.using(copy):
            if not copy.is_file():
                self.cache.mkdir(parents=True, exist_ok=True)
                self._remove_dead_partials()
                partial = copy.with_name(f".{copy.name}.part-{os.getpid()}")
                try:
                    fs.get_file(path, str(partial))
                except (OSError, ValueError) as exc:
                    partial.unlink(missing_ok=True)
                    raise MovieError(f"{location}: cannot be read ({exc})") from exc
                os.replace(partial, copy)
            yield copy
        self.scratch.trim()

    def _remove_dead_partials(self) -> None:
        """Copies left half done by a killed process of this machine."""
        for partial in self.cache.glob(".*.part-*"):
            pid = partial.name.rsplit("-", 1)[-1]
            with contextlib.suppress(FileNotFoundError):
                if pid.isdigit() and not process_alive(int(pid), partial.stat().st_mtime):
                    partial.unlink()

    def identity(self, location: str) -> tuple[int, int, int] | None:
        """(size, modification time in ns, inode or a number from the object's ETag) of the
        movie, or None when it is gone."""
        if not is_url(location):
            try:
                return file_identity(self.local(location))
            except OSError:
                return None
        fs, path = _filesystem(location)
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return None
        return _identity(info)

    def listing(self, folder: str) -> list[tuple[str, tuple[int, int, int]]]:
        """(location, identity) of every object below the URL `folder` (an object exists only
        when it was uploaded whole)."""
        fs, path = _filesystem(folder)
        scheme = folder.split("://", 1)[0]
        found = fs.find(path, detail=True)
        return [(f"{scheme}://{name}", _identity(info)) for name, info in sorted(found.items())
                if info.get("type", "file") == "file"]


def plain_sources() -> MovieSources:
    """Locations for a caller without settings (tests, benchmarks): paths, and URLs copied to
    the system's temporary folder."""
    return MovieSources(None, Scratch(default_scratch_dir(), 1 << 62, float("inf")))


def _filesystem(url: str):
    from fsspec.core import url_to_fs

    try:
        # Another machine may have added or replaced objects: never a cached listing.
        return url_to_fs(url, use_listings_cache=False)
    except (ImportError, ValueError) as exc:
        raise MovieError(f"{url}: cannot be read ({exc})") from exc


def _info(fs, path: str, location: str) -> dict:
    try:
        return fs.info(path)
    except FileNotFoundError:
        raise MovieError(f"{location}: no such object") from None
    except OSError as exc:
        raise MovieError(f"{location}: cannot be read ({exc})") from exc


def _version(info: dict) -> str:
    return str(info.get("ETag") or info.get("etag") or _identity(info))


def _identity(info: dict) -> tuple[int, int, int]:
    modified = info.get("LastModified") or info.get("mtime") or 0
    ns = int(modified.timestamp() * 1e9) if hasattr(modified, "timestamp") \
        else int(float(modified) * 1e9)
    tag = str(info.get("ETag") or info.get("etag") or "")
    return int(info["size"]), ns, zlib.crc32(tag.encode())
