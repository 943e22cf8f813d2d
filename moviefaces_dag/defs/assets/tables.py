"""What the stages' tables hold, for the asset catalog (column schemas) and row counts."""

from __future__ import annotations

from dagster import TableColumn, TableSchema

FRAMES = TableSchema(columns=[
    TableColumn("idx", "integer", "index of the sample"),
    TableColumn("time", "float", "movie seconds, from the container's timestamps"),
    TableColumn("path", "string", "the frame's JPEG, relative to the movie's folder"),
    TableColumn("width", "integer"), TableColumn("height", "integer"),
    TableColumn("cut_distance", "float", "colour distance to the sample before (shot cuts)"),
])
FACES = TableSchema(columns=[
    TableColumn("frame_id", "integer", "the frame the face is on"),
    TableColumn("x, y, w, h", "float", "the face's box in frame pixels"),
    TableColumn("score", "float", "detection score"),
    TableColumn("landmarks", "json", "eyes, nose tip, mouth corners"),
    TableColumn("sharpness, size, frontalness, quality", "float", "how clearly it was seen"),
    TableColumn("crop_path, thumb_path", "string", "padded crop and its thumbnail"),
])
EMBEDDINGS = TableSchema(columns=[
    TableColumn("embedding", "float32[]", "unit vector from the recogniser"),
    TableColumn("embedding_dim", "integer"), TableColumn("embedding_model", "string"),
    TableColumn("embedding_norm", "float", "raw length: how clearly the model saw the face"),
])
PEOPLE = TableSchema(columns=[
    TableColumn("person_id", "integer"),
    TableColumn("face_count", "integer"),
    TableColumn("first_seen, last_seen", "float", "movie seconds"),
    TableColumn("best_face_id", "integer"),
])
TOP_PEOPLE = TableSchema(columns=[
    TableColumn("person", "string", "name, or Person and its id; most faces first"),
    TableColumn("faces", "integer"),
    TableColumn("screen_time", "string", "estimated from the sampled frames"),
])
