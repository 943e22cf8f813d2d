from .clustering import ClusteringResource
from .face_analyzer import FaceAnalyzerResource
from .movie_folder import MovieFolderResource
from .sampling import SamplingResource
from .store import MovieStoreResource

__all__ = [
    "ClusteringResource",
    "FaceAnalyzerResource",
    "MovieFolderResource",
    "MovieStoreResource",
    "SamplingResource",
]
