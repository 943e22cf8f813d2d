from dagster import AssetExecutionContext, DataVersion, MaterializeResult, asset

from ...people.decisions import Decisions
from ..partitions import movies_partitions
from ..resources import MovieStoreResource


@asset(partitions_def=movies_partitions, group_name="moviefaces", kinds={"json"},
       tags={"stage": "people"})
def people_decisions(context: AssetExecutionContext, store: MovieStoreResource
                     ) -> MaterializeResult:
    """What the user decided about the movie's people (`<movie>/decisions.json`: names, merges,
    splits, faces assigned by hand, detections that are no faces), written by `moviefaces
    people`, never by a stage. Its data version is the decisions' digest: a new decision reruns
    the people and the report, nothing else."""
    decisions = Decisions(store.decisions_folder(context.partition_key))
    made = decisions.load()
    return MaterializeResult(
        data_version=DataVersion(decisions.digest()),
        metadata={"decisions": len(made),
                  "kinds": ", ".join(sorted({d.get("op", "?") for d in made})) or "none"},
    )
