"""Take the result away as a labelled dataset: person folders, YOLO annotations or JSON lines.

People keep their ids (as in the report and `moviefaces people`), with their names and library
ids where there are some; in YOLO the class index is the person's rank (most faces first) minus
one. Every export is written into a staging folder beside the target and moved into place at the
end, so a failed export never leaves a half-written dataset behind.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..core.words import remake_advice
from ..media.images import read_image, write_jpeg
from ..store import FaceRow, FrameRow, MovieDB, MovieFolder, NotPublishedError
from ..store.files import remove_leftovers, temporary_path, write_atomic
from ..store.library_db import LibraryDB

FORMATS = ("folders", "yolo", "jsonl")
LIBRARY_EXPORT = "library.jsonl"
MANIFEST = "moviefaces-export.json"  # also marks a folder as ours to replace
MONTAGE_FACES = 25
MONTAGE_TILE = 128
EXPORT_JPEG_QUALITY = 92  # a dataset is kept: a little more quality than the working files
# Portrait crop around a face box, in face widths (sides) and heights (top, bottom).
PORTRAIT_SIDE, PORTRAIT_TOP, PORTRAIT_BOTTOM = 0.45, 0.6, 0.9


class ExportError(Exception):
    """The export cannot run; the message says what to do."""


@dataclass(frozen=True)
class Person:
    id: int
    rank: int  # 1 = most faces
    name: str | None
    library_id: int | None

    @property
    def label(self) -> str:
        return self.name or f"person_{self.id:03d}"


@dataclass(frozen=True)
class Dataset:
    """One movie's published faces and people."""

    folder: MovieFolder
    db: MovieDB
    movie_path: str
    frames: dict[int, FrameRow]  # by frame id
    faces: list[FaceRow]  # time order
    people: dict[int, Person]  # by person id, most faces first

    def person(self, face: FaceRow) -> Person | None:
        return self.people.get(face.person_id) if face.person_id is not None else None

    def by_person(self) -> dict[int, list[FaceRow]]:
        groups: dict[int, list[FaceRow]] = defaultdict(list)
        for face in self.faces:
            if face.person_id in self.people:
                groups[face.person_id].append(face)
        return {pid: groups[pid] for pid in self.people if pid in groups}

    @property
    def remake_advice(self) -> str:
        return remake_advice(self.movie_path, str(self.folder.path.parent))

    def file(self, path: str) -> np.ndarray:
        try:
            return read_image(str(self.folder.file(path)), self.remake_advice)
        except FileNotFoundError as exc:
            raise ExportError(str(exc)) from exc


def default_export_dir(folder: MovieFolder, fmt: str) -> Path:
    return folder.path / "dataset" / fmt


def load_dataset(folder: MovieFolder, library_ids: dict[tuple[str, int], int],
                 library_names: dict[tuple[str, int], str] | None = None) -> Dataset:
    """The movie's published result (ExportError when there is none)."""
    try:
        db = folder.published()
    except NotPublishedError as exc:
        raise ExportError(str(exc)) from exc
    names = {**{pid: name for (movie, pid), name in (library_names or {}).items()
                if movie == folder.key}, **db.names()}
    return Dataset(
        folder=folder,
        db=db,
        movie_path=db.movie().path,
        frames={f.id: f for f in db.frames()},
        faces=db.faces(),
        people={p.person_id: Person(p.person_id, rank, names.get(p.person_id),
                                    library_ids.get((folder.key, p.person_id)))
                for rank, p in enumerate(db.people(hidden=False), start=1)},
    )


def export_dataset(folder: MovieFolder, out_dir: Path, fmt: str,
                   library_ids: dict[tuple[str, int], int] | None = None,
                   library_names: dict[tuple[str, int], str] | None = None) -> dict[str, Any]:
    """Write the movie's dataset in `fmt` to `out_dir`, replacing an earlier export there.
    `library_ids` ((movie, person) -> library id) labels people across movies; `library_names`
    names those the movie left unnamed after their library person."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir).resolve()
    _check_replaceable(out_dir)
    dataset = load_dataset(folder, library_ids or {}, library_names)
    remove_leftovers(out_dir.parent, out_dir.name)
    staging = temporary_path(out_dir)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        stats = WRITERS[fmt](dataset, staging)
        manifest = {"movie": dataset.movie_path, "partition": folder.key, "format": fmt,
                    **stats}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        shutil.rmtree(out_dir, ignore_errors=True)
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"path": str(out_dir), **manifest}


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file; give --out a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise ExportError(
            f"{out_dir} is not empty and holds no earlier moviefaces export; "
            "choose a new or empty folder"
        )


# images -----------------------------------------------------------------------------------------
def portrait_crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Head and shoulders around the face box, taller than wide, clipped to the frame."""
    x, y, w, h = box
    height, width = image.shape[:2]
    x0 = int(max(0, x - PORTRAIT_SIDE * w))
    x1 = int(min(width, x + w + PORTRAIT_SIDE * w))
    y0 = int(max(0, y - PORTRAIT_TOP * h))
    y1 = int(min(height, y + h + PORTRAIT_BOTTOM * h))
    return image[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]


