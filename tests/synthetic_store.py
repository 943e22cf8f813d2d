"""A small real store for report and export tests: known people, built without a video.

Frames and crops are real JPEG files. People are assigned from the known identities (not by
the clusterer, whose behaviour other tests cover): 10, 7, 4 and 3 faces, with store person ids
deliberately out of rank order; the embeddings of persons 3 and 4 are just under the threshold
(a likely split); one face is unassigned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from moviefaces_dag.pipeline.library import publish_library
from moviefaces_dag.pipeline.stages import publish_report
from moviefaces_dag.store import FaceRow, FrameRow, MovieDB, MovieFolder, OutputRoot, PersonRow

THRESHOLD = 0.36
NEAR_SIMILARITY = 0.30  # persons 3 and 4: under THRESHOLD, within the report's margin
FPS = 1.0
FRAMES = 20
WIDTH, HEIGHT = 320, 240
# identity -> sampled frame indices it appears in
APPEARANCES = {
    "a": list(range(0, 10)),
    "b": list(range(5, 12)),  # shares frames 5-9 with "a"
    "c": list(range(12, 16)),
    "d": list(range(16, 19)),
    "e": [19],  # a singleton: unassigned
}
PERSON_IDS = {"a": 3, "b": 1, "c": 4, "d": 2}  # store ids, not in rank order


@dataclass(frozen=True)
class SyntheticMovie:
    root: OutputRoot
    folder: MovieFolder
    identities: dict[int, str]  # face id -> identity

    @property
    def key(self) -> str:
        return self.folder.key

    @property
    def output_dir(self) -> Path:
        return self.root.path

    @property
    def draft(self) -> MovieDB:
        return self.folder.draft_db()

    @property
    def pages(self) -> Path:
        """The published generation's folder: person and unassigned pages."""
        return self.folder.path / "g" / self.folder.published_generation()

    def publish(self) -> Path:
        """Publish the draft with its report, then the library (as the assets do); the movie
        page."""
        with self.folder.writing("test") as draft:
            publish_report(draft)
        publish_library(self.root)
        return self.folder.report_path

    def assign_people(self, min_faces: int = 2) -> None:
        """People from the identities with at least `min_faces` faces; the rest unassigned."""
        faces = self.draft.faces()
        groups: dict[str, list[FaceRow]] = {}
        for face in faces:
            groups.setdefault(self.identities[face.id], []).append(face)
        kept = {name: group for name, group in groups.items()
                if len(group) >= min_faces and name in PERSON_IDS}
        assignments = {f.id: PERSON_IDS.get(self.identities[f.id])
                       if self.identities[f.id] in kept else None for f in faces}
        people = [PersonRow(PERSON_IDS[name], len(group), min(f.time for f in group),
                            max(f.time for f in group), max(group, key=lambda f: f.quality).id)
                  for name, group in kept.items()]
        self.draft.replace_people(
            assignments, people,
            {"similarity_threshold": THRESHOLD, "min_faces": min_faces},
            {"people": len(people), "seconds": 0.05})


def _identity_vectors(dim: int = 16) -> dict[str, np.ndarray]:
    eye = np.eye(dim, dtype=np.float32)
    near = NEAR_SIMILARITY * eye[2] + np.sqrt(1 - NEAR_SIMILARITY**2) * eye[3]
    return {"a": eye[0], "b": eye[1], "c": eye[2], "d": near, "e": eye[4]}


def _jpeg(path: Path, seed: int, width: int, height: int) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), image)


def build_movie(
    output_dir: Path, movie_name: str = "film.mp4", key: str = "film"
) -> SyntheticMovie:
    """Register `movie_name` (no file needed), then frames, faces, embeddings and people."""
    root = OutputRoot(output_dir)
    folder = MovieFolder(root.path / key)
    folder.path.mkdir(parents=True)
    store = MovieDB(folder.draft_path)
    store.set_movie(key, str(output_dir / movie_name))
    store.update_movie(duration=float(FRAMES), width=WIDTH, height=HEIGHT, fps=24.0)
    media = folder.path
    (media / "frames" / "v1").mkdir(parents=True, exist_ok=True)
    (media / "faces" / "v1").mkdir(parents=True, exist_ok=True)
    frames = []
    for idx in range(FRAMES):
        path = f"frames/v1/{idx:06d}.jpg"
        _jpeg(media / path, idx, WIDTH, HEIGHT)
        frames.append(FrameRow(idx, idx / FPS, path, WIDTH, HEIGHT, cut_distance=0.0))
    store.replace_frames(frames, {"fps": FPS, "duration": None},
                         {"frames": FRAMES, "movie_seconds": float(FRAMES), "seconds": 0.5},
                         "synthetic", "frames/v1")
    frame_ids = {f.idx: f.id for f in store.frames()}
    faces, identities = [], []
    slot: dict[int, int] = {}
    for identity, indices in APPEARANCES.items():
        for idx in indices:
            n = slot.get(idx, 0)
            slot[idx] = n + 1
            crop = f"faces/v1/{idx:06d}_{n:02d}.jpg"
            _jpeg(media / crop, 1000 + len(faces), 60, 60)
            x, y = 20.0 + 150 * n, 40.0
            faces.append(FaceRow(
                frame_id=frame_ids[idx], box=(x, y, 60.0, 80.0), score=0.9,
                landmarks=((x + 15, y + 30), (x + 45, y + 30), (x + 30, y + 45),
                           (x + 18, y + 62), (x + 42, y + 62)),
                sharpness=100.0, size=60.0, frontalness=0.9,
                quality=0.5 + 0.01 * idx, crop_path=crop,
            ))
            identities.append(identity)
    store.replace_faces(faces, {"models": "yunet-test + sface-test"},
                        {"faces": len(faces), "seconds": 0.25}, "faces/v1")
    stored = store.faces()
    by_place = {(f.frame_id, f.box): f.id for f in stored}
    vectors = _identity_vectors()
    rng = np.random.default_rng(7)
    ids = [by_place[(f.frame_id, f.box)] for f in faces]
    # Raw recogniser output: SFace-like lengths of 6-12 (the store keeps unit vectors + lengths).
    lengths = rng.uniform(6.0, 12.0, (len(identities), 1))
    matrix = lengths * np.stack([vectors[i] + rng.normal(0, 0.01, vectors[i].shape)
                                 for i in identities])
    store.set_embeddings(ids, matrix.astype(np.float32), "sface-test", {}, {"seconds": 0.25})
    movie = SyntheticMovie(root, folder, dict(zip(ids, identities, strict=True)))
    movie.assign_people()
    return movie
