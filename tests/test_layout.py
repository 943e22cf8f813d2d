"""The package's folders are its architecture: the Dagster layer in one place, the domain
grouped by concern, and every import pointing down."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import moviefaces_dag

PACKAGE = Path(moviefaces_dag.__file__).parent
# What each domain folder may import from the package, lowest layer first. The Dagster layer
# (defs/, definitions.py) may import any of them; the CLI and the editor anything.
ALLOWED = {
    "core": set(),
    "media": {"core"},
    "faces": {"core", "media"},
    "store": {"core", "media", "faces"},
    "people": {"core", "media", "faces", "store"},
    "report": {"core", "media", "faces", "store"},
    "evaluation": {"core", "media", "faces", "store", "people", "report"},
    "pipeline": {"core", "media", "faces", "store", "people", "report"},
}
DOMAIN = set(ALLOWED)
TOP_LAYERS = {"defs", "definitions", "cli", "editor"}  # Dagster, the terminal, the browser


def package_imports(path: Path) -> set[str]:
    """The package's top-level folders (or modules) that `path` imports from."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    here = parts[:-1]  # the folder `path` is in (for __init__.py, its own package)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[:len(here) - (node.level - 1)]
            target = [*base, *(node.module.split(".") if node.module else [])]
            found.add(target[0] if target else node.names[0].name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("moviefaces_dag."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("moviefaces_dag."))
    return found


def test_the_top_level_reads_as_the_architecture() -> None:
    entries = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert {"__init__.py", "templates", "definitions.py", "defs", "cli"} <= entries
    assert len(entries - {"__init__.py", "templates"}) <= 12, sorted(entries)


def test_domain_imports_point_down() -> None:
    wrong = []
    for folder, allowed in ALLOWED.items():
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            for target in package_imports(path) - {folder} - allowed:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert wrong == []
    assert DOMAIN | TOP_LAYERS | {"__init__", "templates"} >= {
        p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.name != "__pycache__"}


# Imports every domain module in a fresh interpreter and names any that pulls in Dagster,
# directly or through anything it imports.
IMPORT_CHECK = """
import importlib, json, pkgutil, sys, traceback
import moviefaces_dag
culprits = set()

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("dagster", "dagster_webserver", "dagster_graphql"):
            culprits.update(f.filename for f in traceback.extract_stack()
                            if "/moviefaces_dag/" in f.filename)
        return None

sys.meta_path.insert(0, Watch())
for folder in sys.argv[1:]:
    package = importlib.import_module(f"moviefaces_dag.{folder}")
    importlib.import_module(package.__name__)
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith("triton_python_model"):  # runs inside Triton only
            importlib.import_module(module.name)
print(json.dumps({"culprits": sorted(culprits),
                  "dagster": sorted(m for m in sys.modules if m.startswith("dagster"))}))
"""


def test_no_domain_module_imports_dagster() -> None:
    done = subprocess.run([sys.executable, "-c", IMPORT_CHECK, *sorted(DOMAIN)],
                          capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"culprits": [], "dagster": []}
