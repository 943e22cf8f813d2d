"""The Dagster layer: assets, checks, resources, jobs, sensors, automation, partitions, the
executor, the instance settings and the run launcher. Thin over the domain packages beside it."""
