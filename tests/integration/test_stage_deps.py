"""dvc.yaml's code deps cover every module a stage's process really imports, and its outputs are the
paths the Workspace gives: no stage can go stale because a file was left out of a hand-kept list."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_command
from sentiment.config import BASELINE
from sentiment.config.workspace import VALIDATIONS, Workspace
from support.stage_deps import code_deps, run_stage_importing, uncovered
from support.training import tiny_training_overrides

pytestmark = pytest.mark.slow

VARIANT = "rnn"
STUDENT = "student"  # the rnn again, taught by itself and the baseline: the distill@ stage's imports


@pytest.fixture(scope="module")
def stage_imports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    """A tiny project whose every stage ran once, in dvc.yaml's order, with the modules each imported."""
    import shutil

    import yaml

    from conftest import PROJECT_ROOT

    root = tmp_path_factory.mktemp("stage-deps")
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(
        PROJECT_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    overrides = tiny_training_overrides()
    for section in ("source", "vocabulary", "sequences", "pretraining", "training", "diagnostics"):
        params[section].update(overrides[section])
    params["source"]["synthetic_reviews"] = 240
    params["models"] = {VARIANT: {**params["models"][VARIANT], **overrides["models"][VARIANT]}}
    params["students"] = {STUDENT: {"variant": VARIANT, "teacher": VARIANT, "targets": "soft"}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    run_command(root, "git", "init", "--quiet")
    run_command(root, "dvc", "init", "--quiet")
    run_command(root, "sentiment", "fetch", "--synthetic")
    order = [
        "clean",
        "validate_text",
        "vocabulary",
        "sequences",
        "validate_sequences",
        "pretrain",
        f"train@{VARIANT}",
    ]
    stages = [*order, BASELINE, f"distill@{STUDENT}", "register", "claims"]
    imports = {stage: run_stage_importing(root, stage) for stage in stages}
    return root, imports


def test_every_module_a_stage_imports_is_one_of_its_dvc_deps(
    stage_imports: tuple[Path, dict[str, set[str]]],
) -> None:
    root, imports = stage_imports
    deps = code_deps(root)
    assert set(deps) == set(imports), "every dvc.yaml stage was run"
    for stage, modules in imports.items():
        assert any(name.startswith("sentiment.stages.") for name in modules), stage
        assert uncovered(modules, deps[stage], root) == set(), f"{stage}: modules missing from dvc.yaml deps"


def test_removing_a_dep_folder_is_caught(stage_imports: tuple[Path, dict[str, set[str]]]) -> None:
    root, imports = stage_imports
    deps = code_deps(root)
    for stage, folder in ((f"train@{VARIANT}", "src/sentiment/modeling"), ("clean", "src/sentiment/data")):
        assert folder in deps[stage]
        fewer = [dep for dep in deps[stage] if dep != folder]
        missing = uncovered(imports[stage], fewer, root)
        assert missing and all(
            name.startswith(folder.removeprefix("src/").replace("/", ".")) for name in missing
        )


def test_dvc_outputs_are_the_workspace_paths(stage_imports: tuple[Path, dict[str, set[str]]]) -> None:
    """The one owner of paths: dvc.yaml's outs and metrics are where the stages (Workspace) write."""
    from dvc.repo import Repo

    root, _ = stage_imports
    workspace = Workspace.load(root)
    expected = {
        "clean": {workspace.clean_table},
        "validate_text": {workspace.validation_report("text"), workspace.validation_docs("text")},
        "vocabulary": {workspace.vocabulary_file},
        "sequences": {workspace.sequences_file},
        "validate_sequences": {
            workspace.validation_report("sequences"),
            workspace.validation_docs("sequences"),
            workspace.validation_gate,
        },
        "pretrain": {
            workspace.word_vectors_file,
            workspace.pretraining_report,
            workspace.timings_file("pretrain"),
        },
        "register": {workspace.registry_report},
        "claims": {
            workspace.claims_report,
            workspace.claims_metrics,
            workspace.claims_summary,
            workspace.clipping_dir,
        },
    }
    for name in (VARIANT, BASELINE, STUDENT):
        files = {
            workspace.model_file(name),
            workspace.evaluation_file(name),
            workspace.timings_file(name),
            workspace.metrics_file(name, "validation"),
            workspace.metrics_file(name, "test"),
            workspace.run_record(name),
        }
        plots = workspace.plots_dir(name)
        embeddings = workspace.embeddings_dir(name)
        stage = {BASELINE: BASELINE, STUDENT: f"distill@{STUDENT}"}.get(name, f"train@{name}")
        expected[stage] = (
            files
            | {path for path in [embeddings] if path is not None}
            | {plots / file for file in ("roc.csv", "confusion.csv", "images")}
            | ({plots / "learning_curves.csv", plots / "gradient_norms.csv"} if name != BASELINE else set())
        )
    from dvc.stage import PipelineStage

    with Repo(str(root)) as repo:
        outs = {
            stage.name: {Path(out.fs_path) for out in stage.outs}
            for stage in repo.index.stages
            if isinstance(stage, PipelineStage)
        }
    assert set(VALIDATIONS) == {"text", "sequences"}
    for stage, paths in expected.items():
        assert outs[stage] == paths, stage
