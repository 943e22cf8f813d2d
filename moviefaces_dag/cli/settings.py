"""`moviefaces settings`: every setting in force and where its value came from, and what runs:
the models the chosen backend really uses and the similarity threshold they get."""

from __future__ import annotations

import argparse
from typing import Any

from ..core.settings import SETTINGS, SETTINGS_FILE_ENV, in_force, settings_file
from .common import add_setting, printable

DETECTOR_KEY = "face_analyzer.detector"
THRESHOLD_KEY = "clustering.similarity_threshold"


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "settings", help="show every setting in force and where its value comes from; the "
                         "other commands' flags (--output-dir, --backend, ...) show their effect")
    for key, setting in SETTINGS.items():
        if setting.flag:
            add_setting(parser, key)
    parser.set_defaults(func=show_settings)


def given_flags(args: argparse.Namespace) -> dict[str, tuple[Any, str]]:
    """The settings given on the command line, as in_force() takes them."""
    given = {}
    for key, setting in SETTINGS.items():
        flag = setting.flag
        if flag and getattr(args, flag.lstrip("-").replace("-", "_"), None) is not None:
            given[key] = (getattr(args, flag.lstrip("-").replace("-", "_")), flag)
    return given


def what_runs(values: dict[str, tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    """The values that take effect where a setting does not say it all: the detector the
    backend really runs, and the threshold in force when none is set (the recogniser's default
    for the algorithm); plus the models' ids, under the keys `models.*`."""
    from ..defs.resources import FaceAnalyzerResource
    from ..people.clustering import default_threshold, recognizer_family

    fields = {key.split(".", 1)[1]: value for key, (value, _) in values.items()
              if key.startswith("face_analyzer.") and key != "face_analyzer.preset"}
    backend = fields["backend"]
    detector_id, recognizer_id = FaceAnalyzerResource(**fields).model_ids()
    shown = dict(values)
    if backend == "opencv":
        shown[DETECTOR_KEY] = ("yunet", "backend opencv")
    algorithm = values["clustering.algorithm"][0]
    if values[THRESHOLD_KEY][0] is None:
        family = recognizer_family(recognizer_id)
        shown[THRESHOLD_KEY] = (default_threshold(recognizer_id, algorithm),
                                f"default for {family}, {algorithm}")
    shown["models.detector"] = (detector_id or None, f"backend {backend}")
    shown["models.recognizer"] = (recognizer_id or None, f"backend {backend}")
    return shown


def show_settings(args: argparse.Namespace) -> int:
    path = settings_file()
    print(f"settings file: {printable(str(path)) if path else f'none (${SETTINGS_FILE_ENV})'}")
    values = what_runs(in_force(given_flags(args)))
    width = max(map(len, values))
    for key, (value, source) in values.items():
        shown = "unset" if value is None else printable(repr(value))
        env = f"${SETTINGS[key].env}" if key in SETTINGS else "(what runs)"
        print(f"{key:<{width}}  {shown:<24} {printable(source):<28} {env}".rstrip())
    return 0
