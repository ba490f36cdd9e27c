"""Prefect flows: orchestration only. Every task calls a function of `sentiment.stages`, the same one
that `dvc.yaml` runs through `sentiment stage NAME`, so both orchestrators run the same code."""