def montage(images: list[np.ndarray], tile: int = MONTAGE_TILE) -> np.ndarray:
    """Up to 25 images as a square-ish grid of `tile`-pixel squares (centre-cropped)."""
    images = images[:MONTAGE_FACES]
    if not images:
        raise ValueError("a montage needs at least one image")
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    sheet = np.full((rows * tile, columns * tile, 3), 255, np.uint8)
    for n, image in enumerate(images):
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = cv2.resize(image[top:top + side, left:left + side], (tile, tile),
                            interpolation=cv2.INTER_AREA)
        r, c = divmod(n, columns)
        sheet[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile] = square
    return sheet


def _face_name(face: FaceRow) -> str:
    """Sortable by time: `00012.00s_face000123.jpg`."""
    return f"{face.time or 0.0:08.2f}s_face{face.id:06d}.jpg"


def _link_or_copy(source: Path, target: Path, advice: str) -> None:
    """Hard link when on one filesystem (frames are large), else copy."""
    if not source.is_file():
        raise ExportError(f"{source} is missing; {advice}")
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


# formats ----------------------------------------------------------------------------------------
def _person_json(person: Person) -> dict[str, Any]:
    return {"id": person.id, "rank": person.rank, "name": person.name,
            "library_id": person.library_id}


def write_folders(data: Dataset, out: Path) -> dict[str, Any]:
    """person_<id>/ with portrait crops and montage.jpg, unassigned/ with the rest, and
    people.json naming each folder's person."""
    folder_of = {face.id: out / (f"person_{p.id:03d}" if (p := data.person(face))
                                 else "unassigned")
                 for face in data.faces}
    for folder in set(folder_of.values()):
        folder.mkdir()
    by_frame: dict[int, list[FaceRow]] = defaultdict(list)
    for face in data.faces:
        by_frame[face.frame_id].append(face)
    for frame_id, group in by_frame.items():
        image = data.file(data.frames[frame_id].path)
        for face in group:
            write_jpeg(folder_of[face.id] / _face_name(face), portrait_crop(image, face.box),
                       EXPORT_JPEG_QUALITY)
    people = data.by_person()
    for person_id, group in people.items():
        best = sorted(group, key=lambda f: -f.quality)[:MONTAGE_FACES]
        write_jpeg(out / f"person_{person_id:03d}" / "montage.jpg",
                   montage([data.file(f.crop_path) for f in best]), EXPORT_JPEG_QUALITY)
    (out / "people.json").write_text(json.dumps(
        {f"person_{pid:03d}": _person_json(data.people[pid]) for pid in people},
        indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {"people": len(people), "faces": len(data.faces),
            "unassigned": sum(1 for f in data.faces if data.person(f) is None)}


def write_yolo(data: Dataset, out: Path) -> dict[str, Any]:
    """images/ + labels/ (one `class cx cy w h` line per face, normalised), classes.txt, data.yaml.

    Frames holding an unassigned face are left out: in YOLO an unlabelled face reads as background.
    """
    (out / "images").mkdir()
    (out / "labels").mkdir()
    by_frame: dict[int, list[FaceRow]] = defaultdict(list)
    for face in data.faces:
        by_frame[face.frame_id].append(face)
    written = skipped = boxes = 0
    for frame_id, frame in sorted(data.frames.items(), key=lambda item: item[1].idx):
        faces = by_frame.get(frame_id, [])
        if any(data.person(f) is None for f in faces):
            skipped += 1
            continue
        stem = f"{frame.idx:06d}"
        _link_or_copy(data.folder.file(frame.path), out / "images" / f"{stem}.jpg",
                      data.remake_advice)
        lines = [_yolo_line(data.person(f).rank - 1, f.box, frame.width, frame.height)
                 for f in faces]
        (out / "labels" / f"{stem}.txt").write_text("".join(f"{line}\n" for line in lines))
        written += 1
        boxes += len(lines)
    names = [p.label for p in data.people.values()]  # by rank: class index = rank - 1
    (out / "classes.txt").write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    (out / "data.yaml").write_text(
        "path: .\ntrain: images\nval: images\nnames:\n"
        + "".join(f"  {i}: {json.dumps(name, ensure_ascii=False)}\n"
                  for i, name in enumerate(names)), encoding="utf-8")
    return {"classes": len(names), "images": written, "boxes": boxes,
            "frames_skipped_unassigned": skipped}


def _yolo_line(cls: int, box: tuple[float, float, float, float], width: int, height: int) -> str:
    x, y, w, h = box
    x0, y0 = max(0.0, x), max(0.0, y)  # faces cut by the frame edge: clip to the image
    x1, y1 = min(float(width), x + w), min(float(height), y + h)
    cx, cy = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height
    return f"{cls} {cx:.6f} {cy:.6f} {(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}"


def write_jsonl(data: Dataset, out: Path) -> dict[str, Any]:
    """dataset.jsonl (person lines, then face lines), faces/ crops and embeddings.npy."""
    (out / "faces").mkdir()
    face_ids, matrix, model = data.db.embeddings()
    row_of = {face_id: row for row, face_id in enumerate(face_ids)}
    np.save(out / "embeddings.npy", matrix)
    lines = []
    for person_id, group in data.by_person().items():
        best = max(group, key=lambda f: f.quality)
        lines.append({
            "type": "person", **_person_json(data.people[person_id]), "count": len(group),
            "first_seen": min(f.time for f in group), "last_seen": max(f.time for f in group),
            "appearances": sorted({f.time for f in group}),
            "best_face": f"faces/{_face_name(best)}",
        })
    for face in data.faces:
        _link_or_copy(data.folder.file(face.crop_path), out / "faces" / _face_name(face),
                      data.remake_advice)
        row = row_of.get(face.id)
        lines.append({
            "type": "face", "id": face.id, "person": face.person_id if data.person(face) else None,
            "time": face.time,
            "frame": data.frames[face.frame_id].idx, "image": f"faces/{_face_name(face)}",
            "box": list(face.box), "score": face.score, "quality": face.quality,
            "landmarks": [list(p) for p in face.landmarks],
            "embedding": None if row is None else
            {"file": "embeddings.npy", "row": row, "model": model, "norm": face.embedding_norm},
        })
    with (out / "dataset.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return {"people": len(data.people), "faces": len(data.faces), "embeddings": len(face_ids)}


WRITERS: dict[str, Callable[[Dataset, Path], dict[str, Any]]] = {
    "folders": write_folders, "yolo": write_yolo, "jsonl": write_jsonl,
}


def export_library(library: LibraryDB, out: Path) -> dict[str, Any]:
    """`library.jsonl` (written into `out` when it is a folder): a line per library person
    (`"type": "person"`: id, name, members, and per movie first and last seen, faces, screen
    time) and per pair who met (`"type": "met"`). Scripts read it: the field names stay."""
    people = library.people()
    lines: list[dict[str, Any]] = [{
        "type": "person", "id": p.id, "name": p.name, "other_names": list(p.other_names),
        "members": [{"movie": m.movie, "person": m.person_id} for m in p.members],
        "movies": [{"movie": m.movie, "person": m.person_id, "first_seen": m.first_seen,
                    "last_seen": m.last_seen, "faces": m.faces,
                    "screen_time": round(m.screen_time, 3)} for m in p.members],
    } for p in people]
    together: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for a, b, movie, shots in library.met():
        together[(a, b)].append({"movie": movie, "shots": shots})
    lines += [{"type": "met", "people": [a, b], "movies": movies,
               "shots": sum(m["shots"] for m in movies)}
              for (a, b), movies in sorted(together.items())]
    out = Path(out)
    if out.is_dir():
        out = out / LIBRARY_EXPORT
    remove_leftovers(out.parent, out.name)
    write_atomic(out, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return {"path": str(out), "people": len(people), "met": len(together)}
