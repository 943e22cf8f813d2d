"""`moviefaces people`: list a movie's people and decide about them (name, merge, split,
assign, reject). A decision is checked against the published result, recorded in the movie's
decisions file, and applied at once: the people and the report are made again, nothing else."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.words import duration_text, plural, timecode
from ..people.checks import Grouping, clean_name, new_person_id
from ..people.decisions import Decisions, refs
from ..people.library import library_names
from ..store import MovieBusyError, MovieDB, MovieFolder
from .common import add_setting, movie_folder, output_root, printable, read_root


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("people", help="list a movie's people, name, merge, split them")
    actions = parser.add_subparsers(dest="action", required=True)

    def action(name: str, help_text: str, func, *arguments: tuple[str, dict]) -> None:
        command = actions.add_parser(name, help=help_text)
        command.add_argument("movie", help="the movie file or its key")
        for flag, options in arguments:
            command.add_argument(flag, **options)
        add_setting(command, "store.output_dir")
        command.set_defaults(func=func)

    faces = {"type": _ids, "help": "face ids, comma-separated (the report shows them)"}
    action("list", "the movie's people, most faces first", list_people)
    action("name", "give a person a name", name_person,
           ("person", {"type": int}), ("name", {"help": "the name"}))
    action("merge", "the two are one person: OTHER joins PERSON", merge_people,
           ("person", {"type": int}), ("other", {"type": int}))
    action("split", "these faces are not PERSON: they become a person of their own",
           split_person, ("person", {"type": int}), ("--faces", {**faces, "required": True}))
    action("assign", "these faces are PERSON", assign_faces,
           ("faces", faces), ("person", {"type": int}))
    action("reject", "these detections are not faces", reject_faces, ("faces", faces))
    action("hide", "keep PERSON out of lists and exports (shown under hidden)", hide_person,
           ("person", {"type": int}))
    action("undo", "take back the last decision (or undo) still in force", undo)
    action("redo", "put back the last decision undone", redo)


def _ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"face ids are numbers, got {text!r}") from None
    if not ids:
        raise argparse.ArgumentTypeError("give at least one face id")
    return ids


class Published(Grouping):
    """The movie's published people and faces, what every decision is checked against."""

    def __init__(self, folder: MovieFolder):
        self.folder = folder
        self.db: MovieDB = folder.published()
        published = Grouping.published(folder, self.db)
        super().__init__(folder.key, list(published.faces.values()), published.assignment)


def _decide(args: argparse.Namespace, decision: dict[str, Any],
            check=lambda _published, _decisions: None) -> int:
    root = output_root(args)
    folder = movie_folder(root, args.movie)
    published = Published(folder)
    Decisions(folder.path).add(decision, lambda made: check(published, made))
    return _applied(root, folder, describe(decision))


def _applied(root, folder: MovieFolder, what: str, *also: MovieFolder) -> int:
    """Group the movie (and `also` those) again with its decisions and say so; a movie being
    processed now gets them from that run (or the next one)."""
    where = printable(str(Decisions(folder.path).path))
    try:
        apply_decisions_now(root, folder, *also)
    except MovieBusyError as exc:
        print(f"{what}: recorded in {where}; {printable(str(exc))} now: that run applies it, "
              "or the next one")
        return 0
    print(f"{what}: recorded in {where}; report: {folder.report_path.absolute().as_uri()}")
    return 0


def undo(args: argparse.Namespace) -> int:
    root = output_root(args)
    folder = movie_folder(root, args.movie)
    return _applied(root, folder, f"undone: {describe(Decisions(folder.path).undo())}")


def redo(args: argparse.Namespace) -> int:
    root = output_root(args)
    folder = movie_folder(root, args.movie)
    return _applied(root, folder, f"redone: {describe(Decisions(folder.path).redo())}")


def hide_person(args: argparse.Namespace) -> int:
    return _decide(args, {"op": "hide", "person": args.person},
                   lambda published, _made: published.person(args.person))


def describe(decision: dict[str, Any]) -> str:
    op = decision["op"]
    if op == "name":
        return f"person {decision['person']} is named {printable(decision['name'])!r}"
    if op == "merge":
        return f"person {decision['other']} merged into person {decision['person']}"
    if op == "hide":
        return f"person {decision['person']} hidden"
    if op == "portrait":
        return f"a portrait chosen for person {decision['person']}"
    if op == "apart" and decision["person"] == decision["other"]:
        return (f"person {decision['person']} is several people: "
                f"{plural(len(decision['other_faces']), 'face')} parted as person "
                f"{decision['new_person']}")
    if op == "apart":
        return f"persons {decision['person']} and {decision['other']} are not one person"
    if op in ("undo", "redo", "withdraw"):
        return f"{op} of decision {decision['decision']}"
    count = plural(len(decision["faces"]), "face")
    if op == "split":
        source = f" from person {decision['person']}" if "person" in decision else ""
        return f"{count} split{source} as person {decision['new_person']}"
    if op == "assign":
        return f"{count} assigned to person {decision['person']}"
    return f"{count} marked as no face"


