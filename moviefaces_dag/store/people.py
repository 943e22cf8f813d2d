"""A movie's people in its store: who is who, what each was called, and the ids they had."""

from __future__ import annotations

import json
from collections.abc import Iterable

from .rows import PersonRow
from .schema import content_token

NEXT_PERSON = "next_person_id"


class PeopleTables:
    """The people part of MovieDB (which gives `_connection`, `transaction`, `_record_stage`)."""

    def replace_people(self, assignments: dict[int, int | None], people: Iterable[PersonRow],
                       settings: dict, stats: dict, names: dict[int, str] | None = None,
                       grouped: dict[int, int] | None = None) -> str:
        """Replace the people (and their names); return their token (their content, names and
        settings: the same people made the same way keep it). `grouped` (face id -> person id,
        default `assignments`) is how the clusterer grouped the faces before the user's
        decisions: remembered by face place, so that the next grouping keeps these ids. No id
        is ever given again to anyone else."""
        people = list(people)
        names = {pid: name for pid, name in (names or {}).items()
                 if pid in {p.person_id for p in people}}
        pairs = sorted((fid, pid) for fid, pid in assignments.items() if pid is not None)
        with self.transaction() as conn:
            embeddings = conn.execute(
                "SELECT token FROM stage_runs WHERE stage = 'face_embeddings'").fetchone()
            # The settings too: the report shows them, so it reruns when they change.
            token = content_token(embeddings[0] if embeddings else "", json.dumps(pairs),
                                  json.dumps([list(p.__dict__.values()) for p in people]),
                                  json.dumps(sorted(names.items())),
                                  json.dumps(settings, sort_keys=True))
            conn.execute("DELETE FROM people")
            conn.execute("UPDATE faces SET person_id = NULL")
            conn.executemany("UPDATE faces SET person_id = ? WHERE id = ?",
                             ((pid, fid) for fid, pid in pairs))
            conn.executemany(
                "INSERT INTO people (person_id, face_count, first_seen, last_seen, best_face_id, "
                "hidden) VALUES (?, ?, ?, ?, ?, ?)",
                ((p.person_id, p.face_count, p.first_seen, p.last_seen, p.best_face_id,
                  int(p.hidden)) for p in people),
            )
            conn.execute("DELETE FROM membership")
            grouped = dict(pairs) if grouped is None else grouped
            conn.executemany(
                "INSERT INTO membership (person_id, time, x, y, w, h) "
                "SELECT ?, frames.time, faces.x, faces.y, faces.w, faces.h "
                "FROM faces JOIN frames ON frames.id = faces.frame_id WHERE faces.id = ?",
                ((pid, fid) for fid, pid in grouped.items()))
            conn.execute("DELETE FROM names")
            conn.executemany("INSERT INTO names (person_id, name) VALUES (?, ?)", names.items())
            highest = max([p.person_id for p in people] + list(grouped.values()), default=0)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = MAX(value, excluded.value)", (NEXT_PERSON, highest + 1))
            self._record_stage(conn, "face_clusters", settings, stats, token)
        return token

    def people(self, hidden: bool = True) -> list[PersonRow]:
        """The people, most faces first (without those the user hid, unless `hidden`)."""
        with self._connection() as conn:
            rows = conn.execute(  # SELECT *: published results made before hiding lack it
                "SELECT * FROM people ORDER BY face_count DESC, first_seen, person_id"
            ).fetchall()
        people = [PersonRow(r["person_id"], r["face_count"], r["first_seen"], r["last_seen"],
                            r["best_face_id"], bool(dict(r).get("hidden", 0))) for r in rows]
        return [p for p in people if hidden or not p.hidden]

    def names(self) -> dict[int, str]:
        with self._connection() as conn:
            return {r["person_id"]: r["name"] for r in conn.execute("SELECT * FROM names")}

    def membership(self) -> list[tuple[int, float, tuple[float, float, float, float]]]:
        """(person id, frame time, box) of every face the last people had."""
        with self._connection() as conn:
            return [(r["person_id"], r["time"], (r["x"], r["y"], r["w"], r["h"]))
                    for r in conn.execute("SELECT * FROM membership")]

    def next_person_id(self) -> int:
        """The lowest id no person of this movie ever had."""
        with self._connection() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (NEXT_PERSON,)).fetchone()
        return row["value"] if row else 1
