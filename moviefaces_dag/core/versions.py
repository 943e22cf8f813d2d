"""Code versions: each stage's version hashes its settings and the code that shapes its output.

Dagster marks an asset stale when its code version changes, so changing a detector threshold
reruns detection (and what depends on it) while changing only the clustering threshold reruns
clusters and the report, never detection.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

# Bump a stage's revision when its code changes results in a way the hashed sources miss.
REVISIONS = {
    "movie": "1",
    "frames": "1",
    "face_detections": "1",
    "face_embeddings": "1",
    "face_clusters": "1",
    "movie_report": "1",
    "face_dataset": "1",
    "people_decisions": "1",
    "library_decisions": "1",
    "library": "1",
}

PACKAGE = "moviefaces_dag"

# The files that shape each stage's output. The face-model stages hash only their own: a change
# to the recogniser's code reruns embeddings but never the expensive detection (and the other
# way round).
_MODEL_SOURCES = ("faces/types.py", "faces/runners.py", "faces/triton_runner.py",
                  "faces/opencv_backend.py", "faces/scrfd_arcface.py", "faces/paired.py",
                  "faces/buffalo.py", "defs/resources/face_analyzer.py")
# tracking.py picks the passes (shots.py: where shots start); dequantize.py makes YuNet's net;
# blobs.py makes the detectors' inputs.
DETECTOR_SOURCES = (*_MODEL_SOURCES, "faces/yunet.py", "faces/scrfd.py", "faces/quality.py",
                    "faces/tracking.py", "faces/dequantize.py", "faces/blobs.py", "media/shots.py",
                    "core/boxes.py")
RECOGNIZER_SOURCES = (*_MODEL_SOURCES, "faces/sface.py", "faces/recognizer.py",
                      "faces/alignment.py", "faces/scrfd.py",  # scrfd.py: input layouts
                      "faces/dlib_descriptor.py")
SOURCES = {
    "movie": ("media/video.py",),
    "frames": ("media/video.py", "media/shots.py"),
    "face_detections": DETECTOR_SOURCES,
    "face_embeddings": RECOGNIZER_SOURCES,
    "face_clusters": ("people/vectors.py", "people/clustering.py", "people/constraints.py",
                      "people/graph.py", "people/linkage.py", "people/evidence.py",
                      "people/movie_people.py", "people/stable_ids.py", "people/stability.py",
                      "people/decisions.py", "people/decision_log.py", "media/shots.py",
                      "core/boxes.py"),
    "people_decisions": ("people/decisions.py", "people/decision_log.py", "core/boxes.py"),
    "movie_report": ("report", "templates", "core/words.py", "faces/chances.py"),
    "face_dataset": ("report/export.py",),
    "library_decisions": ("people/decisions.py", "people/decision_log.py", "core/boxes.py"),
    "library": ("people/library.py", "people/library_movies.py", "people/linking.py", "report",
                "templates", "store/library_db.py"),
}


def _source_digest(*relative_paths: str) -> str:
    """Hash of package files (source or templates) that determine a stage's output."""
    digest = hashlib.sha1()
    root = resources.files(PACKAGE)
    for rel in relative_paths:
        node = root.joinpath(*rel.split("/"))
        if not (node.is_dir() or node.is_file()):
            raise FileNotFoundError(f"{PACKAGE}/{rel}, listed as shaping a stage, is missing")
        files = sorted(node.iterdir(), key=lambda p: p.name) if node.is_dir() else [node]
        for item in files:
            if item.is_file() and item.name.endswith((".py", ".j2", ".css", ".js")):
                digest.update(item.name.encode())
                digest.update(item.read_bytes())
    return digest.hexdigest()


def version_of(stage: str, settings: dict[str, Any], *sources: str) -> str:
    payload = json.dumps(
        {"revision": REVISIONS[stage], "settings": settings,
         "sources": _source_digest(*sources) if sources else ""},
        sort_keys=True, default=str,
    )
    return f"{REVISIONS[stage]}-{hashlib.sha1(payload.encode()).hexdigest()[:12]}"


def stage_version(stage: str, settings: dict[str, Any]) -> str:
    """The code version of `stage` made with these settings, from the files listed for it."""
    return version_of(stage, settings, *SOURCES[stage])
