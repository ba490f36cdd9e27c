"""MLflow tracking: runs, parameters, lineage tags, logged models."""
