"""The documentation's commands run, and its links resolve.

Convention, in README.md and docs/*.md:

- A block fenced with ```` ```sh tested ```` is run here. A block fenced with plain
  ```` ```sh ```` is shown only: use it only for what cannot run in the test environment (a GPU
  server, Kubernetes, a package install, the test suite itself). ```` ```sh dg-dev ```` marks the
  one block that tests/defs/test_backfill_under_dg_dev.py runs against a running `dg dev`.
- A block fenced ```` ```sh tested always ```` is a tested block that also runs at the end of
  the session when a failure or a selection (-x, -k) kept it from running: it stops what the
  blocks above it started (servers).
- Each tested block is one test case, named FILE:LINE (the line of its opening fence). It runs
  with `bash -euo pipefail`, so any failing command fails it, and it must exit with status 0.
- The rule for state: the tested blocks of one file share one fresh temporary folder (their
  working directory) and run in the order of the file; a block may use what the blocks above it
  in the same file made (an `out/` folder, say), but not their shell variables (each block is
  its own bash). Blocks of different files share nothing. A case selected alone first runs the
  blocks above it in its file.
- The environment: PATH starts with the repository's `.venv/bin` (so `moviefaces`, `dagster` and
  `dg` are the project's), `MOVIE` is the test movie cast_b.mp4 and `MOVIE2` is cast_a.mp4,
  `MOVIEFACES_TESTDATA` is the test data folder, `REPO` the repository's checkout (what an
  operator installs from); `DAGSTER_HOME` and every other `MOVIEFACES_*` variable of the caller
  are unset, so each block says what it needs.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 150
FENCE = re.compile(r"^```(.*)$")
TESTED_KINDS = {"sh tested", "sh tested always"}
SHELL_KINDS = {"sh", "sh dg-dev", *TESTED_KINDS}
BLOCK_TIMEOUT_S = 300


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    info: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    blocks, opened, lines = [], None, []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if opened is None:
            if fence:
                opened, lines = (number, fence.group(1).strip()), []
        elif line.rstrip() == "```":
            blocks.append(Block(path, opened[0], opened[1], "\n".join(lines) + "\n"))
            opened = None
        else:
            lines.append(line)
    assert opened is None, f"{path.relative_to(REPO)}:{opened[0]}: a fence is never closed"
    return blocks


def collect_tested_blocks() -> list[Block]:
    return [b for path in DOCS for b in fenced_blocks(path) if b.info in TESTED_KINDS]


TESTED = collect_tested_blocks()


class FileRuns:
    """One temporary folder per documentation file, and how far its blocks have run."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root, self.env = root, env
        self.done: dict[Path, int] = {}  # file -> number of its tested blocks run

    def run(self, block: Block) -> subprocess.CompletedProcess:
        of_file = [b for b in TESTED if b.path == block.path]
        folder = self.root / block.path.relative_to(REPO).as_posix().replace("/", "_")
        folder.mkdir(exist_ok=True)
        position = of_file.index(block)
        for earlier in of_file[self.done.get(block.path, 0):position]:
            done = self._bash(earlier, folder)
            assert done.returncode == 0, report(earlier, done, "an earlier block of its file")
        self.done[block.path] = position + 1
        return self._bash(block, folder)

    def finish(self) -> None:
        """Run the `always` blocks that did not run, of each file whose blocks started."""
        for path, done in self.done.items():
            folder = self.root / path.relative_to(REPO).as_posix().replace("/", "_")
            for block in [b for b in TESTED if b.path == path][done:]:
                if block.info == "sh tested always":
                    self._bash(block, folder)

    def _bash(self, block: Block, folder: Path) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-euo", "pipefail", "-c", block.text], cwd=folder,
                              env=self.env, capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT_S)


def report(block: Block, done: subprocess.CompletedProcess, what: str = "the block") -> str:
    return (f"{what} at {block.name} exited with status {done.returncode}\n--- block\n"
            f"{block.text}--- stdout\n{done.stdout[-4000:]}--- stderr\n{done.stderr[-4000:]}")


@pytest.fixture(scope="session")
def file_runs(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> Iterator[FileRuns]:
    env = {k: v for k, v in os.environ.items()
           if k != "DAGSTER_HOME" and not k.startswith("MOVIEFACES_")}
    env.update(
        PATH=f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        MOVIE=str(testdata / "movies" / "cast_b.mp4"),
        MOVIE2=str(testdata / "movies" / "cast_a.mp4"),
        MOVIEFACES_TESTDATA=str(testdata),
        REPO=str(REPO),
    )
    runs = FileRuns(tmp_path_factory.mktemp("docs"), env)
    yield runs
    runs.finish()


@pytest.mark.parametrize("block", TESTED, ids=[b.name for b in TESTED])
def test_documented_commands_run(block: Block, file_runs: FileRuns) -> None:
    done = file_runs.run(block)
    assert done.returncode == 0, report(block, done)


def test_the_readme_and_every_guide_have_tested_commands() -> None:
    files = {b.path.name for b in TESTED}
    assert "README.md" in files
    assert len(files) >= 2, f"tested blocks only in {files}"


def test_shell_blocks_are_fenced_with_a_known_kind() -> None:
    """A misspelt marker (```sh test) would silently turn a tested block into a shown one."""
    odd = [f"{b.name}: {b.info!r}" for path in DOCS for b in fenced_blocks(path)
           if b.info.split(" ")[0] in ("sh", "bash", "shell", "console")
           and b.info not in SHELL_KINDS]
    assert not odd, f"shell blocks are fenced as one of {sorted(SHELL_KINDS)}: {odd}"


def test_the_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"^```.*?^```$|`[^`\n]*`", re.MULTILINE | re.DOTALL)


def relative_links(path: Path) -> list[str]:
    text = CODE.sub("", path.read_text())
    return [target for target in LINK.findall(text)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")]


def test_relative_links_resolve() -> None:
    broken = []
    for path in DOCS:
        for target in relative_links(path):
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(REPO)}: {target}")
    assert not broken, f"links to no file: {broken}"
    assert relative_links(REPO / "README.md"), "the README links to no guide"
