"""Typed params (frozen config objects, strict loader) and the Workspace that owns every path.

Every section of params.yaml maps onto a frozen dataclass; callers import them from `sentiment.config`.
The sections live in modules of their own (`sections`, `validation_sections`, `claims_section`,
`behaviour_section`, `drift_section`, `students_section`) to keep files small; `schema` holds the
strict loader's rules (types, ranges and formats, required keys).
"""

from sentiment.config.behaviour_section import TEST_TYPES, BehaviourConfig, BehaviourThresholds
from sentiment.config.claims_section import ClaimsConfig, ClaimVariantsConfig, ClippingConfig
from sentiment.config.drift_section import DriftConfig
from sentiment.config.loader import (
    DEFAULT_PARAMS_FILE,
    CleaningConfig,
    Params,
    PathsConfig,
    SequencesConfig,
    SourceConfig,
    SplitsConfig,
    VocabularyConfig,
    build,
    convert,
    load_params,
    load_yaml,
    params_from_mapping,
    variant_config,
)
from sentiment.config.sections import (
    BASELINE,
    NO_RECURRENCE,
    BaselineConfig,
    DiagnosticsConfig,
    EmbeddingStorage,
    PretrainingConfig,
    RegistryConfig,
    SyntheticConfig,
    SyntheticTrainingConfig,
    TrainingConfig,
    VariantConfig,
    model_family,
)
from sentiment.config.students_section import NB_BASELINE, CountTeacher, StudentConfig, Targets
from sentiment.config.validation_sections import (
    LeakageConfig,
    RawChecksConfig,
    SequenceChecksConfig,
    ValidationConfig,
)
from sentiment.core.errors import ConfigError

__all__ = [
    "BASELINE",
    "DEFAULT_PARAMS_FILE",
    "NB_BASELINE",
    "NO_RECURRENCE",
    "TEST_TYPES",
    "BaselineConfig",
    "BehaviourConfig",
    "BehaviourThresholds",
    "ClaimVariantsConfig",
    "ClaimsConfig",
    "CleaningConfig",
    "ClippingConfig",
    "ConfigError",
    "CountTeacher",
    "DiagnosticsConfig",
    "DriftConfig",
    "EmbeddingStorage",
    "LeakageConfig",
    "Params",
    "PathsConfig",
    "PretrainingConfig",
    "RawChecksConfig",
    "RegistryConfig",
    "SequenceChecksConfig",
    "SequencesConfig",
    "SourceConfig",
    "SplitsConfig",
    "StudentConfig",
    "SyntheticConfig",
    "SyntheticTrainingConfig",
    "Targets",
    "TrainingConfig",
    "ValidationConfig",
    "VariantConfig",
    "VocabularyConfig",
    "build",
    "convert",
    "load_params",
    "load_yaml",
    "model_family",
    "params_from_mapping",
    "variant_config",
]
