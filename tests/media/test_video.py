"""Frame sampling: instants, timestamps, decoding strategies and unusable files."""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from moviefaces_dag.media.video import (
    MovieError,
    keyframe_interval,
    probe_movie,
    sample_frames,
    seek_gap,
)

# Frame times (s) of the variable-frame-rate movie: bursts and long gaps, so a timestamp computed
# as index / average fps would be wrong, and no frame sits near an instant it should not take.
VFR_TIMES = [0.0, 0.3, 0.6, 1.4, 1.45, 1.5, 2.7, 4.2, 4.25, 4.3, 4.35, 5.1]
# The first frame at or after each instant k s: 3 and 4 s share a frame; 0.6 is too early for 1 s.
VFR_SAMPLED_AT_1FPS = [0.0, 1.4, 2.7, 4.2, 5.1]


def gray_level(index: int) -> int:
    return 10 + 20 * index % 240


def write_movie(path: Path, times: list[float], size: tuple[int, int] = (160, 96),
                time_base: Fraction = Fraction(1, 1000), keyint: int = 250) -> Path:
    """H.264 where frame k is flat gray at gray_level(k), shown at times[k] seconds."""
    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=24,
                                      options={"g": str(keyint), "sc_threshold": "0"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        for k, t in enumerate(times):
            image = np.full((height, width, 3), gray_level(k), np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = round(t / time_base)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def fingerprints(frames) -> list[tuple[int, float, str]]:
    return [(f.index, f.time, hashlib.md5(f.image.tobytes()).hexdigest()) for f in frames]


# sampling instants -------------------------------------------------------------------------------
def test_one_frame_per_second_with_container_timestamps(cast_a: Path) -> None:
    frames = list(sample_frames(cast_a, 1.0, duration=10))
    assert [f.index for f in frames] == list(range(10))
    assert [f.time for f in frames] == [float(k) for k in range(10)]
    assert all(f.image.shape == (720, 1280, 3) and f.image.dtype == np.uint8 for f in frames)


def test_fractional_rate_samples_every_other_second(cast_a: Path) -> None:
    frames = list(sample_frames(cast_a, 0.5, duration=20))
    assert [f.time for f in frames] == [float(k) for k in range(0, 20, 2)]


def test_rate_above_the_movie_rate_takes_every_frame_once(cast_a: Path) -> None:
    frames = list(sample_frames(cast_a, 60.0, duration=1))
    assert [f.time for f in frames] == pytest.approx([k / 24 for k in range(24)], abs=1e-6)


def test_whole_movie_ends_at_its_duration(cast_a: Path) -> None:
    info = probe_movie(cast_a)
    frames = list(sample_frames(cast_a, 1.0))
    assert len(frames) == math.ceil(info.duration)
    assert frames[-1].time == math.ceil(info.duration) - 1


def test_variable_frame_rate_uses_each_frames_own_time(tmp_path: Path) -> None:
    movie = write_movie(tmp_path / "vfr.mkv", VFR_TIMES)
    frames = list(sample_frames(movie, 1.0))
    assert [f.time for f in frames] == pytest.approx(VFR_SAMPLED_AT_1FPS, abs=1e-3)
    # The pixels are those of the frame shown at that time, not of a neighbour.
    expected = [gray_level(VFR_TIMES.index(t)) for t in VFR_SAMPLED_AT_1FPS]
    assert [float(f.image.mean()) for f in frames] == pytest.approx(expected, abs=4)


# decoding strategies --------------------------------------------------------------------------
@pytest.mark.parametrize("fps", [1.0, 0.1])
def test_seeking_and_sequential_decoding_give_the_same_frames(cast_a: Path, fps: float) -> None:
    sequential = fingerprints(sample_frames(cast_a, fps, duration=30, strategy="sequential"))
    assert len(sequential) == math.ceil(30 * fps)
    assert fingerprints(sample_frames(cast_a, fps, duration=30, strategy="seek")) == sequential
    assert fingerprints(sample_frames(cast_a, fps, duration=30)) == sequential


def _stored_as(source: Path, target: Path, rotation: int = 0,
               pixel_aspect: Fraction = Fraction(1), seconds: float = 3.0) -> None:
    """`source` re-encoded the way a phone or a DVD stores it: pixels turned clockwise by
    `rotation` degrees with a display rotation that turns them back, and/or the width squeezed
    into pixels `pixel_aspect` times as wide as tall. Players undo both."""
    with av.open(str(source)) as inp, av.open(str(target), mode="w") as out:
        stream = out.add_stream("mpeg4", rate=24)
        for n, frame in enumerate(inp.decode(video=0)):
            if frame.time >= seconds:
                break
            image = np.rot90(frame.to_ndarray(format="bgr24"), -rotation // 90)
            squeezed = (round(image.shape[1] / pixel_aspect), image.shape[0])  # stored pixels
            image = cv2.resize(np.ascontiguousarray(image), squeezed,
                               interpolation=cv2.INTER_AREA)
            if n == 0:
                stream.width, stream.height = image.shape[1], image.shape[0]
                stream.pix_fmt, stream.bit_rate = "yuv420p", 4_000_000
                stream.codec_context.sample_aspect_ratio = pixel_aspect
                stream.set_display_rotation(rotation)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode())


@pytest.mark.parametrize(("rotation", "pixel_aspect", "shown"), [
    (90, Fraction(1), (1280, 720)),  # a phone held upright, stored sideways
    (-90, Fraction(1), (1280, 720)),
    (180, Fraction(1), (1280, 720)),
    (0, Fraction(2), (1280, 720)),  # anamorphic: wide pixels, stretched back
    (0, Fraction(1, 2), (2560, 1440)),  # tall pixels: stretched, never thinned
    (90, Fraction(2), (1280, 720)),
])
def test_frames_come_out_as_players_show_them(cast_a: Path, tmp_path: Path, rotation: int,
                                              pixel_aspect: Fraction,
                                              shown: tuple[int, int]) -> None:
    movie = tmp_path / "stored.mp4"
    _stored_as(cast_a, movie, rotation, pixel_aspect)
    info = probe_movie(movie)
    assert (info.width, info.height) == shown
    said = " ".join(info.adjustments)
    assert ("turned" in said) == (rotation != 0) and ("square" in said) == (pixel_aspect != 1)
    assert probe_movie(cast_a).adjustments == ()
    frames = [f.image for f in sample_frames(movie, 1.0, on_damage=lambda _damage: None)]
    original = [f.image for f in sample_frames(cast_a, 1.0, 3.0)]
    assert len(frames) == len(original) == 3
    for got, want in zip(frames, original, strict=True):
        assert (got.shape[1], got.shape[0]) == shown and got.flags.c_contiguous
        got = cv2.resize(got, (want.shape[1], want.shape[0]), interpolation=cv2.INTER_AREA)
        assert np.abs(got.astype(np.int16) - want).mean() < 6  # the same picture, codec noise


def test_cover_art_stored_first_is_not_taken_for_the_movie(cast_a: Path, tmp_path: Path) -> None:
    # Files from media libraries often carry a one-picture cover-art stream before the movie.
    movie = tmp_path / "with cover.mkv"
    with av.open(str(cast_a)) as inp, av.open(str(movie), mode="w") as out:
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 300, 400, "yuvj420p"
        film = out.add_stream("libx264", rate=24)
        film.width, film.height, film.pix_fmt = 1280, 720, "yuv420p"
        picture = np.full((400, 300, 3), 200, np.uint8)
        out.mux(cover.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
        out.mux(cover.encode())
        for frame in inp.decode(video=0):
            if frame.time >= 3.0:
                break
            out.mux(film.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="bgr24"),
                                                           format="bgr24")))
        out.mux(film.encode())
    info = probe_movie(movie)
    assert (info.codec, info.width, info.height) == ("h264", 1280, 720)
    frames = [f.image for f in sample_frames(movie, 1.0, on_damage=lambda _damage: None)]
    original = [f.image for f in sample_frames(cast_a, 1.0, 3.0)]
    assert len(frames) == 3
    for got, want in zip(frames, original, strict=True):
        assert np.abs(got.astype(np.int16) - want).mean() < 6


