"""Dagster's complaint that the instance could not store a log message (printed by its event-log
handler straight to stderr, several lines) is held back while `moviefaces run` executes: a full
instance disk is told once, by the command's own line (tests/pipeline/test_faults.py, 200 KB
left), and a run that succeeds all the same says in one line how many messages were lost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from moviefaces_dag.cli.common import (
    EVENT_LOG_COMPLAINT,
    event_log_complaints_held,
    unstored_logs_warning,
)

COMPLAINT = (f"{EVENT_LOG_COMPLAINT}: (sqlite3.OperationalError) database or disk is full\n"
             "[SQL: INSERT INTO event_logs ...]\n(Background on this error at: https://sqlalche.me)\n")


def test_complaints_are_held_and_everything_else_passes(capsys: pytest.CaptureFixture) -> None:
    with event_log_complaints_held() as held:
        sys.stderr.write(COMPLAINT)
        sys.stderr.write("waiting for a face_models slot\n")
        print("progress", file=sys.stderr)
    assert held == [COMPLAINT]
    assert capsys.readouterr().err == "waiting for a face_models slot\nprogress\n"
    sys.stderr.write("after\n")  # stderr is itself again
    assert capsys.readouterr().err == "after\n"


def test_complaints_held_make_one_warning_line() -> None:
    line = unstored_logs_warning([COMPLAINT, COMPLAINT], Path("/data/dagster_home"))
    assert line == ("moviefaces: warning: 2 log message(s) of the run could not be stored in the "
                    "Dagster instance in /data/dagster_home (database or disk is full)")


def test_a_step_failing_on_the_instance_storage_is_told_as_such(tmp_path: Path) -> None:
    # a step that raised SQLAlchemy's error (the instance's storage) under Dagster's wrappers,
    # as a run's STEP_FAILURE event holds it: the class name comes first in its message
    from types import SimpleNamespace

    from dagster._utils.error import SerializableErrorInfo

    from moviefaces_dag.cli.run import failure_message

    raised = SerializableErrorInfo(
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) disk I/O error\n"
        "[SQL: INSERT INTO event_logs ...]\n", [], "OperationalError")
    wrapped = SerializableErrorInfo("dagster step failed", [], "DagsterExecutionStepExecutionError",
                                    cause=raised)
    event = SimpleNamespace(event_type_value="STEP_FAILURE",
                            step_failure_data=SimpleNamespace(error=wrapped))
    home = tmp_path / "dagster_home"
    home.mkdir()
    line = failure_message(SimpleNamespace(all_events=[event]), home)
    assert line.startswith(f"the Dagster instance in {home} could not record the run (")
    assert "disk I/O error" in line and line.endswith("the published results stay readable")
