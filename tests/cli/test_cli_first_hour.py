"""What a new user meets in the first hour: a progress bar in a real terminal, one clear line for
every bad value or broken file, damaged movies processed as far as they decode, sampling faster
than the movie, names in any script and hostile names, all through the real `moviefaces`."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import av
import pytest

from moviefaces_dag.store import OutputRoot

pytestmark = pytest.mark.slow


def moviefaces(*args, env: dict | None = None, cwd: Path | None = None):
    base = {k: v for k, v in os.environ.items()
            if k != "DAGSTER_HOME" and not k.startswith("MOVIEFACES_")}
    return subprocess.run([sys.executable, "-m", "moviefaces_dag.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env={**base, **(env or {})},
                          cwd=cwd)


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


# progress ---------------------------------------------------------------------------------------
def test_progress_bar_is_drawn_in_a_real_terminal(tmp_path: Path, testdata: Path) -> None:
    """Dagster captures the steps' standard error; the bar must reach the terminal anyway."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: moviefaces on a pseudo-terminal the size of a usual window
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execve(sys.executable, [sys.executable, "-m", "moviefaces_dag.cli", "run",
                                   str(testdata / "movies" / "cast_b.mp4"), "--duration", "8",
                                   "--output-dir", str(tmp_path / "out")], env)
    screen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
    _, status = os.waitpid(pid, 0)
    text = screen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    for stage in ("frames", "detect faces", "embed faces"):
        assert re.search(rf"{stage}: +100%\|", text), (stage, text[-2000:])
    assert "it/s]" in text and "people found:" in text


def test_without_a_terminal_progress_is_plain_lines(tmp_path: Path, testdata: Path) -> None:
    """A log file gets a line every 10 s of a long stage, and none from short ones."""
    # 120 samples, each with a full detection: detection lasts well over 10 s here
    done = moviefaces("run", testdata / "movies" / "hard_b.mp4", "--duration", "60", "--fps", "2",
                      "--output-dir", tmp_path / "out", env={"MOVIEFACES_FULL_PASS_EVERY": "1"})
    assert done.returncode == 0, done.stderr
    assert re.search(r"^detect faces: \d+/120 \(\d+%\), \d+ s$", done.stderr, re.M), done.stderr
    assert re.search(r"^detect faces: 120 done in \d+ s$", done.stderr, re.M), done.stderr
    assert "frames:" not in done.stderr and "\r" not in done.stderr


# bad values ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "env", "says"), [
    (["--fps", "nan"], {}, "--fps: 'nan' is not allowed; sampling.fps must be a number"),
    (["--fps", "inf"], {}, "--fps: 'inf' is not allowed"),
    (["--fps", "-1"], {}, "--fps: '-1' is not allowed"),
    (["--similarity-threshold", "2"], {}, "--similarity-threshold: '2' is not allowed; "
                                          "clustering.similarity_threshold must be a cosine"),
    ([], {"MOVIEFACES_FPS": "abc"}, "$MOVIEFACES_FPS: 'abc' is not allowed"),
    ([], {"MOVIEFACES_FPS": "0"}, "$MOVIEFACES_FPS: '0' is not allowed"),
    ([], {"MOVIEFACES_DETECT_UPSCALE": "9"}, "$MOVIEFACES_DETECT_UPSCALE: '9' is not allowed; "
                                              "face_analyzer.upscale must be a number from 1"),
    (["--clustering", "kmeans"], {}, "--clustering: 'kmeans' is not allowed; "
                                     "clustering.algorithm must be one of average"),
    (["--backend", "onnx"], {}, "backend onnx needs a SCRFD and a recogniser .onnx file: "
                                "--onnx-detector FILE --onnx-recognizer FILE"),
])
def test_bad_settings_end_with_one_line_naming_them(tmp_path: Path, testdata: Path, args, env,
                                                    says: str) -> None:
    done = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--duration", "2",
                      "--output-dir", tmp_path / "out", *args, env=env)
    assert done.returncode == 1
    assert says in one_line(done)


def test_a_settings_file_gives_values_and_says_where_bad_ones_are(tmp_path: Path,
                                                                 testdata: Path) -> None:
    settings = tmp_path / "moviefaces.toml"
    settings.write_text("[sampling]\nfps = 0\n")
    done = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--output-dir", tmp_path / "o",
                      env={"MOVIEFACES_SETTINGS": str(settings)})
    assert done.returncode == 1
    assert f"{settings} [sampling]: 0 is not allowed; sampling.fps" in one_line(done)
    settings.write_text("[sampling]\nfps = 0.5\nduration = 4\n")
    done = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--output-dir", tmp_path / "o",
                      env={"MOVIEFACES_SETTINGS": str(settings)})
    assert done.returncode == 0, done.stderr
    assert "frames sampled: 2 (0.5 frames per second)" in done.stdout


def test_bad_output_folders_end_with_one_line(tmp_path: Path, testdata: Path) -> None:
    movie = testdata / "movies" / "cast_b.mp4"
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    cases = [(a_file, "is a file, not a folder"), (a_file / "below", "part of that path is a file")]
    if os.geteuid() != 0:  # root writes anywhere; a read-only mount is tested below
        cases.append((locked / "out", "cannot be written"))
    for folder, says in cases:
        done = moviefaces("add", movie, "--output-dir", folder)
        assert done.returncode == 1 and f"output folder {folder}" in one_line(done)
        assert says in done.stderr


