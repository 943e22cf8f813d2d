"""The detectors' input blobs equal OpenCV's `blobFromImage` on a real frame, bit for bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from moviefaces_dag.faces.blobs import planar_blob


@pytest.mark.parametrize("mean, scale, swap_rb", [(0.0, 1.0, False), (127.5, 1 / 128, True)])
def test_equals_opencv_on_a_padded_frame(cast_a_frames, mean, scale, swap_rb) -> None:
    frame = cast_a_frames[5]
    height, width = frame.shape[0] + 13, frame.shape[1] + 27  # padding below and right
    padded = cv2.copyMakeBorder(frame, 0, 13, 0, 27, cv2.BORDER_CONSTANT, value=0)
    expected = cv2.dnn.blobFromImage(padded, scale, (width, height), (mean,) * 3,
                                     swapRB=swap_rb)
    blob = planar_blob(frame, height, width, mean, scale, swap_rb)
    assert blob.dtype == np.float32 and blob.shape == expected.shape
    assert np.array_equal(blob, expected)


def test_takes_a_crop_of_a_larger_frame(cast_a_frames) -> None:
    frame = cast_a_frames[5]
    crop = frame[100:260, 64:400]  # a view, as detect_windows passes it
    assert np.array_equal(planar_blob(crop, 160, 352),
                          cv2.dnn.blobFromImage(np.ascontiguousarray(
                              cv2.copyMakeBorder(crop, 0, 0, 0, 16, cv2.BORDER_CONSTANT,
                                                 value=0))))
