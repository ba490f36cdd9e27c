"""The pipeline stages: one function per stage; this package alone knows the project's file paths.

`dvc.yaml` runs the stages through the CLI (`sentiment stage NAME`) and the Prefect flows call them
directly, so both orchestrators run exactly the same code. Each stage reads its inputs from the paths
in params.yaml, relative to the workspace root, and writes its outputs atomically. One module per
part of the pipeline; heavy libraries (Great Expectations, TensorFlow, MLflow) are imported only
inside the stages that need them.
"""

from sentiment.stages.data_validation import (
    VALIDATION_DIR,
    VALIDATION_GATE,
    validate_sequences,
    validate_text,
    validation_gate_path,
    validation_report_path,
)
from sentiment.stages.model_registry import (
    REGISTRY_REPORT,
    VALIDATIONS,
    champion_uri,
    mlflow_uri,
    predict,
    register,
    rollback,
    score,
)
from sentiment.stages.model_training import (
    BASELINE,
    EMBEDDINGS_DIR,
    PLOTS_DIR,
    baseline,
    model_outputs,
    train,
    training_outputs,
)
from sentiment.stages.preprocessing import (
    clean,
    read_clean,
    read_sequences,
    read_vocabulary,
    sequences,
    vocabulary,
)
from sentiment.stages.raw import fetch_raw, read_raw, record_raw_version
from sentiment.stages.workspace import (
    ARCHIVE_ENVIRONMENT_VARIABLE,
    DOWNLOAD_DIR,
    RAW_DVC_FILE,
    SPLIT_NAMES,
    Workspace,
    shown_path,
)

__all__ = [
    "ARCHIVE_ENVIRONMENT_VARIABLE",
    "BASELINE",
    "DOWNLOAD_DIR",
    "EMBEDDINGS_DIR",
    "PLOTS_DIR",
    "RAW_DVC_FILE",
    "REGISTRY_REPORT",
    "SPLIT_NAMES",
    "VALIDATIONS",
    "VALIDATION_DIR",
    "VALIDATION_GATE",
    "Workspace",
    "baseline",
    "champion_uri",
    "clean",
    "fetch_raw",
    "mlflow_uri",
    "model_outputs",
    "predict",
    "read_clean",
    "read_raw",
    "read_sequences",
    "read_vocabulary",
    "record_raw_version",
    "register",
    "rollback",
    "score",
    "sequences",
    "shown_path",
    "train",
    "training_outputs",
    "validate_sequences",
    "validate_text",
    "validation_gate_path",
    "validation_report_path",
    "vocabulary",
]
