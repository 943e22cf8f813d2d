"""The output folder (a store per movie) as a Dagster resource: a local folder, or a root that
several machines share (store/shared.py), which steps work on through local copies."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from dagster import AssetExecutionContext, Failure

from ...core.scratch import Scratch, default_scratch_dir
from ...core.settings import SettingError
from ...media.sources import MovieSources
from ...media.video import MovieError
from ...people.decisions import DecisionError
from ...pipeline.outputs import open_output
from ...report.export import ExportError
from ...store import Draft, MovieBusyError, OutputRoot, StoreError
from ...store.shared import LIBRARY, SharedRoot, is_url
from ..run_health import end_with_parent
from .base import SettingsResource, setting_field

# What the user must fix: retrying cannot help (assets/steps.py).
FINAL_ERRORS = (MovieError, StoreError, SettingError, MovieBusyError, DecisionError, ExportError)


@contextmanager
def final_errors() -> Iterator[None]:
    try:
        yield
    except FINAL_ERRORS as exc:
        raise Failure(description=str(exc), allow_retries=False) from exc


class MovieStoreResource(SettingsResource):
    """Where each movie's store, frames, face crops and report live."""

    section: ClassVar[str] = "store"
    output_dir: str = setting_field("store.output_dir")
    scratch_dir: str | None = setting_field("store.scratch_dir")
    lease_seconds: float = setting_field("store.lease_seconds")
    lease_database: str | None = setting_field("store.lease_database")
    movies_dir: str | None = setting_field("store.movies_dir")
    scratch_gb: float = setting_field("store.scratch_gb")
    scratch_days: float = setting_field("store.scratch_days")

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir).absolute()

    def scratch(self) -> Scratch:
        """This machine's scratch folder and its bounds."""
        top = Path(self.scratch_dir) if self.scratch_dir else default_scratch_dir()
        return Scratch(top, int(self.scratch_gb * 1e9), self.scratch_days * 86400)

    def sources(self) -> MovieSources:
        """Where this machine finds the registered movies (media/sources.py)."""
        return MovieSources(self.movies_dir, self.scratch())

    def shared(self) -> SharedRoot | None:
        """The shared root, when steps work on local copies (a URL, or a scratch folder set)."""
        if not is_url(self.output_dir) and self.scratch_dir is None:
            return None
        location = self.output_dir if is_url(self.output_dir) else str(self.output_path)
        try:
            return SharedRoot(location, self.scratch(), self.lease_seconds,
                              self.lease_database)
        except ImportError as exc:
            raise SettingError(f"store.output_dir {self.output_dir}: {exc}") from None

    def root(self) -> OutputRoot:
        """The local output root (steps use `writing`, which also serves shared roots)."""
        if is_url(self.output_dir):
            raise SettingError(f"store.output_dir {self.output_dir} is object storage; this "
                               "works only on a local or mounted folder")
        return open_output(self.output_path)

    def registry(self) -> OutputRoot | SharedRoot:
        """What registers movies and lists them (`movies()`, `register()`)."""
        return self.shared() or self.root()

    @contextmanager
    def writing(self, context: AssetExecutionContext,
                needs: Collection[str] = ()) -> Iterator[Draft]:
        """The partition's movie, with this step as its one writer; on a shared root, a local
        copy with the file folders of the kinds in `needs` ("frames", "faces")."""
        end_with_parent()
        key = context.partition_key
        what = f"Dagster run {context.run.run_id[:8]} ({context.op_execution_context.op.name})"
        shared = self.shared()
        with final_errors():
            if shared is not None:
                with shared.writing(key, what, needs) as draft:
                    yield draft
                return
            with self.root().folder(key).writing(what) as draft:
                yield draft

    def decisions_folder(self, key: str) -> Path:
        """The folder of a movie (or with key LIBRARY, of the library) to read the user's
        decisions from."""
        shared = self.shared()
        if shared is not None:
            return shared.reading(key).path
        root = self.root()
        return root.path / LIBRARY if key == LIBRARY else root.folder(key).path

    @contextmanager
    def library_writing(self) -> Iterator[OutputRoot]:
        """A root holding every published movie result, to build the library in; on a shared
        root, a local copy whose library is written back."""
        shared = self.shared()
        with final_errors():
            if shared is None:
                yield self.root()
                return
            with shared.library_writing() as root:
                yield root

    def files(self, key: str) -> Callable[[Path], bool] | None:
        """On a shared root, whether a file of the movie's local copy is also on the root (a
        copy holds only what its step needed); None on a local root."""
        shared = self.shared()
        if shared is None:
            return None
        folder = (shared.movies_mirror.path / key).resolve()
        remote = shared.files(key)
        return lambda path: path.exists() or path.relative_to(folder).as_posix() in remote

    def publish_folder(self, key: str, relative: str, local: Path) -> None:
        """On a shared root, replace the movie's folder `relative` there with `local`."""
        shared = self.shared()
        if shared is not None:
            shared.push_tree(key, relative, local)

    def location(self, *parts: str) -> str:
        """Where a file of the output root is, as a path or a URL, for people and metadata."""
        if is_url(self.output_dir):
            return "/".join([self.output_dir.rstrip("/"), *parts])
        return str(self.output_path.joinpath(*parts))

    def url(self, *parts: str) -> str:
        location = self.location(*parts)
        return location if is_url(location) else Path(location).as_uri()

    def library_reading(self) -> OutputRoot:
        shared = self.shared()
        return shared.library_reading() if shared is not None else self.root()
