"""Every setting a user can give, in one place: its name, environment variable, command-line
flag, allowed values and what it means.

A value comes from, in order: the command line, the environment (`MOVIEFACES_...`), the settings
file named by `$MOVIEFACES_SETTINGS` (TOML, `[sampling] fps = 1`), the default. Whatever the
source, a bad value ends with one line naming where it came from and what is allowed. The
resources take their defaults from here, so the code location, the CLI and every worker resolve
settings the same way.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SETTINGS_FILE_ENV = "MOVIEFACES_SETTINGS"


class SettingError(ValueError):
    """A setting's value is not allowed; the message is one line for the user."""


@dataclass(frozen=True)
class Setting:
    key: str  # resource.field, also the settings file's [resource] field
    env: str
    flag: str | None
    parse: Callable[[str], Any]  # text (environment, command line) to value; ValueError if not
    allowed: str  # what is allowed, for messages
    check: Callable[[Any], bool] = lambda _value: True
    default: Any = None
    help: str = ""

    def validate(self, value: Any, source: str) -> Any:
        """`value` (text or already typed) if allowed, else SettingError naming `source`."""
        try:
            # TOML's `fps = 1` is an int: as a float like `--fps 1`, or the code versions
            # (which hash the value) differ from those of the run's config (Dagster's float).
            typed = self.parse(value) if isinstance(value, str) or (
                self.parse is _number and type(value) is int) else value
            ok = typed is None or self.check(typed)
        except (ValueError, TypeError):
            ok, typed = False, value
        if not ok:
            raise SettingError(f"{source}: {value!r} is not allowed; {self.key} must be "
                               f"{self.allowed}")
        return typed


def _number(text: str) -> float:
    return float(text)


def _finite(low: float, high: float = math.inf, low_open: bool = True) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        number = float(value)
        above = number > low if low_open else number >= low
        return math.isfinite(number) and above and number <= high
    return check


def _choice(*options: str) -> Callable[[Any], bool]:
    return lambda value: value in options


def _whole(text: str) -> int:
    return int(text)


def _text(text: str) -> str:
    return text


def _optional_path(text: str) -> str | None:
    return text or None


def _location(value: Any) -> bool:
    """A path, or a URL whose scheme fsspec knows (its package installed)."""
    if not value:
        return False
    if "://" not in value:
        return True
    from fsspec.registry import known_implementations

    return value.split("://", 1)[0] in known_implementations


# A preset changes the defaults of the settings it names; a value given on the command line, in
# the environment or in the settings file still wins.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # One detection pass (no enlarged copy) and a full pass at least every 6th sample: recall
    # on faces >= 40 px 0.935 / 0.869 on hard_a / hard_b against 0.964 / 0.945 by default, at
    # a third of the default's detection CPU (benchmarks/README.md). At 1280 px hard_b's
    # recall falls to 0.80.
    "fast": {"face_analyzer.upscale": 1.0, "face_analyzer.full_pass_every": 6},
}
PRESET_KEY = "face_analyzer.preset"

