"""Running stages under DVC from Prefect: DVC-aware stage running and locks, task runners, the retry
policy, a run's inputs (raw data source, params changes) and the reports a run shows in the UI."""
