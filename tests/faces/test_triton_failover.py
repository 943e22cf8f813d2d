"""A Triton server that dies mid-run: the step fails cleanly, the store keeps the movie's
previous results, and the same stages complete once the server is back (own server, real
SQLite store, the real pipeline stage functions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from moviefaces_dag.core.progress import LogFn, LogProgress, Tick
from moviefaces_dag.defs.resources import FaceAnalyzerResource
from moviefaces_dag.faces.triton_server import TritonServer
from moviefaces_dag.faces.types import FaceModelError
from moviefaces_dag.pipeline.stages import detect_faces, embed_faces, extract_frames
from moviefaces_dag.store import MovieFolder, OutputRoot

KEY = "cast_a"


class KillServerDuringDetection:
    """A progress reporter that kills the server after `after` frames of face detection."""

    def __init__(self, server: TritonServer, after: int):
        self.server, self.after = server, after

    @contextmanager
    def stage(self, name: str, total: int | None, log: LogFn) -> Iterator[Tick]:
        done = 0

        def tick(n: int = 1) -> None:
            nonlocal done
            done += n
            if name == "detect faces" and done == self.after:
                self.server.kill()

        yield tick


def run_face_stages(folder: MovieFolder, resource: FaceAnalyzerResource, progress) -> None:
    with folder.writing("test") as draft, resource.analyzer() as analyzer:
        detect_faces(draft, analyzer, resource.detector_settings(), progress, lambda _: None)
        embed_faces(draft, analyzer, resource.recognizer_settings(), progress, lambda _: None)


def snapshot(folder: MovieFolder) -> tuple:
    db = folder.draft_db()
    faces = [(f.id, f.frame_id, f.box, f.crop_path) for f in db.faces()]
    face_ids, matrix, model = db.embeddings()
    return faces, face_ids, matrix.tobytes(), model, db.stage_runs()["face_detections"]


def test_server_death_mid_run_keeps_the_store_and_a_rerun_completes(served_models, cast_a,
                                                                     tmp_path) -> None:
    server = TritonServer(served_models, workdir=tmp_path / "triton")
    server.start()
    try:
        root = OutputRoot(tmp_path / "out")
        folder = root.folder(root.register(cast_a))
        with folder.writing("test") as draft:
            extract_frames(draft, 1.0, 20, LogProgress(), lambda _: None)
        resource = FaceAnalyzerResource(
            backend="triton", triton_url=server.url, triton_recognizer="mobilefacenet",
            recognizer_color="BGR", retry_timeout_s=2.0,
        )
        run_face_stages(folder, resource, LogProgress())
        before = snapshot(folder)
        assert len(before[0]) >= 15

        with pytest.raises(FaceModelError, match=f"Triton server at {server.url}") as failure:
            run_face_stages(folder, resource, KillServerDuringDetection(server, 5))
        assert "\n" not in str(failure.value)
        assert not server.running()
        assert snapshot(folder) == before
        assert all(folder.file(crop).is_file() for *_, crop in before[0])

        server.start()  # the same port, as a restarted service would be
        run_face_stages(folder, resource, LogProgress())
        faces, face_ids, _, model, _ = snapshot(folder)
        assert [f[1:3] for f in faces] == [f[1:3] for f in before[0]]
        assert len(face_ids) == len(faces) and model == "mobilefacenet"
    finally:
        server.close()
