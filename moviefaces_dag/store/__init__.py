"""Where results live: a folder per movie with its own SQLite store and published result.

`output.OutputRoot` lists and registers movies; `folder.MovieFolder` is one movie's folder (its
one writer, its draft and its published generations); `movie_db.MovieDB` is one movie's
database; `rows` holds the values they exchange.
"""

from .folder import Draft, Generation, MovieFolder, NotPublishedError
from .lock import MovieBusyError
from .movie_db import STAGES, MovieDB, StoreError
from .output import OutputRoot, movie_key
from .rows import FaceRow, FrameRow, MovieRow, PersonRow, StageRun

__all__ = [
    "STAGES",
    "Draft",
    "FaceRow",
    "FrameRow",
    "Generation",
    "MovieBusyError",
    "MovieDB",
    "MovieFolder",
    "MovieRow",
    "NotPublishedError",
    "OutputRoot",
    "PersonRow",
    "StageRun",
    "StoreError",
    "movie_key",
]
