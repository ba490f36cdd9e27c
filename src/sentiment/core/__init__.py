"""Foundations every layer uses: the project's errors and atomic file writes."""
