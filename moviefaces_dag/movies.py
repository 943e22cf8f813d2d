"""Movie registration: safe, unique partition keys derived from file names."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

MAX_KEY_LENGTH = 60


def slug(name: str) -> str:
    """Lower-case ASCII letters, digits, '-' and '_' only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", ascii_name.lower()).strip("-_")
    return cleaned[:MAX_KEY_LENGTH].strip("-_") or "movie"


def partition_key_for(path: Path, registered: dict[str, str]) -> str:
    """The key for this movie: its file name's slug, with a short path hash if that is taken.

    A path already registered keeps its key.
    """
    resolved = str(Path(path).resolve())
    for key, known in registered.items():
        if known == resolved:
            return key
    base = slug(Path(path).stem)
    if base not in registered:
        return base
    return f"{base}-{hashlib.sha1(resolved.encode()).hexdigest()[:8]}"
