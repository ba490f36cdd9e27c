"""The Prefect preprocessing flow, under Prefect's test harness: it runs the stages as tasks and writes
exactly what the stage functions (and so `dvc repro`) write."""

from __future__ import annotations

import pytest

from conftest import WorkspaceFactory
from sentiment.core.errors import DataError

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_the_flow_fetches_and_preprocesses_like_the_stages(make_workspace: WorkspaceFactory) -> None:
    from flows.preprocessing import preprocessing
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    by_flow = make_workspace(fetch=False)
    by_stages = make_workspace(preprocess=True)

    state = preprocessing(root=str(by_flow.root), fetch=True, synthetic=True, record=False, return_state=True)

    assert state.is_completed()
    outputs = state.result()
    paths = by_flow.params.paths
    assert outputs == {
        "fetch": str(by_flow.raw_dir),
        **dict.fromkeys(("clean", "validate_text", "vocabulary", "sequences", "validate_sequences"), "ran"),
    }
    for relative in (paths.raw_table, paths.clean_table, paths.vocabulary, paths.sequences):
        assert (by_flow.root / relative).read_bytes() == (by_stages.root / relative).read_bytes(), relative

    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    assert sorted((run.name, run.state_name) for run in task_runs) == [
        ("clean", "Completed"),
        ("fetch", "Completed"),
        ("sequences", "Completed"),
        ("validate_sequences", "Completed"),
        ("validate_text", "Completed"),
        ("vocabulary", "Completed"),
    ]


def test_the_flow_fails_with_the_stage_error_when_inputs_are_missing(
    make_workspace: WorkspaceFactory,
) -> None:
    from flows.preprocessing import preprocessing

    workspace = make_workspace(fetch=False)
    state = preprocessing(root=str(workspace.root), return_state=True)
    assert state.is_failed()
    with pytest.raises(DataError, match="raw reviews not found: run `sentiment fetch` first"):
        state.result()
    assert not (workspace.root / "data").exists()
