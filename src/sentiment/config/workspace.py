"""The one owner of the project's file paths: a checkout (root and params) and every path derived from it.

Data paths come from params.yaml `paths:` (which dvc.yaml reuses through `${paths.*}`); the names of the
files inside those directories, and the project's own bookkeeping files (data.dvc, locks, downloads, the
local MLflow store), are written here and nowhere else. A test checks that dvc.yaml's outputs are the
paths this class gives, stage by stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sentiment.config.loader import DEFAULT_PARAMS_FILE, Params, load_params
from sentiment.config.sections import BASELINE

ARCHIVE_ENVIRONMENT_VARIABLE = "IMDB_ARCHIVE"
RAW_DVC_FILE = "data.dvc"
VALIDATIONS = ("text", "sequences")  # the validation stages' report names
# Bookkeeping under .cache/ (ignored by git and DVC), so locks and downloads never show up as changes.
_CACHE_DIR = ".cache"
_LOCAL_TRACKING_STORE = "mlflow.db"
_LOCAL_ARTIFACTS = "mlruns"
_VALIDATION_GATE = "passed.json"
_REGISTRY_REPORT = "registry.json"
_SEED_SPREAD_RECORD = "seed_spread.json"
_PRETRAINING_REPORT = "pretraining.json"
_CLAIMS_REPORT = "course_claims"  # .md (the table) and .json (a DVC metric)
_CLIPPING_DIR = "clipping"
# The behavioural suite's templates and lexicons, kept with the code (package data): every checkout and
# installed copy runs the same suite; dvc.yaml's register stage depends on the file.
BEHAVIOUR_SUITE_FILE = Path(__file__).resolve().with_name("behaviour_suite.yaml")
_DRIFT_DIR = "drift"  # BATCH.html (the report) and BATCH.json, per scored batch


@dataclass(frozen=True)
class Workspace:
    """A project checkout: its root directory, its parameters, and every path the project uses."""

    root: Path
    params: Params

    @classmethod
    def load(cls, root: Path | str = ".", params_file: str | Path = DEFAULT_PARAMS_FILE) -> Workspace:
        root = Path(root).resolve()
        return cls(root=root, params=load_params(root / params_file))

    def path(self, relative: str | Path) -> Path:
        return self.root / relative

    def shown(self, path: Path) -> str:
        """A path as the user knows it: relative to the root when inside it."""
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    # Data, as params.yaml `paths:` names them.
    @property
    def raw_dir(self) -> Path:
        return self.path(self.params.paths.raw_dir)

    @property
    def raw_table(self) -> Path:
        return self.path(self.params.paths.raw_table)

    @property
    def clean_table(self) -> Path:
        return self.path(self.params.paths.clean_table)

    @property
    def vocabulary_file(self) -> Path:
        return self.path(self.params.paths.vocabulary)

    @property
    def sequences_file(self) -> Path:
        return self.path(self.params.paths.sequences)

    @property
    def word_vectors_file(self) -> Path:
        """The pretrain stage's word vectors, one row per vocabulary index."""
        return self.path(self.params.paths.word_vectors)

    @property
    def pretraining_report(self) -> Path:
        return self.reports_dir / _PRETRAINING_REPORT

    @property
    def models_dir(self) -> Path:
        return self.path(self.params.paths.models_dir)

    @property
    def reports_dir(self) -> Path:
        return self.path(self.params.paths.reports_dir)

    @property
    def raw_dvc_file(self) -> Path:
        return self.path(RAW_DVC_FILE)

    # Data validation: reports/validation/NAME.json (a DVC metric), NAME_docs/, and the gate file.
    def validation_report(self, name: str) -> Path:
        return self.reports_dir / "validation" / f"{name}.json"

    def validation_docs(self, name: str) -> Path:
        return self.reports_dir / "validation" / f"{name}_docs"

    @property
    def validation_gate(self) -> Path:
        """Written by validate_sequences only when all data passed; the training stages depend on it."""
        return self.reports_dir / "validation" / _VALIDATION_GATE

    # Training, per model: the model file, its evaluation report, headline metrics (a file per split),
    # timings, MLflow run record, plots and (recurrent only) embeddings.
    def model_file(self, name: str) -> Path:
        return self.models_dir / (f"{name}.joblib" if name == BASELINE else f"{name}.keras")

    def evaluation_file(self, name: str) -> Path:
        """The model's whole evaluation report (every figure but the timings); not a DVC metric."""
        return self.reports_dir / "evaluation" / f"{name}.json"

    def metrics_file(self, name: str, split: str) -> Path:
        """The headline figures of one split (validation or test): what `dvc metrics show` lists."""
        return self.reports_dir / "metrics" / split / f"{name}.json"

    def timings_file(self, name: str) -> Path:
        """Training and prediction timings: differ between machines, so git ignores them."""
        return self.reports_dir / "timings" / f"{name}.json"

    def run_record(self, name: str) -> Path:
        return self.reports_dir / "runs" / f"{name}.json"

    def plots_dir(self, name: str) -> Path:
        return self.reports_dir / "plots" / name

    def embeddings_dir(self, name: str) -> Path | None:
        return None if name == BASELINE else self.reports_dir / "embeddings" / name

    @property
    def registry_report(self) -> Path:
        return self.reports_dir / _REGISTRY_REPORT

    @property
    def behaviour_suite(self) -> Path:
        """The behavioural suite (templates and lexicons) the register stage and `sentiment behave` run."""
        return BEHAVIOUR_SUITE_FILE

    # The seed spread of the chosen model (benchmarks/ablation.py --spread), committed when measured;
    # the register stage's model card quotes it when it is of the same model and test reviews. Not a
    # DVC dependency: it is optional, and it changes only what the next new version's card says.
    @property
    def seed_spread_record(self) -> Path:
        return self.reports_dir / _SEED_SPREAD_RECORD

    # The course's claims (stage claims): the report, its metric, and the clipping experiment's files.
    @property
    def claims_report(self) -> Path:
        return self.reports_dir / f"{_CLAIMS_REPORT}.md"

    @property
    def claims_metrics(self) -> Path:
        """Every claim's verdict and numbers, as JSON (not a DVC metric: too wide for its table)."""
        return self.reports_dir / f"{_CLAIMS_REPORT}.json"

    @property
    def claims_summary(self) -> Path:
        """The DVC metric: how many claims hold, do not hold, were not measured."""
        return self.reports_dir / "metrics" / "claims.json"

    @property
    def clipping_dir(self) -> Path:
        """clipping.csv (loss and gradient norm per step) and clipping.png."""
        return self.reports_dir / _CLIPPING_DIR

    # Scheduled batch scoring (flows/scoring.py): each batch's drift report, HTML and JSON.
    @property
    def drift_dir(self) -> Path:
        return self.reports_dir / _DRIFT_DIR

    def drift_report(self, batch: str) -> tuple[Path, Path]:
        """The drift report of the batch named `batch`: (the HTML page, the JSON record)."""
        return self.drift_dir / f"{batch}.html", self.drift_dir / f"{batch}.json"

    # Bookkeeping.
    @property
    def download_dir(self) -> Path:
        return self.path(_CACHE_DIR) / "downloads"

    @property
    def local_tracking_store(self) -> Path:
        """The SQLite MLflow store used when MLFLOW_TRACKING_URI is not set."""
        return self.path(_LOCAL_TRACKING_STORE)

    @property
    def local_artifacts(self) -> Path:
        return self.path(_LOCAL_ARTIFACTS)

    @property
    def params_file(self) -> Path:
        return self.path(DEFAULT_PARAMS_FILE)

    @staticmethod
    def lock_file(root: Path, name: str) -> Path:
        """A lock file of the checkout at `root` (usable before its params are loaded)."""
        return Path(root) / _CACHE_DIR / "locks" / f"{name}.lock"
