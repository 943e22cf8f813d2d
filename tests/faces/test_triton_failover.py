"""A Triton server that dies mid-run: the step fails cleanly, the store keeps the movie's
previous results, and the same stages complete once the server is back (own server, real
SQLite store, the real pipeline stage functions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from moviefaces_dag.faces.triton_server import TritonServer
from moviefaces_dag.faces.types import FaceModelError
from moviefaces_dag.layout import DB_NAME
from moviefaces_dag.pipeline import detect_faces, embed_faces, extract_frames
from moviefaces_dag.progress import LogFn, LogProgress, Tick
from moviefaces_dag.resources import FaceAnalyzerResource
from moviefaces_dag.store import MovieStore

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


def run_face_stages(store: MovieStore, output_dir: Path, resource: FaceAnalyzerResource,
                    progress) -> None:
    with resource.analyzer() as analyzer:
        detect_faces(store, KEY, output_dir, analyzer, resource.detector_settings(), progress,
                     lambda _: None)
        embed_faces(store, KEY, analyzer, resource.recognizer_settings(), progress,
                    lambda _: None)


def snapshot(store: MovieStore) -> tuple:
    faces = [(f.id, f.frame_id, f.box, f.crop_path) for f in store.faces(KEY)]
    face_ids, matrix, model = store.embeddings(KEY)
    return faces, face_ids, matrix.tobytes(), model, store.stage_runs(KEY)["face_detections"]


def test_server_death_mid_run_keeps_the_store_and_a_rerun_completes(served_models, cast_a,
                                                                     tmp_path) -> None:
    server = TritonServer(served_models, workdir=tmp_path / "triton")
    server.start()
    try:
        store = MovieStore(tmp_path / DB_NAME)
        store.register_movie(KEY, str(cast_a))
        extract_frames(store, KEY, tmp_path, 1.0, 20, LogProgress(), lambda _: None)
        resource = FaceAnalyzerResource(
            backend="triton", triton_url=server.url, triton_recognizer="mobilefacenet",
            recognizer_color="BGR", retry_timeout_s=2.0,
        )
        run_face_stages(store, tmp_path, resource, LogProgress())
        before = snapshot(store)
        assert len(before[0]) >= 15

        with pytest.raises(FaceModelError, match=f"Triton server at {server.url}") as failure:
            run_face_stages(store, tmp_path, resource, KillServerDuringDetection(server, 5))
        assert "\n" not in str(failure.value)
        assert not server.running()
        assert snapshot(store) == before
        assert all(Path(crop).is_file() for *_, crop in before[0])

        server.start()  # the same port, as a restarted service would be
        run_face_stages(store, tmp_path, resource, LogProgress())
        faces, face_ids, _, model, _ = snapshot(store)
        assert [f[1:3] for f in faces] == [f[1:3] for f in before[0]]
        assert len(face_ids) == len(faces) and model == "mobilefacenet"
    finally:
        server.close()
