"""dlib's ResNet face descriptor: the second, licence-clean recogniser beside SFace.

Its weights (public domain) ship in the PyPI package `face-recognition-models`, dlib itself in
`dlib-bin`; nothing is downloaded at run time. dlib aligns its own way: its 5-point shape
predictor, run in the detector's box, places the face on a 150 px chip with a quarter of the face
as margin, so the chip is cut from the whole frame (where the pipeline still has it), not from
the 112 px ArcFace crop.
"""

from __future__ import annotations

import threading

import numpy as np

from .types import FaceModelError

DLIB_ID = "dlib-resnet-v1"
DIMENSION = 128
CHIP_SIZE = 150
CHIP_PADDING = 0.25  # dlib's own default, the one the descriptor was trained with


def _models() -> tuple[object, str, str]:
    try:
        import dlib
        import face_recognition_models as files
    except ImportError as exc:  # the packages are runtime dependencies; a broken install says so
        raise FaceModelError(f"the second recogniser needs the packages dlib-bin and "
                             f"face-recognition-models ({exc}); reinstall moviefaces or set "
                             f"MOVIEFACES_SECOND_RECOGNIZER=off") from None
    return (dlib, files.pose_predictor_five_point_model_location(),
            files.face_recognition_model_location())


class DlibDescriptor:
    """128-d descriptors of faces given by their frame and detector box."""

    def __init__(self) -> None:
        self._dlib, self._predictor_path, self._net_path = _models()
        self._local = threading.local()
        _ = self._nets  # load now, in this thread: a broken file fails here, not mid-movie

    # One predictor and net per thread: dlib's objects are not safe to share between threads.
    @property
    def _nets(self) -> tuple[object, object]:
        if not hasattr(self._local, "nets"):
            self._local.nets = (self._dlib.shape_predictor(self._predictor_path),
                                self._dlib.face_recognition_model_v1(self._net_path))
        return self._local.nets

    def chips(self, image: np.ndarray, boxes: list[tuple[float, float, float, float]]
              ) -> list[np.ndarray]:
        """dlib's aligned 150 px RGB chip of each face (x, y, w, h) of a BGR frame."""
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        predictor = self._nets[0]
        out = []
        for x, y, w, h in boxes:
            rect = self._dlib.rectangle(int(round(x)), int(round(y)), int(round(x + w)),
                                        int(round(y + h)))
            out.append(self._dlib.get_face_chip(rgb, predictor(rgb, rect), CHIP_SIZE,
                                                CHIP_PADDING))
        return out

    def embed(self, chips: list[np.ndarray]) -> np.ndarray:
        """Float32 descriptors, one row per chip, as the net gives them."""
        if not chips:
            return np.zeros((0, DIMENSION), np.float32)
        return np.asarray(self._nets[1].compute_face_descriptor(chips), np.float32).reshape(
            len(chips), DIMENSION)
