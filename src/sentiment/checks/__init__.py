"""Data validation: Great Expectations suites on the reviews and sequences, train/test leakage, reports."""
