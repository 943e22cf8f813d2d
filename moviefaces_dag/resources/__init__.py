from .face_analyzer import FaceAnalyzerResource
from .store import MovieStoreResource

__all__ = ["FaceAnalyzerResource", "MovieStoreResource"]
