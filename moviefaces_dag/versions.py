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
}

PACKAGE = "moviefaces_dag"


def _source_digest(*relative_paths: str) -> str:
    """Hash of package files (source or templates) that determine a stage's output."""
    digest = hashlib.sha1()
    root = resources.files(PACKAGE)
    for rel in relative_paths:
        node = root.joinpath(*rel.split("/"))
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
