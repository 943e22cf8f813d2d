"""Code versions follow the settings and the files that shape a stage's output."""

from pathlib import Path

import pytest

from moviefaces_dag.core import versions
from moviefaces_dag.core.versions import DETECTOR_SOURCES, RECOGNIZER_SOURCES, SOURCES
from moviefaces_dag.definitions import code_versions, default_resources
from moviefaces_dag.defs.resources import ClusteringResource, FaceAnalyzerResource, SamplingResource


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
    # where detection spends its full passes shapes the detections, and only them
    changed = code_versions({**default_resources(),
                             "face_analyzer": FaceAnalyzerResource(full_pass_every=1)})
    assert {stage for stage in base if base[stage] != changed[stage]} == {"face_detections"}
    # SCRFD takes a full pass on every sample: the tracking settings are not its
    scrfd = FaceAnalyzerResource(backend="onnx", detector="scrfd")
    assert scrfd.detector_settings() == FaceAnalyzerResource(
        backend="onnx", detector="scrfd", full_pass_every=1).detector_settings()


def test_template_edit_changes_the_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "templates").mkdir()
    template = tmp_path / "templates" / "page.html.j2"
    template.write_text("<p>{{ a }}</p>")
    monkeypatch.setattr(versions.resources, "files", lambda package: tmp_path)
    before = versions.version_of("movie_report", {}, "templates")
    template.write_text("<p>{{ b }}</p>")
    assert versions.version_of("movie_report", {}, "templates") != before


def test_recogniser_code_never_reruns_detection(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for rel in {*DETECTOR_SOURCES, *RECOGNIZER_SOURCES}:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"# {rel}\n")
    monkeypatch.setattr(versions.resources, "files", lambda package: tmp_path)

    def both() -> tuple[str, str]:
        return (versions.version_of("face_detections", {}, *DETECTOR_SOURCES),
                versions.version_of("face_embeddings", {}, *RECOGNIZER_SOURCES))

    detector, recognizer = both()
    (tmp_path / "faces" / "sface.py").write_text("# the recogniser changed\n")
    assert both()[0] == detector and both()[1] != recognizer
    detector, recognizer = both()
    (tmp_path / "faces" / "yunet.py").write_text("# the detector changed\n")
    assert both()[0] != detector and both()[1] == recognizer


def test_every_face_model_module_is_hashed_into_a_stage() -> None:
    # A new module under faces/ that shapes detections or embeddings must join a source list;
    # the Triton server tooling only serves models, and the checks refuse broken output but
    # never change good output.
    package = Path(versions.__file__).parents[1]
    modules = {f"faces/{p.name}" for p in (package / "faces").glob("*.py")}
    tooling = {"faces/__init__.py", "faces/triton_server.py", "faces/triton_python_model.py",
               "faces/sanity.py",
               "faces/chances.py"}  # chances of a "yes": the report's suggestions (its source)
    assert "faces/chances.py" in SOURCES["movie_report"]
    assert modules - tooling <= {*DETECTOR_SOURCES, *RECOGNIZER_SOURCES}


def test_every_source_listed_for_a_stage_exists() -> None:
    """A renamed module would otherwise drop out of the hash silently."""
    for stage in SOURCES:
        versions.stage_version(stage, {})
    with pytest.raises(FileNotFoundError, match="report.py, listed as shaping a stage"):
        versions.version_of("movie_report", {}, "report.py")


def test_every_people_module_is_hashed_into_the_stage_it_shapes() -> None:
    package = Path(versions.__file__).parents[1]
    modules = {f"people/{p.name}" for p in (package / "people").glob("*.py")}
    # The checks refuse decisions before they are recorded; they never change a grouping.
    refusing = {"people/__init__.py", "people/checks.py",  # the review queue asks; its
                "people/review.py", "people/questions.py",  # answers are decisions
                "people/review_data.py", "people/person_runs.py",
                "people/review_answers.py"}
    assert modules - refusing <= {*SOURCES["face_clusters"], *SOURCES["library"]}
    assert "people/library.py" not in SOURCES["face_clusters"]  # never re-clusters movies