SETTINGS: dict[str, Setting] = {s.key: s for s in [
    Setting("store.output_dir", "MOVIEFACES_OUTPUT_DIR", "--output-dir", _text,
            "a folder path, or a URL of object storage (s3://bucket/prefix)", _location,
            "moviefaces_output", "folder for every movie's store, frames, faces and report"),
    Setting("store.scratch_dir", "MOVIEFACES_SCRATCH_DIR", None, _optional_path,
            "a local folder path, or unset", lambda v: v is None or "://" not in v, None,
            "work here on local copies and write results back to the output folder: for an "
            "output folder that several machines share (object storage always works so, in "
            "the system's temporary folder if this is unset)"),
    Setting("store.movies_dir", "MOVIEFACES_MOVIES_DIR", None, _optional_path,
            "a folder path, or unset", lambda v: v is None or "://" not in v, None,
            "where this machine mounts the movies root: a movie under it is registered as "
            "movies:PATH (relative), which each machine opens under its own mount"),
    Setting("store.scratch_gb", "MOVIEFACES_SCRATCH_GB", None, _number,
            "a number of gigabytes above 0", _finite(0), 50.0,
            "the scratch folder's size: copies of movies and of the shared root that no step "
            "uses are evicted, least recently used first, beyond it"),
    Setting("store.scratch_days", "MOVIEFACES_SCRATCH_DAYS", None, _number,
            "a number of days above 0", _finite(0), 7.0,
            "copies in the scratch folder unused for this long are evicted"),
    Setting("store.lease_seconds", "MOVIEFACES_LEASE_SECONDS", None, _number,
            "a number of seconds from 5 to 86400", _finite(5, 86400, low_open=False), 60.0,
            "with object storage: a worker's claim on a movie lasts this long unless renewed, "
            "so a killed worker's movie is free again after it"),
    Setting("store.lease_database", "MOVIEFACES_LEASE_DATABASE", None, _optional_path,
            "a PostgreSQL URL (postgresql+psycopg2://user:password@host:5432/db), or unset",
            lambda v: v is None or v.split("://")[0] in ("postgresql", "postgresql+psycopg2"),
            None, "with object storage: hold each movie's lease as a row of this PostgreSQL "
            "(the Dagster instance's will do) instead of a lease object on the root"),
    Setting("sampling.fps", "MOVIEFACES_FPS", "--fps", _number,
            "a number of frames per second above 0 (0.5 = one frame every 2 s)",
            _finite(0), 1.0, "frames sampled per movie second"),
    Setting("sampling.duration", "MOVIEFACES_DURATION", "--duration", _number,
            "a number of seconds above 0, or unset for the whole movie", _finite(0), None,
            "stop sampling at this movie time"),
    Setting("face_analyzer.backend", "MOVIEFACES_BACKEND", "--backend", _text,
            "one of opencv, onnx, triton", _choice("opencv", "onnx", "triton"), "opencv",
            "embedded OpenCV models, SCRFD + ArcFace files on onnxruntime, or a Triton server"),
    Setting("face_analyzer.max_side", "MOVIEFACES_DETECT_MAX_SIDE", None, _whole,
            "a whole number of pixels from 160 to 8192",
            lambda v: int(v) == v and 160 <= v <= 8192, 1920,
            "frames are scaled down to this long side to detect"),
    Setting("face_analyzer.upscale", "MOVIEFACES_DETECT_UPSCALE", None, _number,
            "a number from 1 (no second pass) to 4", _finite(1, 4, low_open=False), 1.5,
            "second detection pass on the frame enlarged this much, for small faces"),
    Setting("face_analyzer.full_pass_every", "MOVIEFACES_FULL_PASS_EVERY", None, _whole,
            "a whole number of samples from 1 (a full detection on every sample) to 30",
            lambda v: int(v) == v and 1 <= v <= 30, 3,
            "full detection on every shot's first sample and at least every this many "
            "samples; between them faces already found are tracked (YuNet)"),
    Setting("face_analyzer.preset", "MOVIEFACES_PRESET", "--preset", _text,
            "one of default, fast", _choice(*PRESETS), "default",
            "fast: one detection pass (no enlarged copy) and a full pass every 6th sample: "
            "detection about 4x cheaper, finds fewer small faces; settings given explicitly "
            "still count"),
    Setting("face_analyzer.detector", "MOVIEFACES_DETECTOR", "--detector", _text,
            "one of scrfd, yunet", _choice("scrfd", "yunet"), "scrfd",
            "with backends onnx and triton: the SCRFD model, or the embedded YuNet paired with "
            "the ArcFace recogniser"),
    Setting("face_analyzer.models", "MOVIEFACES_MODELS", "--models", _text,
            "one of files, buffalo", _choice("files", "buffalo"), "files",
            "with backend onnx: the files given, or buffalo (InsightFace's buffalo_s from "
            "'moviefaces[buffalo]'; non-commercial research only)"),
    Setting("face_analyzer.triton_url", "MOVIEFACES_TRITON_URL", "--triton-url", _text,
            "host:port of a Triton server's gRPC endpoint",
            lambda v: ":" in v and v.rsplit(":", 1)[1].isdigit(), "127.0.0.1:8001",
            "Triton gRPC endpoint (backend triton)"),
    # Paths to model files are checked when the models load (on the machine that runs them).
    Setting("face_analyzer.onnx_detector_path", "MOVIEFACES_ONNX_DETECTOR", "--onnx-detector",
            _text, "a path to a SCRFD .onnx file", lambda v: True, "",
            "SCRFD .onnx file (backend onnx)"),
    Setting("face_analyzer.onnx_recognizer_path", "MOVIEFACES_ONNX_RECOGNIZER",
            "--onnx-recognizer", _text, "a path to a recogniser .onnx file", lambda v: True, "",
            "ArcFace-style recogniser .onnx file (backend onnx)"),
    Setting("face_analyzer.second_recognizer", "MOVIEFACES_SECOND_RECOGNIZER",
            None, _text, "one of off, dlib", _choice("off", "dlib"), "off",
            "embed every face also with dlib's ResNet descriptor (pip install "
            "'moviefaces[dlib]'; public-domain weights) and group on both: about 60 ms more "
            "per face on one core"),
    Setting("clustering.algorithm", "MOVIEFACES_CLUSTERING", "--clustering", _text,
            "one of average, complete, greedy, dbscan, hdbscan",
            _choice("average", "complete", "greedy", "dbscan", "hdbscan"), "average",
            "how faces are grouped into people"),
    Setting("clustering.similarity_threshold", "MOVIEFACES_SIMILARITY_THRESHOLD",
            "--similarity-threshold", _number,
            "a cosine similarity between -1 and 1 (exclusive), or unset for the recogniser's "
            "default", lambda v: math.isfinite(v) and -1 < v < 1, None,
            "cosine similarity joining two faces"),
    Setting("farm.executor", "MOVIEFACES_EXECUTOR", None, _text,
            "one of in_process, processes, celery, kubernetes",
            _choice("in_process", "processes", "celery", "kubernetes"),
            "in_process", "where a run's steps run: one after another in the run's process, or "
            "a process each, on the machine that runs the run; "
            "Celery workers (`moviefaces worker`, broker farm.celery_broker), or a Kubernetes "
            "pod each (dagster-k8s, with each stage's resources)"),
    Setting("farm.celery_broker", "MOVIEFACES_CELERY_BROKER", None, _optional_path,
            "a Celery broker URL (amqp://user:password@host:5672//), or unset",
            lambda v: v is None or "://" in v, None,
            "the RabbitMQ broker that hands steps to the workers (farm.executor celery)"),
    Setting("farm.celery_backend", "MOVIEFACES_CELERY_BACKEND", None, _text,
            "a Celery result backend URL", lambda v: "://" in v, "rpc://",
            "where workers send step results (rpc:// sends them back through the broker)"),
    Setting("movie_folder.folder", "MOVIEFACES_WATCH_DIR", None, _optional_path,
            "a folder path, a URL of object storage (s3://bucket/prefix), or unset to watch "
            "nothing", lambda v: v is None or _location(v), None,
            "folder or object-storage prefix the sensor watches for new movies"),
]}


