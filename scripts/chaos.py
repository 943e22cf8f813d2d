"""The chaos run of issue 25: random `kill -9` against a live Dagster deployment of moviefaces,
then proof that nothing is stuck and nothing is lost.

    PYTHONPATH=$PWD .venv/bin/python scripts/chaos.py --movies 20 --minutes 10 --settle 5

1. Cuts N short movies (stream copies of a few seconds, from keyframe to keyframe, of the shared
   test movies: distinct content, so each is a partition of its own) with PyAV.
2. Processes them with `moviefaces run` into a reference output folder: the result without faults.
3. Starts the deployment that `make dev` starts, on a fresh output folder and instance: the
   webserver and the daemon. Not through `dg dev`: `dg dev` ends both when either dies (it
   raises "dagster-daemon process shut down unexpectedly"), so a killed daemon could not be
   restarted on its own, as a supervisor (systemd, Kubernetes) restarts it in production. So the
   script runs `dagster-webserver` and `dagster-daemon run` itself, each in its own process group,
   from the repository root with `-w workspace.yaml`: the code location named `moviefaces`, as
   `dg dev` serves it (workspace.yaml, `[tool.dg.project]`), with the instance home that
   `open_instance` created, and `MOVIEFACES_WATCH_DIR` pointing at a watched folder.
4. Drops the movies into the watched folder a few at a time (the folder sensor registers them
   and requests their runs), and for `--minutes` kills, every 20-40 s, one of: a run's process
   (`dagster api execute_run`), a step process (a multiprocessing child of a run process, with
   `--executor processes`; by default a run's steps run in the run's process, and a step kill
   falls on another kind), or the daemon (`dagster-daemon run`), which it restarts at once.
   Only processes of this deployment (their environment names its DAGSTER_HOME) are ever
   signalled.
5. Stops killing and waits, at most `--settle` minutes, until every movie is published with the
   people of the reference, no run is queued or running, no `face_models` slot is held, every
   relative link of every published page resolves and no temporary file is left; prints the
   figures and exits 1 if any target is missed.

Every process it started is killed (by process group) when it ends, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from dagster import DagsterInstance

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SOURCES = ("cast_a.mp4", "cast_b.mp4", "hard_a.mp4")
KINDS = ("run", "step", "daemon")
POOL = "face_models"
ACTIVE = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


# --- 1. the movies ---------------------------------------------------------------------------

def keyframes(path: Path) -> list[float]:
    """The times of the video's keyframes (the test movies have one at each shot cut)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(p.pts * stream.time_base) for p in container.demux(stream)
                      if p.is_keyframe and p.pts is not None)


def cut(source: Path, target: Path, start: float, end: float) -> None:
    """Copy the video packets from the keyframe at `start` up to the keyframe at `end` (decode
    order) into `target`, without re-encoding: a whole, decodable movie of end - start s."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        stream = src.streams.video[0]
        out = dst.add_stream_from_template(stream)
        base, copying = None, False
        for packet in src.demux(stream):
            if packet.pts is None or packet.dts is None:
                continue
            t = float(packet.pts * stream.time_base)
            if packet.is_keyframe and abs(t - end) < 1e-3 and copying:
                break
            if packet.is_keyframe and abs(t - start) < 1e-3:
                copying, base = True, packet.dts
            if not copying:
                continue
            packet.pts -= base
            packet.dts -= base
            packet.stream = out
            dst.mux(packet)


def make_movies(count: int, folder: Path, testdata: Path, rng: random.Random) -> list[Path]:
    """`count` distinct excerpts of 6-13 s (keyframe to keyframe) of the shared test movies."""
    folder.mkdir(parents=True, exist_ok=True)
    spans: list[tuple[Path, float, float]] = []
    for name in SOURCES:
        source = testdata / "movies" / name
        times = keyframes(source)
        n = 0
        while n < len(times) - 1:
            want = rng.uniform(6, 10)
            ends = [t for t in times[n + 1:] if t - times[n] >= want] or [None]
            if ends[0] is None or ends[0] - times[n] > 14:
                n += 1
                continue
            spans.append((source, times[n], ends[0]))
            n = times.index(ends[0])
    if len(spans) < count:
        raise SystemExit(f"only {len(spans)} distinct excerpts in {SOURCES}; ask for fewer")
    movies = []
    for i, (source, start, end) in enumerate(sorted(rng.sample(spans, count))):
        movie = folder / f"chaos{i:02d}_{source.stem}_{int(start)}.mp4"
        cut(source, movie, start, end)
        movies.append(movie)
    return movies


# --- processes -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


@dataclass
class Proc:
    pid: int
    ppid: int
    cmdline: str


def our_processes(home: Path) -> dict[int, Proc]:
    """Every process whose environment names this deployment's DAGSTER_HOME."""
    mark = f"DAGSTER_HOME={home}".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        if mark not in _read(f"/proc/{entry}/environ").split(b"\0"):
            continue
        stat = _read(f"/proc/{entry}/stat").decode(errors="replace")
        cmdline = _read(f"/proc/{entry}/cmdline").replace(b"\0", b" ").decode(errors="replace")
        if not stat or not cmdline or ") Z " in stat:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        found[int(entry)] = Proc(int(entry), ppid, cmdline)
    return found


