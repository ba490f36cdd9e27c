"""Metrics, plots and the report files of a trained model."""
