"""`moviefaces library`: people across movies. List them, name one, link two movies' people as
one person or unlink one, and export the library as JSON lines. A decision is checked against
the published library, recorded in `<output>/library/decisions.json` and applied at once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core.words import duration_text
from ..people.decision_log import MAX_NAME
from ..people.library import library_decisions, link_refusal, published_library
from ..report.export import export_library
from ..store import OutputRoot
from ..store.library_db import LibraryDB, LibraryPerson
from .common import CliError, add_setting, output_root, printable, read_root


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("library", help="people across movies: list, name, link, export")
    actions = parser.add_subparsers(dest="action", required=True)

    def action(name: str, help_text: str, func, *arguments: tuple[str, dict]) -> None:
        command = actions.add_parser(name, help=help_text)
        for flag, options in arguments:
            command.add_argument(flag, **options)
        add_setting(command, "store.output_dir")
        command.set_defaults(func=func)

    action("list", "library people seen in several movies (or named); --all: everyone",
           list_library, ("--all", {"action": "store_true"}))
    action("name", "give a library person a name", name_library_person,
           ("library_id", {"type": int}), ("name", {"help": "the name"}))
    action("link", "MOVIE's PERSON and OTHER_MOVIE's OTHER are one person", link_people,
           ("movie", {}), ("person", {"type": int}), ("other_movie", {}), ("other", {"type": int}))
    action("unlink", "MOVIE's PERSON is nobody else in the library", unlink_person,
           ("movie", {}), ("person", {"type": int}))
    action("undo", "take back the last library decision (or undo) still in force", undo)
    action("redo", "put back the last library decision undone", redo)
    action("export", "library.jsonl: every library person, and who met whom", export,
           ("--out", {"required": True, "help": "the file to write"}))


def _library(root: OutputRoot) -> LibraryDB:
    library = published_library(root)
    if library is None:
        raise CliError(f"{root.path} has no library yet; run `moviefaces run MOVIE` first")
    return library


def _member(library: LibraryDB, movie: str, person: int) -> LibraryPerson:
    for entry in library.people():
        if any((m.movie, m.person_id) == (movie, person) for m in entry.members):
            return entry
    raise CliError(f"the library has no person {person} of movie {movie!r}")


def _decide(args: argparse.Namespace, decision: dict[str, Any]) -> int:
    root = output_root(args)
    library_decisions(root).add(decision)
    return _rebuilt(root, "recorded")


def _rebuilt(root: OutputRoot, what: str) -> int:
    from .run import execute

    rebuild(root, execute)
    print(f"{what} in {printable(str(library_decisions(root).path))}; library: "
          f"{(root.path / 'index.html').absolute().as_uri()}")
    return 0


def undo(args: argparse.Namespace) -> int:
    root = output_root(args)
    done = library_decisions(root).undo()
    return _rebuilt(root, f"undone: {done['op']} (decision {done['id']})")


def redo(args: argparse.Namespace) -> int:
    root = output_root(args)
    done = library_decisions(root).redo()
    return _rebuilt(root, f"redone: {done['op']} (decision {done['id']})")


def rebuild(root: OutputRoot, execute) -> None:
    from ..definitions import default_resources, versioned_assets
    from ..defs.resources import MovieStoreResource
    from .common import dagster_instance

    resources = {**default_resources(), "store": MovieStoreResource(output_dir=str(root.path),
                                                                  scratch_dir=None)}
    execute(dagster_instance(root.path), versioned_assets(resources), resources, None,
            ["library_decisions", "library"])


def name_library_person(args: argparse.Namespace) -> int:
    name = " ".join(args.name.split())
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise CliError(f"a name is 1 to {MAX_NAME} printable characters")
    library = _library(output_root(args))
    person = next((p for p in library.people() if p.id == args.library_id), None)
    if person is None:
        raise CliError(f"the library has no person {args.library_id}")
    first = person.members[0]  # names follow the people, whatever ids the library gives them
    return _decide(args, {"op": "name", "movie": first.movie, "person": first.person_id,
                          "name": name})


def link_people(args: argparse.Namespace) -> int:
    if args.movie == args.other_movie:
        raise CliError("two people of one movie are merged with `moviefaces people merge`")
    library = _library(output_root(args))
    _member(library, args.movie, args.person)
    _member(library, args.other_movie, args.other)
    refusal = link_refusal(library, (args.movie, args.person), (args.other_movie, args.other))
    if refusal:
        raise CliError(f"{refusal}; nothing recorded")
    return _decide(args, {"op": "link", "movie": args.movie, "person": args.person,
                          "other_movie": args.other_movie, "other": args.other})


def unlink_person(args: argparse.Namespace) -> int:
    _member(_library(output_root(args)), args.movie, args.person)
    return _decide(args, {"op": "unlink", "movie": args.movie, "person": args.person})


def list_library(args: argparse.Namespace) -> int:
    people = _library(read_root(args)).people()
    print(f"{'id':>5}  {'movies':>6}  {'on screen':>10}  name / members")
    for p in people:
        if args.all or p.movies > 1 or p.name:
            members = ", ".join(f"{m.movie}:{m.person_id}" for m in p.members)
            conflict = f" (also named {', '.join(p.other_names)})" if p.other_names else ""
            print(f"{p.id:>5}  {p.movies:>6}  {duration_text(p.screen_time):>10}  "
                  f"{printable((p.name or '') + conflict)} [{printable(members)}]")
    return 0


def export(args: argparse.Namespace) -> int:
    result = export_library(_library(read_root(args)), Path(args.out))
    print(f"exported {result['people']} library people and {result['met']} pairs who met to "
          f"{printable(result['path'])}")
    return 0
