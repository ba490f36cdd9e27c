"""The MLflow model registry: champion/challenger decisions, history, rollback, registration."""
