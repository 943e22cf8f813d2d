"""Conditional writes on object storage, which the leases of store/lease.py are built on: read
an object with its ETag, create it only if absent (If-None-Match: *), replace it only if it is
still the version read (If-Match: ETag). S3 offers them (AWS since 2024, moto 5); through
s3fs's botocore client. An object store that ignores the conditions would let two workers hold
one movie, so it is probed once per bucket and process and refused in one line.
"""

from __future__ import annotations

import threading
import uuid
from contextlib import suppress

from fsspec import AbstractFileSystem
from fsspec.asyn import sync

from .schema import StoreError

CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}

_probed: set[tuple[str, str]] = set()  # (filesystem token, bucket) known to honour conditions
_probing = threading.Lock()


class Conflict(Exception):
    """The object is not the version the write was conditional on (or exists, for a create)."""


def supports(fs: AbstractFileSystem) -> bool:
    return hasattr(fs, "_call_s3") and "s3" in _protocols(fs)


def read(fs: AbstractFileSystem, path: str) -> tuple[bytes, str] | None:
    """The object's bytes and their ETag, read at once; None if there is none."""
    bucket, key = _split(fs, path)
    return sync(fs.loop, _read, fs, bucket, key)


def put(fs: AbstractFileSystem, path: str, body: bytes, etag: str | None = None) -> str:
    """Write `body` at `path` if it is still version `etag` (None: if there is no object), and
    return the new ETag; Conflict otherwise."""
    bucket, key = _split(fs, path)
    condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
    try:
        return fs.call_s3("put_object", Bucket=bucket, Key=key, Body=body, **condition)["ETag"]
    except OSError as exc:
        if _is_conflict(exc):
            raise Conflict(path) from None
        raise


def require_conditional_writes(fs: AbstractFileSystem, path: str) -> None:
    """StoreError in one line unless the store under `path` honours both conditions (probed
    with an object next to `path`, once per bucket and process)."""
    where = f"{'/'.join(_protocols(fs)[:1])}://{path.rsplit('/', 1)[0]}"
    if not supports(fs):
        raise StoreError(f"{where}: leases there need conditional writes (If-Match), which "
                         "moviefaces uses on S3 only; use s3:// or a folder mounted on every "
                         "machine")
    bucket, _ = _split(fs, path)
    token = (fs._fs_token, bucket)
    with _probing:
        if token in _probed:
            return
        probe = f"{path}.probe-{uuid.uuid4().hex[:12]}"
        try:
            failed = _probe(fs, probe)
        finally:
            with suppress(FileNotFoundError):
                fs.rm_file(probe)
        if failed:
            raise StoreError(f"{where}: the object store ignores conditional writes "
                             f"({failed}), so two workers could hold one movie; use one that "
                             "honours If-Match and If-None-Match (AWS S3 does)")
        _probed.add(token)


def _probe(fs: AbstractFileSystem, probe: str) -> str | None:
    """What the store got wrong, or None."""
    try:
        first = put(fs, probe, b"1")
    except Conflict:
        return "If-None-Match: * refused a new object"
    except OSError as exc:
        return f"If-None-Match: * answered {_one_line(exc)}"
    for condition, etag in (("If-None-Match: *", None), ("If-Match", '"0-not-its-etag"')):
        try:
            put(fs, probe, b"2", etag)
        except Conflict:
            continue
        except OSError as exc:
            return f"{condition} answered {_one_line(exc)}"
        return f"{condition} was ignored"
    try:
        put(fs, probe, b"3", first)
    except (Conflict, OSError) as exc:
        return f"If-Match refused the object's own ETag ({_one_line(exc)})"
    return None


async def _read(fs: AbstractFileSystem, bucket: str, key: str) -> tuple[bytes, str] | None:
    try:
        out = await fs._call_s3("get_object", Bucket=bucket, Key=key)
    except FileNotFoundError:
        return None
    try:
        return await out["Body"].read(), out["ETag"]
    finally:
        out["Body"].close()


def _is_conflict(exc: BaseException) -> bool:
    if isinstance(exc, FileExistsError):  # s3fs's name for a failed If-None-Match
        return True
    if isinstance(exc, FileNotFoundError):  # If-Match on an object someone removed
        return True
    cause = getattr(exc, "__cause__", None)
    response = getattr(cause, "response", None) or {}
    error = response.get("Error", {})
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code")) in CONFLICT_CODES or status in (409, 412)


def _split(fs: AbstractFileSystem, path: str) -> tuple[str, str]:
    bucket, key, _ = fs.split_path(path)
    return bucket, key


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
