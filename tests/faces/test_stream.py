"""detect_stream: one loop for every backend, in order."""

from __future__ import annotations

from moviefaces_dag.faces.opencv_backend import OpenCVFaceAnalyzer
from moviefaces_dag.faces.stream import detect_stream


def test_backends_without_detect_many_detect_frame_by_frame(cast_a_frames) -> None:
    analyzer = OpenCVFaceAnalyzer()
    frames = cast_a_frames[:6]
    streamed = list(detect_stream(analyzer, iter(frames)))
    assert [image is frame for (image, _), frame in zip(streamed, frames, strict=True)] == \
        [True] * len(frames)
    assert [[d.box for d in found] for _, found in streamed] == \
        [[d.box for d in analyzer.detect(frame)] for frame in frames]
    assert any(found for _, found in streamed)
