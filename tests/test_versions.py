"""Code versions follow the settings and the files that shape a stage's output."""

from pathlib import Path

import pytest

from moviefaces_dag import versions
from moviefaces_dag.definitions import code_versions, default_resources
from moviefaces_dag.resources import ClusteringResource, FaceAnalyzerResource, SamplingResource


def test_each_setting_moves_only_its_stages() -> None:
    base = code_versions(default_resources())
    changes = {
        "sampling": (SamplingResource(fps=2.0), {"frames"}),
        "face_analyzer": (FaceAnalyzerResource(score_threshold=0.42),
                          {"face_detections"}),
        "clustering": (ClusteringResource(algorithm="complete"), {"face_clusters"}),
    }
    for name, (resource, expected) in changes.items():
        changed = code_versions({**default_resources(), name: resource})
        moved = {stage for stage in base if base[stage] != changed[stage]}
        assert moved == expected, name


def test_template_edit_changes_the_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "templates").mkdir()
    template = tmp_path / "templates" / "page.html.j2"
    template.write_text("<p>{{ a }}</p>")
    monkeypatch.setattr(versions.resources, "files", lambda package: tmp_path)
    before = versions.version_of("movie_report", {}, "templates")
    template.write_text("<p>{{ b }}</p>")
    assert versions.version_of("movie_report", {}, "templates") != before
