"""Face models: detection, alignment, quality and embedding, independent of Dagster."""
