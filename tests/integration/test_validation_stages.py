"""The validation stages as users run them: their JSON result and Data Docs, the failure summary and
exit code, the leakage policies end to end, and real IMDB reviews."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import WorkspaceFactory, merged, project_params, write_params
from sentiment import cli
from sentiment.config.workspace import Workspace
from sentiment.core.errors import ValidationFailed
from sentiment.data import ingest
from sentiment.stages import data_validation, readers
from sentiment.stages import preprocessing as preprocessing_stages


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def edit_raw(workspace: Workspace, review_id: str, **values: object) -> None:
    path = workspace.path(workspace.params.paths.raw_table)
    table = pd.read_parquet(path)
    for column, value in values.items():
        table.loc[table["review_id"] == review_id, column] = value
    table.to_parquet(path, index=False)


def docs_index(workspace: Workspace, name: str) -> Path:
    return workspace.validation_report(name).with_name(f"{name}_docs") / "index.html"


def test_both_validations_pass_and_write_results_docs_and_the_gate(
    preprocessed_workspace: Workspace,
) -> None:
    workspace = preprocessed_workspace
    text_report = data_validation.validate_text(workspace)
    sequences_report = data_validation.validate_sequences(workspace)

    text, sequences = read_json(text_report), read_json(sequences_report)
    raw = readers.read_raw(workspace)
    train_count, test_count = int((raw["split"] == "train").sum()), int((raw["split"] == "test").sum())
    assert text["success"] and sequences["success"]
    assert (text["failed"], text["warnings"], sequences["failed"]) == (0, 0, 0)
    assert text["metrics"]["train_reviews"] == train_count and text["metrics"]["train_positive_share"] == 0.5
    assert sequences["metrics"]["test_sequences"] == test_count
    arrays = readers.read_sequences(workspace)
    test_tokens = arrays["x_test"][arrays["x_test"] > 0]  # padding is not a token
    expected_oov = round(float((test_tokens == 1).mean()), 5)  # 1: the <OOV> index
    assert sequences["metrics"]["test_oov_rate"] == pytest.approx(expected_oov, abs=1e-5)
    assert text["data_docs"] == "reports/validation/text_docs/index.html"
    for name, suites in (
        ("text", ("raw_reviews", "clean_reviews")),
        ("sequences", ("vocabulary", "sequences")),
    ):
        html = docs_index(workspace, name).read_text(encoding="utf-8")
        assert all(suite in html for suite in suites)

    gate = read_json(workspace.validation_gate)
    paths = workspace.params.paths
    assert gate["sha256"] == {
        "vocabulary": hashlib.sha256(workspace.path(paths.vocabulary).read_bytes()).hexdigest(),
        "sequences": hashlib.sha256(workspace.path(paths.sequences).read_bytes()).hexdigest(),
    }


def test_a_failure_exits_2_with_a_summary_naming_each_expectation_and_rows(
    make_workspace: WorkspaceFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = make_workspace()
    edit_raw(workspace, "train/pos/101", label=2)
    edit_raw(workspace, "train/neg/102", text=None)
    preprocessing_stages.clean(workspace)
    stale_gate = workspace.validation_gate  # from an earlier run that passed
    stale_gate.parent.mkdir(parents=True)
    stale_gate.write_text('{"passed": true}', encoding="utf-8")

    exit_code = cli.main(["--root", str(workspace.root), "stage", "validate_text"])

    assert exit_code == 2
    message = capsys.readouterr().err
    assert "data validation (text) failed: 4 of" in message
    assert "raw_reviews.label: labels are 0 or 1" in message and "train/pos/101 (label=2)" in message
    assert "raw_reviews.text: no review text is null" in message and "train/neg/102" in message
    assert "clean_reviews.text: no text is empty after cleaning" in message
    assert "Data Docs: reports/validation/text_docs/index.html" in message
    result = read_json(workspace.validation_report("text"))
    assert result["success"] is False and result["failed"] == 4
    # The docs show the failures to people; nothing downstream was produced.
    assert "labels are 0 or 1" in "".join(
        path.read_text(encoding="utf-8") for path in docs_index(workspace, "text").parent.rglob("*.html")
    )
    assert not workspace.path(workspace.params.paths.vocabulary).exists()
    assert not stale_gate.exists()


def test_a_failed_sequence_validation_removes_the_gate(preprocessed_workspace: Workspace) -> None:
    workspace = preprocessed_workspace
    data_validation.validate_sequences(workspace)
    assert workspace.validation_gate.exists()

    arrays = readers.read_sequences(workspace)
    arrays["x_test"][3, -1] = workspace.params.vocabulary.num_words
    with workspace.path(workspace.params.paths.sequences).open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match=rf"every index is below num_words.*{arrays['ids_test'][3]}"):
        data_validation.validate_sequences(workspace)

    assert not workspace.validation_gate.exists()
    assert read_json(workspace.validation_report("sequences"))["success"] is False


TRAIN_COPY, TEST_ORIGINAL = "train/pos/101", "test/pos/1"


def workspace_with_a_leak(make_workspace: WorkspaceFactory, policy: str) -> Workspace:
    """Synthetic reviews where the train review TRAIN_COPY has the text of the test review TEST_ORIGINAL."""
    workspace = make_workspace({"validation": {"leakage": {"policy": policy}}})
    raw = readers.read_raw(workspace)
    edit_raw(workspace, TRAIN_COPY, text=raw.loc[raw["review_id"] == TEST_ORIGINAL, "text"].item())
    preprocessing_stages.clean(workspace)
    return workspace


def test_the_drop_policy_reports_the_pair_and_leaves_the_train_copy_out(
    make_workspace: WorkspaceFactory,
) -> None:
    workspace = workspace_with_a_leak(make_workspace, "drop")
    text = read_json(data_validation.validate_text(workspace))
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    sequences = read_json(data_validation.validate_sequences(workspace))

    assert text["success"] and text["warnings"] == 1
    assert text["leakage"] == {
        "policy": "drop",
        "pairs": [{"train_id": TRAIN_COPY, "test_id": TEST_ORIGINAL}],
        "dropped_train_ids": [TRAIN_COPY],
        "unlabeled_duplicates_of_test": {"reviews": 0, "pairs": []},
    }
    assert text["metrics"]["duplicate_pairs_across_splits"] == 1
    arrays = readers.read_sequences(workspace)
    training_ids = set(arrays["ids_train"]) | set(arrays["ids_validation"])
    raw = readers.read_raw(workspace)
    train_count = int((raw["split"] == "train").sum())
    assert TRAIN_COPY not in training_ids and len(training_ids) == train_count - 1
    assert readers.read_vocabulary(workspace).document_count == len(arrays["ids_train"])  # validation: not
    assert sequences["success"] and sequences["warnings"] == 0


def test_the_fail_policy_stops_at_the_pair(make_workspace: WorkspaceFactory) -> None:
    workspace = workspace_with_a_leak(make_workspace, "fail")
    with pytest.raises(ValidationFailed, match="no identical cleaned text in train and test") as failure:
        data_validation.validate_text(workspace)
    assert TRAIN_COPY in str(failure.value) and TEST_ORIGINAL in str(failure.value)


def test_the_warn_policy_keeps_the_train_copy_and_warns_twice(make_workspace: WorkspaceFactory) -> None:
    workspace = workspace_with_a_leak(make_workspace, "warn")
    assert read_json(data_validation.validate_text(workspace))["warnings"] == 1
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    sequences = read_json(data_validation.validate_sequences(workspace))

    arrays = readers.read_sequences(workspace)
    assert TRAIN_COPY in set(arrays["ids_train"]) | set(arrays["ids_validation"])
    assert sequences["success"] and sequences["warning_messages"][0].startswith("sequences.leaked")


SAMPLE_PER_SPLIT = 4000  # a vocabulary fitted on fewer reviews sees too few words for the OOV bound


@pytest.mark.shared_data
def test_a_sample_of_real_imdb_reviews_passes(shared_archive: Path, tmp_path: Path) -> None:
    reviews = ingest.read_reviews(shared_archive)
    sample = reviews.groupby(["split", "label"], group_keys=False).sample(
        n=SAMPLE_PER_SPLIT // 2, random_state=0
    )
    write_params(tmp_path, merged(project_params(), {}))
    workspace = Workspace.load(tmp_path)
    raw_table = workspace.path(workspace.params.paths.raw_table)
    raw_table.parent.mkdir(parents=True)
    ingest.sort_reviews(sample).to_parquet(raw_table, index=False)

    preprocessing_stages.clean(workspace)
    text = read_json(data_validation.validate_text(workspace))
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    sequences = read_json(data_validation.validate_sequences(workspace))

    assert text["success"] and sequences["success"], text["failures"] + sequences["failures"]
    assert sequences["metrics"]["test_oov_rate"] > 0  # real reviews do hold words the vocabulary lacks