def targets(home: Path) -> dict[str, list[Proc]]:
    """This deployment's processes worth killing, by kind. The daemon (`dagster-daemon run`)
    launches runs through its code server (`dagster api grpc`), which runs each in a
    multiprocessing child: the run's process (`dagster api execute_run` with other launchers).
    The multiprocess executor runs each step in a multiprocessing child of the run's process."""
    procs = our_processes(home)

    def child(p: Proc) -> bool:  # a multiprocessing worker, not its resource tracker
        return "multiprocessing" in p.cmdline and "resource_tracker" not in p.cmdline

    runs = {p.pid for p in procs.values() if "api execute_run" in p.cmdline or (
        child(p) and p.ppid in procs and "api grpc" in procs[p.ppid].cmdline)}
    return {
        "run": [procs[pid] for pid in sorted(runs)],
        "step": [p for p in procs.values() if child(p) and p.ppid in runs],
        "daemon": [p for p in procs.values()
                   if "dagster-daemon" in p.cmdline and " run" in p.cmdline],
    }


@dataclass
class Deployment:
    """The webserver and the daemon of one instance, each in its own process group."""

    env: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    webserver: subprocess.Popen | None = None
    daemon: subprocess.Popen | None = None
    groups: set[int] = field(default_factory=set)
    daemon_starts: int = 0

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("a") as out:
            process = subprocess.Popen(args, cwd=REPO, env=self.env, start_new_session=True,
                                       stdout=out, stderr=subprocess.STDOUT)
        self.groups.add(process.pid)
        return process

    def start(self) -> None:
        self.webserver = self._start(
            [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
             "-p", str(self.port)], "webserver")
        self.start_daemon()

    def start_daemon(self) -> None:
        self.daemon_starts += 1
        self.daemon = self._start([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                                  "daemon")

    def reap(self) -> None:
        for process in (self.webserver, self.daemon):
            if process is not None:
                process.poll()

    def serving(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/server_info",
                                        timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM to every group it started, SIGKILL after 30 s, then SIGKILL to any process
        left that names this instance (a run orphaned by a killed daemon)."""
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in (self.webserver, self.daemon):
            if process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=max(1.0, deadline - time.monotonic()))
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        home = Path(self.env["DAGSTER_HOME"])
        for _ in range(3):
            left = our_processes(home)
            for pid in left:
                if pid != os.getpid():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
            if not left:
                break
            time.sleep(1)
        for process in (self.webserver, self.daemon):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)


# --- 4. what a reader sees -------------------------------------------------------------------

Signature = tuple[tuple[int, ...], frozenset]


def people_of(out: Path, key: str) -> Signature | None:
    """The published people of a movie: the face counts, and which faces (by frame time and
    box) are one person; None if the movie is not published."""
    from moviefaces_dag.store import OutputRoot

    root = OutputRoot(out)
    if key not in root.registered_keys():  # the folder sensor has not registered it yet
        return None
    folder = root.folder(key)
    if not folder.published_generation() or not (out / key / "index.html").is_file():
        return None
    db = folder.published()
    counts = tuple(sorted(p.face_count for p in db.people()))
    groups: dict[int | None, set] = {}
    for face in db.faces():
        place = (round(face.time or 0.0, 3), *(round(v) for v in face.box))
        groups.setdefault(face.person_id, set()).add(place)
    return counts, frozenset(frozenset(g) for g in groups.values())


def broken_links(out: Path) -> list[str]:
    """Every relative src/href of every published page that leads to no file (a generation's
    main page is read as <movie>/index.html, and is checked there)."""
    from moviefaces_dag.store.generations import GENERATIONS, MAIN_PAGE

    broken = []
    for page in out.rglob("*.html"):
        parts = page.relative_to(out).parts
        if any(part.startswith(".") for part in parts) or parts[0] == "dagster_home":
            continue
        if page.name == MAIN_PAGE and len(parts) >= 2 and parts[-3:-2] == (GENERATIONS,):
            continue
        try:
            text = page.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            broken.append(f"{page}: {error}")
            continue
        for link in re.findall(r'(?:src|href)="([^"#:?]+)["#?]', text):
            if not (page.parent / unquote(link)).exists():
                broken.append(f"{page.relative_to(out)} -> {link}")
    return broken


def temporary_files(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*.tmp-*") if "dagster_home" not in p.relative_to(out).parts]


@dataclass
class State:
    published: int
    same_people: int
    differ: list[str]
    active: dict[str, int]
    slots: int
    broken: list[str]
    temporary: list[Path]

    def settled(self, total: int) -> bool:
        return (self.published == total and not self.differ and not self.active
                and not self.slots and not self.broken and not self.temporary)


def state(out: Path, instance: DagsterInstance, reference: dict[str, Signature]) -> State:
    from dagster import DagsterRunStatus, RunsFilter

    published = same = 0
    differ = []
    for key, expected in reference.items():
        got = people_of(out, key)
        if got is None:
            continue
        published += 1
        if got == expected:
            same += 1
        else:
            differ.append(key)
    runs = instance.get_runs(filters=RunsFilter(
        statuses=[DagsterRunStatus(s) for s in ACTIVE]))
    active: dict[str, int] = {}
    for run in runs:
        active[run.status.value] = active.get(run.status.value, 0) + 1
    slots = len(instance.event_log_storage.get_concurrency_info(POOL).claimed_slots)
    return State(published, same, differ, active, slots, broken_links(out),
                 temporary_files(out))


# --- the run ---------------------------------------------------------------------------------

def reference_run(movies: list[Path], out: Path, env: dict[str, str], timeout: float
                  ) -> dict[str, Signature]:
    """Each movie processed by `moviefaces run`, without faults, in its own output folder."""
    from moviefaces_dag.store.output import movie_key

    ref_env = {k: v for k, v in env.items() if k not in ("DAGSTER_HOME", "MOVIEFACES_WATCH_DIR",
                                                         "MOVIEFACES_OUTPUT_DIR")}
    done = subprocess.run([str(BIN / "moviefaces"), "run", *map(str, movies),
                           "--output-dir", str(out)], env=ref_env, cwd=REPO, timeout=timeout,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the reference run failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    reference = {}
    for movie in movies:
        key = movie_key(movie.stem)
        signature = people_of(out, key)
        if signature is None:
            raise SystemExit(f"the reference run published no {key}")
        reference[key] = signature
    return reference


def kill(kind: str, home: Path, deployment: Deployment, rng: random.Random) -> str | None:
    """kill -9 one process of `kind` (or of another kind if none is there); the daemon is
    restarted at once. Returns what was killed, or None."""
    found = targets(home)
    for choice in [kind, *rng.sample([k for k in KINDS if k != kind], 2)]:
        if found[choice]:
            victim = rng.choice(found[choice])
            try:
                os.kill(victim.pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            if choice == "daemon":
                if deployment.daemon is not None and deployment.daemon.pid == victim.pid:
                    deployment.daemon.wait(timeout=30)
                deployment.start_daemon()
            return f"{choice} pid {victim.pid} ({victim.cmdline[:90]})"
    return None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: the deployment is stopped on the way out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movies", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10, help="minutes of kills")
    parser.add_argument("--settle", type=float, default=5,
                        help="minutes to settle after the last kill, at most")
    parser.add_argument("--grace", type=float, default=5,
                        help="minutes to keep watching after a missed --settle, to measure when "
                        "it settles (the run fails all the same)")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--every", type=float, nargs=2, default=(20.0, 40.0),
                        metavar=("MIN_S", "MAX_S"), help="seconds between kills (random)")
    parser.add_argument("--batch", type=int, default=5, help="movies dropped at a time")
    parser.add_argument("--duration", default="4", help="MOVIEFACES_DURATION (seconds sampled)")
    parser.add_argument("--fps", default="1", help="MOVIEFACES_FPS")
    parser.add_argument("--executor", help="the deployment's farm.executor (MOVIEFACES_EXECUTOR: "
                        "in_process, the default, or processes)")
    parser.add_argument("--testdata", type=Path, default=Path(
        os.environ.get("MOVIEFACES_TESTDATA", REPO.parent / "shared" / "testdata")))
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temp "
                        "folder, removed at the end)")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="moviefaces-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    out, watched = work / "out", work / "watched"
    watched.mkdir()
    home = out / "dagster_home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOVIEFACES_", "DAGSTER_"))}
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MOVIEFACES_DURATION": args.duration, "MOVIEFACES_FPS": args.fps,
        **({"MOVIEFACES_EXECUTOR": args.executor} if args.executor else {}),
    })
    os.environ.update({k: env[k] for k in ("PYTHONPATH", "MOVIEFACES_DURATION",
                                            "MOVIEFACES_FPS")})
    log(f"working in {work}")
    movies = make_movies(args.movies, work / "movies", args.testdata, rng)
    log(f"{len(movies)} movies cut: {', '.join(m.name for m in movies)}")
    started = time.monotonic()
    reference = reference_run(movies, work / "reference", env, timeout=60 * 60)
    log(f"reference run: {time.monotonic() - started:.0f} s, people per movie "
        f"{[len(s[0]) for s in reference.values()]}")

    env.update({"DAGSTER_HOME": str(home), "MOVIEFACES_OUTPUT_DIR": str(out),
                "MOVIEFACES_WATCH_DIR": str(watched)})
    os.environ.update({k: env[k] for k in ("DAGSTER_HOME", "MOVIEFACES_OUTPUT_DIR")})
    from moviefaces_dag.defs.instance import open_instance

    instance = open_instance(out)  # as `make dev`: the instance first, with the settings
    deployment = Deployment(env, work)
    kills: list[tuple[str, str, int]] = []
    old_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        deployment.start()
        deadline = time.monotonic() + 240
        while not deployment.serving():
            if time.monotonic() > deadline or deployment.webserver.poll() is not None:
                raise SystemExit(f"the webserver did not serve within 240 s; see {work}")
            time.sleep(2)
        log(f"webserver on http://127.0.0.1:{deployment.port}, daemon pid "
            f"{deployment.daemon.pid}")

        # --- 3. kills, while the movies arrive a few at a time ---
        staging = work / ".staging"
        staging.mkdir()
        pending = list(movies)
        end_of_kills = time.monotonic() + args.minutes * 60
        next_drop = time.monotonic()
        next_kill = time.monotonic() + rng.uniform(*args.every)
        last_kill = time.monotonic()
        while time.monotonic() < end_of_kills:
            now = time.monotonic()
            if pending and now >= next_drop:
                batch, pending = pending[:args.batch], pending[args.batch:]
                for movie in batch:  # whole files only: copied beside, then renamed in
                    shutil.copy2(movie, staging / movie.name)
                    os.rename(staging / movie.name, watched / movie.name)
                log(f"dropped {len(batch)} movies into {watched}")
                next_drop = now + 60
            if now >= next_kill:
                kind = rng.choice(KINDS)
                what = kill(kind, home, deployment, rng)
                if what:
                    kills.append((time.strftime("%H:%M:%S"), what.split()[0], int(
                        what.split()[2])))
                    last_kill = time.monotonic()
                    log(f"kill -9 {what}")
                else:
                    log(f"kill: nothing to kill (wanted a {kind})")
                next_kill = now + rng.uniform(*args.every)
            deployment.reap()
            if deployment.daemon.poll() is not None:  # died on its own: restart it too
                log(f"the daemon ended with {deployment.daemon.returncode}; restarted")
                deployment.start_daemon()
            time.sleep(1)
        for movie in pending:
            shutil.copy2(movie, staging / movie.name)
            os.rename(staging / movie.name, watched / movie.name)
        log(f"kills over: {len(kills)}; waiting at most {args.settle} min to settle")

        # --- 4. settle ---
        settle_deadline = last_kill + args.settle * 60
        at_deadline = None  # the state when the target's time ran out, if not settled by then
        settled_at = None
        while True:
            deployment.reap()
            if deployment.daemon.poll() is not None:
                log(f"the daemon ended with {deployment.daemon.returncode}; restarted")
                deployment.start_daemon()
            now_state = state(out, instance, reference)
            if now_state.settled(len(reference)):
                settled_at = time.monotonic()
                break
            if at_deadline is None and time.monotonic() > settle_deadline:
                at_deadline = now_state
                log(f"not settled within {args.settle} min: published {now_state.published}/"
                    f"{len(reference)}, active runs {now_state.active}, slots "
                    f"{now_state.slots}; watching {args.grace} min more")
            if time.monotonic() > settle_deadline + args.grace * 60:
                break
            time.sleep(5)
        log(f"state: published {now_state.published}/{len(reference)}, active runs "
            f"{now_state.active}, slots {now_state.slots}")
    finally:
        deployment.stop()
        signal.signal(signal.SIGTERM, old_term)

    # --- 5. the figures ---
    by_kind = {kind: sum(1 for _, k, _ in kills if k == kind) for kind in KINDS}
    settle_min = (settled_at - last_kill) / 60 if settled_at else None
    final = now_state
    now_state = at_deadline or now_state  # the targets are judged at the deadline
    started_left = now_state.active.get("STARTED", 0) + now_state.active.get("STARTING", 0)
    figures = [
        ("kills", f"{len(kills)} (run {by_kind['run']}, step {by_kind['step']}, "
                  f"daemon {by_kind['daemon']})"),
        ("minutes to settle after the last kill",
         f"{settle_min:.1f}" if settle_min is not None
         else f"not within {args.settle + args.grace:g}"),
        ("movies published / total", f"{now_state.published} / {len(reference)}"),
        ("runs STARTED left", str(started_left)),
        ("other runs queued or running left", str(sum(now_state.active.values())
                                                   - started_left)),
        (f"{POOL} slots held", str(now_state.slots)),
        ("broken links", str(len(now_state.broken))),
        ("temporary files", str(len(now_state.temporary))),
        ("movies whose people differ from the reference",
         f"{len(now_state.differ)} {now_state.differ if now_state.differ else ''}".strip()),
    ]
    print("\nkill log:")
    for at, kind, pid in kills:
        print(f"  {at} {kind} {pid}")
    print("\nfigures:")
    for name, value in figures:
        print(f"  {name}: {value}")
    for link in now_state.broken[:20]:
        print(f"  broken: {link}")
    for path in now_state.temporary[:20]:
        print(f"  temporary: {path}")
    if at_deadline is not None:
        print(f"  (figures above: at {args.settle:g} min after the last kill; at the end, "
              f"{args.grace:g} min later: published {final.published} / {len(reference)}, "
              f"active runs {final.active}, slots {final.slots}, broken links "
              f"{len(final.broken)}, temporary files {len(final.temporary)}, people differ "
              f"{len(final.differ)})")
    ok = settled_at is not None and at_deadline is None
    print(f"\n{'PASS' if ok else 'FAIL'}: every target "
          f"{'met' if ok else 'not met'} within {args.settle} min of the last kill")
    if not args.workdir and ok:
        shutil.rmtree(work, ignore_errors=True)
    elif not ok:
        print(f"kept {work} for a look")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