def test_a_damaged_store_is_named(tmp_path: Path, testdata: Path) -> None:
    out = tmp_path / "out"
    assert moviefaces("add", testdata / "movies" / "cast_b.mp4", "--output-dir", out).returncode \
        == 0
    draft = out / "cast_b" / "work.sqlite"
    draft.write_bytes(draft.read_bytes()[:100])  # truncated
    done = moviefaces("run", testdata / "movies" / "cast_b.mp4", "--output-dir", out)
    assert done.returncode == 1
    assert f"{draft}: " in one_line(done) and "a damaged file can be moved away" in done.stderr


def test_export_failures_are_one_line(tmp_path: Path, testdata: Path) -> None:
    out = tmp_path / "out"
    movie = testdata / "movies" / "cast_b.mp4"
    assert moviefaces("run", movie, "--duration", "4", "--output-dir", out).returncode == 0
    crops = next((out / "cast_b" / "faces").iterdir())
    shutil.rmtree(crops)
    done = moviefaces("export", movie, "--output-dir", out, "--format", "jsonl")
    assert done.returncode == 1 and f"{crops}/" in one_line(done)
    # the advice names the command that makes the file again (issue 25: "re-run the movie"
    # was followed by an "up to date" rerun)
    assert f"is missing; `moviefaces run {movie} --output-dir {out}` makes it again" in done.stderr
    target = tmp_path / "a_file"
    target.write_text("x")
    done = moviefaces("export", movie, "--output-dir", out, "--format", "jsonl",
                      "--out", target)
    assert done.returncode == 1 and f"{target} is a file" in one_line(done)


