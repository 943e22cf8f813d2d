"""A movie in object storage: copied to scratch and decoded from disk (what a step does), or
decoded through ranged reads (s3fs file object handed to PyAV). Against moto's S3 server on
this machine (no network latency: a real bucket adds a round trip per request, which favours
the copy further). Prints seconds and ratios measured in this one run.

    python benchmarks/movie_sources.py [MOVIE ...]    # default: testdata cast_a.mp4, hard_b.mp4
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av


def sampled(container: av.container.InputContainer, fps: float) -> int:
    """Decode the whole stream, keeping one frame per 1/fps seconds as pixels."""
    stream = container.streams.video[0]
    kept, next_time = 0, 0.0
    for frame in container.decode(stream):
        if frame.time is not None and frame.time >= next_time:
            frame.to_ndarray(format="bgr24")
            kept += 1
            next_time += 1 / fps
    return kept


def main(movies: list[Path]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H",
                               "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        import s3fs

        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.mkdir("bench")
        for movie in movies:
            url = f"bench/{movie.name}"
            fs.put_file(str(movie), url)
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                fs.get_file(url, f"{tmp}/copy{movie.suffix}")
                copied = time.perf_counter() - started
                started = time.perf_counter()
                with av.open(f"{tmp}/copy{movie.suffix}") as container:
                    frames = sampled(container, 1.0)
                local = time.perf_counter() - started
            started = time.perf_counter()
            with fs.open(url, "rb") as handle, av.open(handle) as container:
                assert sampled(container, 1.0) == frames
                requests = getattr(handle.cache, "miss_count", "?")
            ranged = time.perf_counter() - started
            size = movie.stat().st_size / 1e6
            print(f"{movie.name} ({size:.0f} MB, {frames} samples): copy {copied:.2f} s "
                  f"({size / copied:.0f} MB/s), then decode {local:.1f} s; decode through "
                  f"ranged reads {ranged:.1f} s ({requests} requests of s3fs's default block); "
                  f"copy / decode = {copied / local:.3f}, ranged / (copy + decode) = "
                  f"{ranged / (copied + local):.2f}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    testdata = Path(os.environ.get("MOVIEFACES_TESTDATA", "../shared/testdata")) / "movies"
    main([Path(a) for a in sys.argv[1:]] or [testdata / "cast_a.mp4", testdata / "hard_b.mp4"])
