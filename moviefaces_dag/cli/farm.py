"""`moviefaces farm health` and `moviefaces farm metrics`: whether the farm's parts answer (the
instance's database, the daemon's heartbeats, the webserver's /server_info, the Celery workers'
ping and the queues they take), as lines and an exit status for a probe or a timer, or in
Prometheus' text format for node_exporter's textfile collector."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from dataclasses import dataclass, field

from ..defs.assets.steps import CELERY_QUEUES
from .common import CliError, printable

RUN_STATUSES = ("QUEUED", "STARTING", "STARTED", "SUCCESS", "FAILURE", "CANCELED")
POOL = "face_models"


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("farm", help="the farm's health and metrics ($DAGSTER_HOME's instance, "
                                         "the broker of the settings)")
    commands = parser.add_subparsers(dest="farm_command", required=True)
    for name, func, text in (
            ("health", run_health, "check the database, daemon, webserver and workers; exit "
                                   "status 1 when one fails"),
            ("metrics", run_metrics, "print the farm's gauges in Prometheus' text format")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--webserver", metavar="URL",
                             help="the Dagster webserver's address, e.g. http://127.0.0.1:3000 "
                                  "(unchecked when not given)")
        command.add_argument("--workers", type=int, default=1,
                             help="how many workers must answer (default 1)")
        command.add_argument("--timeout", type=float, default=3.0,
                             help="seconds to wait for the workers and the webserver")
        command.set_defaults(func=func)


@dataclass
class Farm:
    """What was found: each check's (ok, one line), and the gauges."""

    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)
    gauges: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def check(self, name: str, ok: bool, text: str) -> None:
        self.checks[name] = (ok, text)
        self.gauges.append(("moviefaces_farm_check_ok", {"check": name}, float(ok)))


def survey(args: argparse.Namespace) -> Farm:
    farm = Farm()
    instance = _instance(farm)
    if instance is not None:
        _daemon(farm, instance)
        _runs(farm, instance)
    if args.webserver:
        _webserver(farm, args.webserver.rstrip("/"), args.timeout)
    _workers(farm, args.workers, args.timeout)
    return farm


def _instance(farm: Farm):
    from dagster import DagsterInstance

    if not os.environ.get("DAGSTER_HOME"):
        raise CliError("set DAGSTER_HOME to the folder of the farm's dagster.yaml (deploy/farm)")
    try:
        instance = DagsterInstance.get()
        instance.get_runs_count()
    except Exception as exc:  # any driver's error: the line says which
        farm.check("database", False, f"the instance cannot be read: {_line(exc)}")
        return None
    farm.check("database", True, f"{type(instance.run_storage).__name__} answers")
    return instance


def _daemon(farm: Farm, instance) -> None:
    now, stale = time.time(), []
    statuses = instance.get_daemon_statuses()
    for name, status in sorted(statuses.items()):
        beat = status.last_heartbeat
        age = now - beat.timestamp if beat else float("inf")
        farm.gauges.append(("moviefaces_daemon_heartbeat_age_seconds", {"daemon": name}, age))
        if not status.healthy:
            stale.append(name)
    if not statuses:
        farm.check("daemon", False, "this instance has no daemon (an ephemeral instance)")
    elif stale:
        farm.check("daemon", False, f"no recent heartbeat from {', '.join(stale)}: is "
                                    "`dagster-daemon run` running?")
    else:
        farm.check("daemon", True, f"{len(statuses)} daemons beat")


def _runs(farm: Farm, instance) -> None:
    from dagster import DagsterRunStatus, RunsFilter

    for status in RUN_STATUSES:
        count = instance.get_runs_count(RunsFilter(statuses=[DagsterRunStatus(status)]))
        farm.gauges.append(("moviefaces_runs", {"status": status.lower()}, count))
    info = instance.event_log_storage.get_concurrency_info(POOL)
    farm.gauges += [("moviefaces_pool_slots", {"pool": POOL}, info.slot_count),
                    ("moviefaces_pool_slots_in_use", {"pool": POOL}, info.active_slot_count),
                    ("moviefaces_pool_steps_waiting", {"pool": POOL}, info.pending_step_count)]


def _webserver(farm: Farm, url: str, timeout: float) -> None:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=timeout) as answer:
            version = json.load(answer).get("dagster_webserver_version", "?")
    except (OSError, ValueError) as exc:
        farm.check("webserver", False, f"{url}/server_info: {_line(exc)}")
        return
    farm.check("webserver", True, f"{url} answers (dagster-webserver {version})")


def _workers(farm: Farm, wanted: int, timeout: float) -> None:
    from ..defs.executors import celery_config

    config = celery_config()
    if config is None:
        farm.check("workers", False, "farm.celery_broker is not set: no broker to ask")
        return
    from celery import Celery

    app = Celery(broker=config["broker"])
    app.conf.broker_connection_timeout = timeout
    app.conf.broker_connection_retry = False
    try:
        queues = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception as exc:  # kombu's errors vary by transport: one line names it
        farm.check("workers", False, f"the broker cannot be reached: {_line(exc)}")
        return
    by_queue = {queue: sorted(name.split("@")[0] for name, taken in queues.items()
                              if queue in {q["name"] for q in taken}) for queue in CELERY_QUEUES}
    for queue, names in by_queue.items():
        farm.gauges.append(("moviefaces_workers", {"queue": queue}, len(names)))
    text = "; ".join(f"{queue}: {', '.join(names) or 'none'}" for queue, names in by_queue.items())
    farm.check("workers", len(queues) >= wanted,
               f"{len(queues)} answered, {wanted} wanted ({text})")


def _line(exc: BaseException) -> str:
    return printable(str(exc).strip().splitlines()[0] if str(exc).strip() else
                     type(exc).__name__)


def run_health(args: argparse.Namespace) -> int:
    farm = survey(args)
    for name, (ok, text) in farm.checks.items():
        print(f"{name + ':':<11} {'ok' if ok else 'FAIL'}  {text}")
    failed = [name for name, (ok, _) in farm.checks.items() if not ok]
    if failed:
        print(f"moviefaces: error: the farm is unhealthy: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def run_metrics(args: argparse.Namespace) -> int:
    farm = survey(args)
    for name in dict.fromkeys(name for name, _, _ in farm.gauges):
        print(f"# TYPE {name} gauge")
        for gauge, labels, number in farm.gauges:
            if gauge == name:
                pairs = ",".join(f'{key}="{_label(value)}"' for key, value in labels.items())
                print(f"{name}{{{pairs}}} {'+Inf' if number == float('inf') else f'{number:g}'}")
    return 0


def _label(value: str) -> str:
    """Prometheus' escaping of a label value."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
