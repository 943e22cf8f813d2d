"""When Dagster reruns a movie's assets on its own."""

from __future__ import annotations

from dagster import AutomationCondition


def rebuild_library() -> AutomationCondition:
    """Rebuild the library once after movie runs (or a library decision): when any movie's
    report or the decisions changed since it last ran, and no movie is still running, so a
    batch of movies makes one build, not one per movie."""
    changed = (AutomationCondition.code_version_changed()
               | AutomationCondition.any_deps_updated()).since_last_handled()
    return ((changed | AutomationCondition.missing())
            & ~AutomationCondition.any_deps_in_progress()
            & ~AutomationCondition.in_progress()).with_label("rebuild_library")


def rerun_when_changed() -> AutomationCondition:
    """Rerun a partition when its code version changed or an upstream partition's data version
    changed since it last ran; never for a no-op upstream rerun (which keeps its data version),
    and never while it or an upstream partition is running or missing. A partition that was never
    materialized is left alone: new movies are started by the folder sensor or by the user, and
    optional assets such as the dataset export only once someone asked for them.

    Unlike `AutomationCondition.eager()`, which fires on any upstream materialization, this
    compares data versions, so touching or re-probing an unchanged movie reruns nothing.
    """
    changed = (
        AutomationCondition.code_version_changed()
        | AutomationCondition.any_deps_match(AutomationCondition.data_version_changed())
    ).since_last_handled()
    return (
        changed
        & ~AutomationCondition.missing()
        & ~AutomationCondition.any_deps_missing()
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    ).with_label("rerun_when_changed")