def test_interlaced_frames_lose_their_combs(tmp_path: Path) -> None:
    # A bar moving right, shot interlaced: the top field (even rows) sees it at x 100-120, the
    # bottom field (odd rows), a field later, at x 140-160. Woven, its edges are combed.
    woven = np.full((240, 320, 3), 20, np.uint8)
    woven[0::2, 100:120] = 230
    woven[1::2, 140:160] = 230
    movie = tmp_path / "interlaced.mp4"
    with av.open(str(movie), mode="w") as out:
        stream = out.add_stream("libx264", rate=25, options={
            "flags": "+ilme+ildct", "x264-params": "interlaced=1:tff=1", "crf": "4"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for _ in range(50):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(woven, format="bgr24")))
        out.mux(stream.encode())
    assert probe_movie(movie).adjustments == ("deinterlaced (one field)",)
    [frame] = [f.image for f in sample_frames(movie, 1.0, 1.0, on_damage=lambda _damage: None)]
    assert frame.shape == (240, 320, 3)
    assert frame[:, 100:120].mean() > 200  # the bar where the top field saw it, on every row
    assert frame[:, 140:160].mean() < 40  # and no comb teeth where the other field saw it


def test_keyframe_interval_of_a_movie_with_cuts(cast_a: Path) -> None:
    # x264 puts a keyframe at each cut; cast_a has 3-8 s shots.
    assert 3.0 <= keyframe_interval(cast_a) <= 8.0


