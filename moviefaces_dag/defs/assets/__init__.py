from .clusters import face_clusters
from .dataset import face_dataset
from .decisions import people_decisions
from .detections import face_detections
from .embeddings import face_embeddings
from .frames import frames
from .library import library, library_decisions
from .movie import movie
from .report import movie_report

all_assets = [movie, people_decisions, frames, face_detections, face_embeddings,
              face_clusters, movie_report, face_dataset, library_decisions, library]

__all__ = ["all_assets"]
