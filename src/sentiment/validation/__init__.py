"""Data validation with Great Expectations: raw and cleaned reviews, leakage, vocabulary, sequences.

- `leakage`: reviews with the same cleaned text in train and test (pure pandas; the preprocessing
  stages use it to apply the `drop` policy, so importing it never loads Great Expectations);
- `text_checks`, `sequence_checks`: the tables (with derived columns computed by vectorised pandas and
  NumPy) and the expectations on them, every threshold from `ValidationConfig`;
- `runner`: runs the checks through a Great Expectations context (data source, suites, validation
  definitions, checkpoints with a Data Docs action) and turns the results into a summary.
"""

import logging
import os

# Before any module of this package imports Great Expectations: no usage statistics (these machines,
# and many users' CI, have no network), and no flood of INFO lines that GX logs on import.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)