def settings_file() -> Path | None:
    path = os.environ.get(SETTINGS_FILE_ENV)
    return Path(path) if path else None


def _file_values() -> dict[str, Any]:
    path = settings_file()
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingError(f"settings file {path} ({SETTINGS_FILE_ENV}): {exc}") from exc
    values = {}
    for section, fields in data.items():
        if not isinstance(fields, dict):
            raise SettingError(f"settings file {path}: {section!r} must be a [section]")
        for name, value in fields.items():
            key = f"{section}.{name}"
            if key not in SETTINGS:
                raise SettingError(f"settings file {path}: unknown setting {key}; known: "
                                   f"{', '.join(SETTINGS)}")
            values[key] = value
    return values


def resolve(key: str, given: Any = None, given_by: str | None = None,
            preset: str | None = None) -> tuple[Any, str]:
    """(value, where it came from) of a setting: `given` (by `given_by`, e.g. a flag) if not
    None, else the environment, the settings file, the preset's value (`preset`, else the
    preset in force), the default."""
    setting = SETTINGS[key]
    if given is not None:
        return setting.validate(given, given_by or key), given_by or key
    if os.environ.get(setting.env, "") != "":
        return setting.validate(os.environ[setting.env], f"${setting.env}"), f"${setting.env}"
    file_values = _file_values()
    if key in file_values:
        where = f"{settings_file()} [{key.split('.')[0]}]"
        return setting.validate(file_values[key], where), where
    if key != PRESET_KEY:
        preset = preset or resolve(PRESET_KEY)[0]
        if key in PRESETS[preset]:
            return PRESETS[preset][key], f"preset {preset}"
    return setting.default, "default"


def value(key: str) -> Any:
    """The setting's value from the environment, the settings file, the preset or its
    default."""
    return resolve(key)[0]


def in_force(given: dict[str, tuple[Any, str]] | None = None) -> dict[str, tuple[Any, str]]:
    """Every setting as (value, source); `given` maps keys to (value, flag) from a command."""
    given = given or {}
    preset = resolve(PRESET_KEY, *given.get(PRESET_KEY, (None, None)))[0]
    return {key: resolve(key, *given.get(key, (None, None)), preset=preset) for key in SETTINGS}
