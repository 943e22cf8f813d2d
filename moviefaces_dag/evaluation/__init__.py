"""Scoring the pipeline's results against ground truth (detection and identity)."""
