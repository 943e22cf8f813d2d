from pathlib import Path

from moviefaces_dag.movies import partition_key_for, slug


def test_slug_is_safe() -> None:
    assert slug("<script>alert(1)</script>") == "script-alert-1-script"
    assert slug("Amélie (2001) [1080p]") == "amelie-2001-1080p"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("日本語") == "movie"


def test_keys_are_unique_and_stable(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "film.mp4", tmp_path / "b" / "film.mp4"
    registered: dict[str, str] = {}
    key1 = partition_key_for(first, registered)
    registered[key1] = str(first.resolve())
    key2 = partition_key_for(second, registered)
    assert key1 == "film" and key2.startswith("film-") and key2 != key1
    assert partition_key_for(first, registered) == key1
