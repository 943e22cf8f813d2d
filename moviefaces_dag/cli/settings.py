"""`moviefaces settings`: every setting in force and where its value came from."""

from __future__ import annotations

import argparse

from ..core.settings import SETTINGS, SETTINGS_FILE_ENV, in_force, settings_file
from .common import printable


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "settings", help="show every setting in force and where its value comes from")
    parser.set_defaults(func=show_settings)


def show_settings(_args: argparse.Namespace) -> int:
    path = settings_file()
    print(f"settings file: {printable(str(path)) if path else f'none (${SETTINGS_FILE_ENV})'}")
    values = in_force()
    width = max(map(len, SETTINGS))
    for key, setting in SETTINGS.items():
        value, source = values[key]
        shown = "unset" if value is None else printable(repr(value))
        print(f"{key:<{width}}  {shown:<24} {source:<28} ${setting.env}")
    return 0
