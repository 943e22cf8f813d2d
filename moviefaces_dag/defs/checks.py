"""The movie's asset checks: evaluated with each materialization, blocking where later stages
would build on broken results."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

CROPS = AssetCheckSpec(
    "every_face_has_its_crop", asset="face_detections", blocking=True,
    description="Every detected face has its crop and thumbnail file (the report shows them).")
EMBEDDED = AssetCheckSpec(
    "every_face_embedded_at_model_width", asset="face_embeddings", blocking=True,
    description="Every face has an embedding, as wide as the recogniser's output.")
ONE_FACE_PER_FRAME = AssetCheckSpec(
    "no_two_faces_of_one_frame_in_one_person", asset="face_clusters", blocking=True,
    description="No person holds two faces of one frame.")
REPORT_COMPLETE = AssetCheckSpec(
    "report_renders_with_every_image", asset="movie_report",
    description="Every image and link of the published pages leads to a file.")


def check_result(spec: AssetCheckSpec, problems: list[str]) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=spec.name, asset_key=spec.asset_key, passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={"problems": len(problems),
                  "first_problems": MetadataValue.md("\n".join(f"- {p}" for p in problems[:20])
                                                     or "none")},
    )
