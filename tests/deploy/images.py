"""What the step images install, from the installed packages' own metadata: the dependency
closure of moviefaces' requirements with and without the webserver and dg."""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
UI = {"dagster-webserver", "dagster-dg-cli"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(name: str) -> list[Requirement]:
    try:
        requires = distribution(name).requires or []
    except PackageNotFoundError:  # a dependency for another platform or Python
        return []
    return [Requirement(text) for text in requires]


def closure(roots: list[Requirement], leave_out: set[str]) -> set[str]:
    """Canonical names of the distributions `roots` install on this Python, less `leave_out`
    and what only they need."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(root, frozenset({""})) for root in roots]
    while todo:
        requirement, extras = todo.pop()
        name = canonical(requirement.name)
        wanted = frozenset({"", *requirement.extras})
        if requirement.marker is not None and not any(
                requirement.marker.evaluate({"extra": extra}) for extra in extras):
            continue
        if name in leave_out or (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        todo += [(child, wanted) for child in _requirements(name)]
    return {name for name, _ in seen}


def image_roots(extras: tuple[str, ...] = ("farm",)) -> list[Requirement]:
    """moviefaces' requirements with the extras the image installs."""
    project = PROJECT["project"]
    texts = [*project["dependencies"],
             *(text for extra in extras for text in project["optional-dependencies"][extra])]
    return [Requirement(text) for text in texts]


def ui_only() -> set[str]:
    """What the webserver and dg bring that nothing else of the image needs."""
    roots = image_roots()
    return closure(roots, set()) - closure(roots, UI)
