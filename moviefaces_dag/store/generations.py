"""Results published whole: a folder of generations and a pointer that names the current one.

    <folder>/published.json   names the published generation: the commit point
    <folder>/g/<generation>/  one published result (its store snapshot and pages)
    <page>                    the result's main page (a copy of g/<generation>/main.html)

A new generation is built in a staging folder, renamed into place, then the pointer is switched
in one rename, so a crash at any point leaves the old result or the new one. The main page is
installed and older generations removed only after that switch.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..core.faults import fault_point
from .files import fsync_tree, remove_leftovers, write_atomic
from .schema import StoreError

POINTER_NAME = "published.json"
GENERATIONS = "g"
MAIN_PAGE = "main.html"  # in a generation: the main page, installed at its own address


@dataclass(frozen=True)
class Generation:
    """A result being published: its name, the folder it will have once published (relative
    to the folder of generations, for links), and the folder it is written into now."""

    name: str
    folder: str
    staging: Path
    # Files the build hard-linked from a published generation: already on disk, not flushed
    # again.
    durable: set[Path] = field(default_factory=set)


class Generations:
    def __init__(self, folder: Path, page: Path,
                 keep: Callable[[], set[str]] = frozenset):
        """`keep` names older generations still pointed at from elsewhere (the library's
        pages): they stay until nothing does."""
        self.folder = Path(folder)
        self.page = Path(page)
        self.keep = keep

    def current(self) -> str | None:
        try:
            return json.loads((self.folder / POINTER_NAME).read_text())["generation"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"{self.folder / POINTER_NAME} is damaged ({exc})") from exc

    def path(self, generation: str) -> Path:
        return self.folder / GENERATIONS / generation

    def publish(self, build: Callable[[Generation], None]) -> str:
        """Publish what `build` writes into the new generation's staging folder (its main page
        as MAIN_PAGE); return the generation's name."""
        previous = self.current()
        number = int(previous.split("-")[0]) + 1 if previous else 1
        name = f"{number:06d}-{uuid.uuid4().hex[:6]}"
        staging = self.folder / GENERATIONS / f".{name}.tmp"
        staging.mkdir(parents=True)
        try:
            generation = Generation(name, f"{GENERATIONS}/{name}", staging)
            build(generation)
            if not (staging / MAIN_PAGE).is_file():
                raise StoreError(f"publishing {self.folder.name} wrote no {MAIN_PAGE}")
            fsync_tree(staging, generation.durable)
            self._fault_point("staged")
            staging.rename(self.path(name))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._fault_point("renamed")
        write_atomic(self.folder / POINTER_NAME, json.dumps(
            {"generation": name, "published_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        self._fault_point("switched")
        self.recover()
        return name

    def _fault_point(self, step: str) -> None:
        fault_point(f"publish:{step}")  # any publish
        fault_point(f"publish:{step}:{self.folder.name}")  # a movie's (its key) or the library's

    def recover(self) -> None:
        """Finish what a stopped writer left: the main page in place, older generations and
        unfinished staging folders removed."""
        generation = self.current()
        if generation is not None:
            page = (self.path(generation) / MAIN_PAGE).read_bytes()
            if not self.page.is_file() or self.page.read_bytes() != page:
                write_atomic(self.page, page)
                self._fault_point("installed")
        keep = {generation, *self.keep()}
        for old in subfolders(self.folder / GENERATIONS):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        for folder in {self.folder, self.page.parent}:
            remove_leftovers(folder)


def subfolders(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.is_dir()] if path.is_dir() else []