def name_person(args: argparse.Namespace) -> int:
    name = clean_name(args.name)
    return _decide(args, {"op": "name", "person": args.person, "name": name},
                   lambda published, _made: published.person(args.person))


def merge_people(args: argparse.Namespace) -> int:
    return _decide(args, {"op": "merge", "person": args.person, "other": args.other},
                   lambda published, _made: published.check_merge(args.person, args.other))


def split_person(args: argparse.Namespace) -> int:
    root = output_root(args)
    folder = movie_folder(root, args.movie)
    published = Published(folder)
    faces = published.check_split(args.person, args.faces)
    new = new_person_id(folder, Decisions(folder.path).load())
    return _decide(args, {"op": "split", "person": args.person, "new_person": new,
                          "faces": refs(faces)})


def assign_faces(args: argparse.Namespace) -> int:
    root = output_root(args)
    published = Published(movie_folder(root, args.movie))
    faces = published.check_assign(args.person, args.faces)
    if not faces:
        print(f"{plural(len(args.faces), 'face')} already person {args.person}'s: nothing to "
              "record")
        return 0
    return _decide(args, {"op": "assign", "person": args.person, "faces": refs(faces)})


def reject_faces(args: argparse.Namespace) -> int:
    root = output_root(args)
    faces = Published(movie_folder(root, args.movie)).face_list(args.faces)
    return _decide(args, {"op": "reject", "faces": refs(faces)})


def list_people(args: argparse.Namespace) -> int:
    root = read_root(args)
    folder = movie_folder(root, args.movie)
    db = folder.published()
    names = {**{pid: name for (movie, pid), name in library_names(root).items()
                if movie == folder.key}, **db.names()}
    clusters = db.stage_runs().get("face_clusters")
    fps = db.stage_runs()["frames"].stats.get("rate") or 1.0
    marks: dict[int, set[float]] = {}
    for face in db.faces():
        if face.person_id is not None:
            marks.setdefault(face.person_id, set()).add(face.time or 0.0)
    print(f"{'person':>6}  {'faces':>5}  {'on screen':>10}  first   last    name")
    people = db.people()
    for p in [p for p in people if not p.hidden]:
        print(f"{p.person_id:>6}  {p.face_count:>5}  "
              f"{duration_text(len(marks.get(p.person_id, ())) / fps):>10}  "
              f"{timecode(p.first_seen):<7} {timecode(p.last_seen):<7} "
              f"{printable(names.get(p.person_id, ''))}")
    hidden = [str(p.person_id) for p in people if p.hidden]
    if hidden:
        print(f"hidden: {', '.join(hidden)}")
    for stale in (clusters.stats.get("stale_decisions", []) if clusters else []):
        print(f"moviefaces: warning: decision not applied: {printable(stale)}", file=sys.stderr)
    return 0


def apply_decisions_now(root, folder: MovieFolder, *also: MovieFolder) -> None:
    """Make the movie's (and `also` those movies') people and report again with the
    decisions, each with the clustering settings of its published result, then bring the
    library up to date with them. A movie being processed is left to that run (MovieBusyError,
    once the others are done)."""
    from ..definitions import default_resources, versioned_assets
    from ..defs.resources import MovieStoreResource
    from .common import dagster_instance
    from .run import execute

    store = MovieStoreResource(output_dir=str(root.path), scratch_dir=None)
    instance, busy = dagster_instance(root.path), []
    for movie in (folder, *also):
        resources = {**default_resources(), "store": store, **_regrouping(movie)}
        try:
            with movie.writing("moviefaces people"):
                execute(instance, versioned_assets(resources), resources, movie.key,
                        ["people_decisions", "face_clusters", "movie_report"])
        except MovieBusyError as exc:
            busy.append(exc)
    resources = {**default_resources(), "store": store}
    execute(instance, versioned_assets(resources), resources, None,
            ["library_decisions", "library"])
    if busy:
        raise busy[0]


def _regrouping(folder: MovieFolder) -> dict:
    """The resources that group `folder`'s movie as its published result was grouped."""
    from ..core.progress import LogProgress
    from ..defs.resources import ClusteringResource

    recorded = folder.published().stage_runs()["face_clusters"].settings
    recorded = recorded.get("requested", recorded)  # older results: the settings in force
    return {"clustering": ClusteringResource(**{name: recorded[name] for name in
                                                ClusteringResource.model_fields
                                                if name in recorded}),
            "progress": LogProgress()}