# damaged movies --------------------------------------------------------------------------------
def _faststart(source: Path, target: Path) -> Path:
    with av.open(str(source)) as src, av.open(str(target), "w",
                                              options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    return target


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("damaged")
    whole = _faststart(testdata / "movies" / "cast_a.mp4", folder / "whole.mp4").read_bytes()
    (folder / "cut.mp4").write_bytes(whole[: len(whole) // 3])
    middle = bytearray(whole)
    middle[int(len(whole) * 0.4):int(len(whole) * 0.7)] = bytes(int(len(whole) * 0.7)
                                                             - int(len(whole) * 0.4))
    (folder / "zeroed.mp4").write_bytes(bytes(middle))
    avi = (testdata / "videos" / "opencv_vtest.avi").read_bytes()
    (folder / "cut.avi").write_bytes(avi[: len(avi) // 2])
    return {name: folder / name for name in ("cut.mp4", "zeroed.mp4", "cut.avi")}


@pytest.mark.parametrize(("name", "reason", "length"), [
    ("cut.mp4", "the file ends early: truncated", "01:15"),
    ("zeroed.mp4", "decoding failed: Invalid data found when processing input", "01:15"),
    ("cut.avi", "the file ends early: truncated", "01:20"),
])
def test_a_damaged_movie_is_processed_as_far_as_it_decodes(tmp_path: Path, damaged, name: str,
                                                           reason: str, length: str) -> None:
    out = tmp_path / "out"
    done = moviefaces("run", damaged[name], "--fps", "0.5", "--output-dir", out)
    assert done.returncode == 0, done.stderr
    warning = one_line(done)
    assert re.fullmatch(rf"moviefaces: warning: {re.escape(str(damaged[name]))}: decoded up to "
                        rf"00:\d\d of {length} \({reason}\); the rest was not processed",
                        warning), warning
    key = damaged[name].stem
    report = (out / key / "index.html").read_text()
    assert 'id="damage"' in report and "decoded up to" in report
    assert OutputRoot(out).folder(key).published().frames()


def test_sampling_faster_than_the_movie_says_so_and_counts_right(tmp_path: Path,
                                                                testdata: Path) -> None:
    movie = testdata / "videos" / "pyfeat_single_face.mp4"  # 2.4 s at 30 frames per second
    done = moviefaces("run", movie, "--fps", "1000", "--output-dir", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "(30 frames per second, every frame: the movie has no more (1000 asked))" in \
        done.stdout
    report = (tmp_path / "out" / "pyfeat_single_face" / "index.html").read_text()
    assert "30 frames per second" in report and "(every frame)" in report
    # The one person is on screen for the whole clip: screen time from the rate in force.
    assert re.search(r"On screen \(est\.\)</dt><dd>2 s</dd>", report), report[:3000]


# names -----------------------------------------------------------------------------------------
def test_a_movie_named_in_another_script_keeps_its_name(tmp_path: Path, testdata: Path) -> None:
    movie = tmp_path / "東京物語.mp4"
    shutil.copy(testdata / "videos" / "pyfeat_single_face.mp4", movie)
    done = moviefaces("run", movie, "--output-dir", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "(partition 東京物語)" in done.stdout
    assert (tmp_path / "out" / "東京物語" / "index.html").is_file()
    library = (tmp_path / "out" / "index.html").read_text()
    assert "東京物語.mp4" in library and 'href="%E6%9D%B1%E4%BA%AC' in library


def test_control_characters_never_reach_the_terminal(tmp_path: Path, testdata: Path) -> None:
    movie = tmp_path / "evil\x1b]0;pwned\x07.mp4"
    shutil.copy(testdata / "videos" / "pyfeat_single_face.mp4", movie)
    done = moviefaces("run", movie, "--output-dir", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout
    assert "evil\\x1b]0;pwned\\x07.mp4" in done.stdout
    assert "(partition evil-0-pwned)" in done.stdout


def test_a_movie_named_like_the_tools_folders_stays_apart(tmp_path: Path, testdata: Path):
    movie = tmp_path / "dagster_home.mp4"
    shutil.copy(testdata / "videos" / "pyfeat_single_face.mp4", movie)
    done = moviefaces("run", movie, "--output-dir", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "dagster_home-movie" / "index.html").is_file()
    assert (tmp_path / "out" / "dagster_home" / "dagster.yaml").is_file()


def test_ctrl_c_in_a_terminal_ends_the_run_and_its_children(tmp_path: Path, testdata: Path):
    """The real key press: SIGINT to the whole process group, as a terminal sends it."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    run = subprocess.Popen([sys.executable, "-m", "moviefaces_dag.cli", "run",
                            testdata / "movies" / "hard_b.mp4", "--output-dir", tmp_path / "out"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    draft = tmp_path / "out" / "hard_b" / "work.sqlite"
    deadline = time.monotonic() + 120
    while not (tmp_path / "out" / "hard_b" / "frames").exists():
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.2)
    time.sleep(2)
    os.killpg(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130
    assert stderr.strip().endswith("interrupted (SIGINT); the previous results of hard_b are "
                                   "kept"), stderr
    assert "Traceback" not in stderr
    assert draft.exists()
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pid, 0)  # nothing of the group is left running


def test_settings_says_what_is_in_force_and_where_it_came_from(tmp_path: Path) -> None:
    settings = tmp_path / "farm.toml"
    settings.write_text("[sampling]\nfps = 2\n[clustering]\nalgorithm = 'complete'\n")
    done = moviefaces("settings", env={"MOVIEFACES_SETTINGS": str(settings),
                                       "MOVIEFACES_CLUSTERING": "greedy"})
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[1:]}
    # the file's integer in force as the float a flag gives (equal code versions either way)
    assert rows["sampling.fps"][:2] == ["2.0", str(settings)]
    assert rows["clustering.algorithm"][:2] == ["'greedy'", "$MOVIEFACES_CLUSTERING"]
    assert rows["sampling.duration"][:2] == ["unset", "default"]


def test_fast_preset_sets_the_detection_defaults_and_explicit_values_win(tmp_path: Path) -> None:
    done = moviefaces("settings", env={"MOVIEFACES_PRESET": "fast",
                                       "MOVIEFACES_DETECT_MAX_SIDE": "960"})
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[1:]}
    assert rows["face_analyzer.preset"][:2] == ["'fast'", "$MOVIEFACES_PRESET"]
    assert rows["face_analyzer.upscale"][:3] == ["1.0", "preset", "fast"]
    assert rows["face_analyzer.full_pass_every"][:3] == ["6", "preset", "fast"]
    assert rows["face_analyzer.max_side"][:2] == ["960", "$MOVIEFACES_DETECT_MAX_SIDE"]
    refused = moviefaces("settings", env={"MOVIEFACES_PRESET": "fastest"})
    assert refused.returncode == 1
    assert "face_analyzer.preset must be one of default, fast" in refused.stderr


def test_settings_show_what_runs_and_take_the_output_folder(tmp_path: Path) -> None:
    """The embedded backend runs YuNet + SFace whatever the detector setting says; an unset
    threshold shows the recogniser's default in force; --output-dir is taken like elsewhere."""
    done = moviefaces("settings", "--output-dir", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[1:]}
    assert rows["store.output_dir"][:2] == [repr(str(tmp_path / "out")), "--output-dir"]
    assert rows["face_analyzer.detector"][:3] == ["'yunet'", "backend", "opencv"]
    assert rows["models.detector"][0].startswith("'yunet") and "sface" in rows[
        "models.recognizer"][0]
    threshold, *source = rows["clustering.similarity_threshold"]
    assert -1 < float(threshold) < 1 and source[:3] == ["default", "for", "sface,"]
    chosen = moviefaces("settings", "--backend", "onnx", "--models", "buffalo",
                        env={"MOVIEFACES_SIMILARITY_THRESHOLD": "0.3"})
    assert chosen.returncode == 0, chosen.stderr
    rows = {line.split()[0]: line.split()[1:] for line in chosen.stdout.splitlines()[1:]}
    assert rows["face_analyzer.detector"][:2] == ["'scrfd'", "default"]
    assert rows["models.recognizer"][0] == "'w600k_mbf'"
    assert rows["clustering.similarity_threshold"][:2] == ["0.3",
                                                           "$MOVIEFACES_SIMILARITY_THRESHOLD"]
