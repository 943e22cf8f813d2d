"""The movie as pictures: decoding and sampling frames, shot cuts, image files."""
