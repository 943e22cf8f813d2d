"""`moviefaces worker`: a Celery worker of the farm (dagster-celery), set up from the settings
so that every worker uses the same broker and options as the runs that send it steps."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from ..core.settings import in_force
from ..defs.assets.steps import CELERY_QUEUES
from ..defs.executors import celery_config
from ..store.files import write_atomic
from .common import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "worker", help="run a farm worker: takes steps from the Celery broker "
                       "(setting farm.celery_broker) until stopped")
    parser.add_argument("--name", default=socket.gethostname(),
                        help="the worker's name in Dagster's logs (default: this host's)")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="steps at once (default 1; each face-model step uses every core)")
    parser.add_argument("--queues", default=",".join(CELERY_QUEUES),
                        help="the step queues it takes from, comma-separated: `cpu` (every "
                             "stage but the face models on backend onnx), `gpu` (those); "
                             "default both")
    parser.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    import yaml

    in_force()  # every setting checked here, not in the first step it breaks
    config = celery_config()
    if config is None:
        raise CliError("farm.celery_broker is not set ($MOVIEFACES_CELERY_BROKER or the "
                       "settings file): a worker needs the broker the runs send steps to")
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise CliError("set DAGSTER_HOME to the folder of the farm's dagster.yaml "
                       "(deploy/farm): the worker records steps in the farm's instance")
    if args.concurrency < 1:
        raise CliError(f"--concurrency {args.concurrency}: give 1 or more")
    queues = [queue.strip() for queue in args.queues.split(",") if queue.strip()]
    if not queues or set(queues) - set(CELERY_QUEUES):
        raise CliError(f"--queues {args.queues}: give {' or '.join(CELERY_QUEUES)}, or both "
                       "separated by a comma")
    path = Path(home) / "moviefaces-worker.yaml"
    write_atomic(path, yaml.safe_dump({"execution": {"config": config}}))
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "dagster-celery"), "worker", "start",
               "-A", "dagster_celery.app", "-y", str(path), "--name", args.name,
               # One -q with a list: Celery takes the last of several -Q.
               "-q", ",".join(queues),
               "--", f"--concurrency={args.concurrency}"]
    # dagster-celery starts `celery` from PATH: this installation's, also outside its venv.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    os.execve(command[0], command, env)
    return 0  # not reached: the worker replaced this process