def test_keyframe_interval_of_a_movie_with_regular_keyframes(tmp_path: Path) -> None:
    movie = write_movie(tmp_path / "gop.mp4", [k / 24 for k in range(96)],
                        time_base=Fraction(1, 24), keyint=12)
    assert keyframe_interval(movie) == pytest.approx(0.5)
    single = write_movie(tmp_path / "single.mp4", [k / 24 for k in range(48)],
                         time_base=Fraction(1, 24))
    assert keyframe_interval(single) == math.inf


def test_seek_only_when_keyframes_are_dense_enough() -> None:
    assert seek_gap("auto", 1.0, 5.0) == math.inf  # 1 s apart, keyframes every 5 s: decode on
    assert seek_gap("auto", 0.1, 2.0) == pytest.approx(3.0)  # 10 s apart, keyframes every 2 s
    assert seek_gap("auto", 1.0, math.inf) == math.inf  # a single keyframe
    assert seek_gap("sequential", 0.01, 0.1) == math.inf
    assert seek_gap("seek", 1.0, None) == 0.0


# truncated and unusable files -----------------------------------------------------------------
def test_truncated_movie_yields_what_it_can_then_says_how_to_go_on(tmp_path: Path) -> None:
    whole = write_movie(tmp_path / "whole.mkv", [k / 24 for k in range(24 * 20)],
                        size=(320, 240))
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 5])
    frames = []
    with pytest.raises(MovieError, match=r"decoded up to 00:\d\d of 00:20 \(the file ends early: "
                                         r"truncated\); the rest was not processed"):
        for frame in sample_frames(cut, 1.0):
            frames.append(frame.time)
    assert 3 <= len(frames) <= 12
    damage = []
    assert [f.time for f in sample_frames(cut, 1.0, on_damage=damage.append)] == frames
    assert [(d.length, d.reason) for d in damage] == [(20.0, "the file ends early: truncated")]
    assert damage[0].decoded_until == pytest.approx(frames[-1], abs=1.0)
    assert [f.time for f in sample_frames(cut, 1.0, duration=3)] == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p, "no such file"),
    (lambda p: (p.mkdir(), p)[1], "is a directory, not a movie file"),
    (lambda p: (p.write_bytes(b""), p)[1], r"file is empty \(0 bytes\)"),
    (lambda p: (p.write_bytes(b"not a movie at all\n" * 100), p)[1], "not a readable video file"),
])
def test_unusable_files_fail_with_one_clear_line(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path / "movie.mp4")
    with pytest.raises(MovieError, match=message) as caught:
        list(sample_frames(path, 1.0))
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "sound.mka"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate = 16000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(MovieError, match="the file has no video stream"):
        probe_movie(path)


def test_sampling_rate_must_be_positive(cast_a: Path) -> None:
    with pytest.raises(MovieError, match="sampling rate must be positive, got 0"):
        list(sample_frames(cast_a, 0))
