"""One dynamic partition per registered movie."""

from dagster import DynamicPartitionsDefinition

MOVIES_PARTITION = "movies"
movies_partitions = DynamicPartitionsDefinition(name=MOVIES_PARTITION)
