"""The sample generator: a deterministic landing folder with the cases that break naive pipelines."""
