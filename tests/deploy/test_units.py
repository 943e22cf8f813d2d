"""The farm's systemd units (deploy/farm/systemd) checked offline: systemd's own
`systemd-analyze verify` (unknown keys, bad values, a command that is not there), and each
command's arguments parsed by that command's own parser. Nothing is started."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster._daemon.cli import run_command
from dagster_webserver.cli import dagster_webserver

from moviefaces_dag.cli import build_parser
from moviefaces_dag.defs.assets.steps import CELERY_QUEUES

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "farm" / "systemd"
VENV = "/opt/moviefaces/venv"
ENV_FILE = "/etc/moviefaces/farm.env"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def unit(name: str) -> dict[str, list[str]]:
    """key -> values (a key may repeat) of a unit file's [Service] section."""
    values: dict[str, list[str]] = {}
    section = None
    for line in (UNITS / name).read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line and not line.startswith("#") and section == "Service":
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value)
    return values


NAMES = sorted(path.name for path in UNITS.glob("*.service"))


def test_a_unit_for_the_webserver_the_daemon_and_workers() -> None:
    assert NAMES == ["moviefaces-daemon.service", "moviefaces-webserver.service",
                     "moviefaces-worker@.service"]


@pytest.mark.parametrize("name", NAMES)
def test_every_process_of_a_unit_is_stopped_with_it(name: str) -> None:
    service = unit(name)
    # `moviefaces worker` starts the real Celery worker as a child: stopping the unit must end
    # the whole control group, not the main process alone.
    assert service["KillMode"] == ["control-group"]
    assert service["Restart"] == ["always"]
    assert service["EnvironmentFile"] == [ENV_FILE]


def command(name: str, instance: str = "cpu") -> list[str]:
    line = unit(name)["ExecStart"][0].replace("%H", "render-07").replace("%i", instance)
    return shlex.split(line)


def test_each_command_parses_with_its_own_parser() -> None:
    daemon = command("moviefaces-daemon.service")
    assert daemon[:2] == [f"{VENV}/bin/dagster-daemon", "run"]
    assert run_command.make_context("run", daemon[2:]).params["module_name"] == (
        "moviefaces_dag.definitions",)
    web = command("moviefaces-webserver.service")
    assert web[0] == f"{VENV}/bin/dagster-webserver"
    params = dagster_webserver.make_context("dagster-webserver", web[1:]).params
    assert params["host"] == "127.0.0.1"  # behind a proxy with authentication
    for queues in ("cpu", "gpu", "cpu,gpu"):
        worker = command("moviefaces-worker@.service", queues)
        assert worker[0] == f"{VENV}/bin/moviefaces"
        args = build_parser().parse_args(worker[1:])
        assert args.command == "worker" and set(args.queues.split(",")) <= set(CELERY_QUEUES)


def test_the_environment_file_names_the_farms_variables() -> None:
    names = {line.split("=", 1)[0] for line in
             (UNITS / "farm.env.example").read_text().splitlines()
             if "=" in line and not line.startswith("#")}
    assert {"DAGSTER_HOME", "MOVIEFACES_DAGSTER_DB", "MOVIEFACES_SETTINGS",
            "MOVIEFACES_COMPUTE_LOGS"} <= names
    instance = (REPO / "deploy" / "farm" / "dagster.yaml").read_text()
    assert "env: MOVIEFACES_DAGSTER_DB" in instance and "env: MOVIEFACES_COMPUTE_LOGS" in instance


def installed_copies(folder: Path, text: str = "") -> list[Path]:
    """The units as installed on this machine: this venv, the example environment file."""
    paths = []
    for name in NAMES:
        content = (UNITS / name).read_text().replace(VENV, str(Path(sys.executable).parents[1]))
        content = content.replace(ENV_FILE, str(UNITS / "farm.env.example"))
        content = content.replace("/var/lib/moviefaces", str(folder)) + text
        target = folder / name.replace("@.", "@cpu.")
        target.write_text(content)
        paths.append(target)
    return paths


def verify(paths: list[Path]) -> subprocess.CompletedProcess:
    assert SYSTEMD_ANALYZE, "systemd-analyze is missing: run `bash scripts/test-env/farm.sh`"
    return subprocess.run([SYSTEMD_ANALYZE, "verify", *map(str, paths)], capture_output=True,
                          text=True, timeout=60)


def test_systemd_verifies_the_units(tmp_path: Path) -> None:
    done = verify(installed_copies(tmp_path))
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_systemd_verify_reports_a_misspelt_key(tmp_path: Path) -> None:
    done = verify(installed_copies(tmp_path, "KillMod=control-group\n"))
    assert "Unknown key" in done.stderr
