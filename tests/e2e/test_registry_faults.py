"""Fault injection for the registry's writes: a promotion and a rollback killed (SIGKILL, SIGTERM) at
every MLflow registry write, then the next run.

The registry starts with version 1 as champion and a candidate trained that the gate promotes
(version 2 once registered). The command (`sentiment stage register`, `sentiment rollback`) runs in
a child process whose MlflowClient write methods are wrapped: each logs its call and, at the chosen
call, the process sends itself the signal just before (or after) making it. The children are forked
from a helper process that has imported MLflow and the project once, so a cut costs the command's
own work, not the imports. After each cut:

- as the cut left it: `@champion` is version 1 or 2, and its holder has its decision tags; a state
  whose champion, history and tags disagree has the change's intent (`pending_change`) recorded;
- the next run completes it: the register stage writes the report an uninterrupted run writes (plus
  `recovered` when it completed a half-made change), and the champion, the history (one event per
  change) and the tags agree, with no intent left; `sentiment rollback` then works (for a rollback:
  the rollback run again completes the one that was killed).

Cut points that need the served model logged (before the version exists) start from the registry
as it was; the later ones start from the state that a run killed right after creating the version
left (`states.created`), which is what every later cut point of that run starts from, too.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sentiment import cli
from sentiment.config import TEST_TYPES
from sentiment.config.workspace import BEHAVIOUR_SUITE_FILE, Workspace
from sentiment.evaluation.behaviour_suite import parse_suite
from sentiment.registry import champion as registry
from sentiment.registry.rollback import champion_holders
from sentiment.stages import model_registry
from support.serving import (
    CRIPPLED_TRAINING,
    TINY_VARIANT,
    easy_workspace,
    losing_baseline,
    registry_snapshot,
    train,
)

pytestmark = pytest.mark.slow

OLD, NEW = "1", "2"  # the champion before the promotion, the candidate's version
WRITE_METHODS = (
    "create_registered_model",
    "create_model_version",
    "update_model_version",
    "set_registered_model_alias",
    "delete_registered_model_alias",
    "set_model_version_tag",
    "set_registered_model_tag",
    "delete_registered_model_tag",
    "log_artifact",  # the model card, into the candidate's training run
)
# Every registry write of the promotion of version 2 over version 1, in order (method:arguments).
# The candidate's behavioural results (the suite's tests in its order, then by type; the test support's
# thresholds are 0, so it passes and has no failed tests), tagged between the paired figures and the record.
BEHAVIOUR_TAGS = (
    "set_model_version_tag:2:behaviour.passed",
    *(
        f"set_model_version_tag:2:behaviour.{test.name}"
        for test in parse_suite(yaml.safe_load(BEHAVIOUR_SUITE_FILE.read_text(encoding="utf-8"))).tests
    ),
    *(f"set_model_version_tag:2:behaviour.type.{kind}" for kind in TEST_TYPES),
)
PROMOTION_WRITES = (
    "create_model_version",
    "set_registered_model_tag:pending_change",  # the intent: from here on the next run completes it
    "log_artifact",  # model_card.md
    "set_model_version_tag:2:decision",
    "set_model_version_tag:2:decision_reason",
    "set_model_version_tag:2:decided_at",
    "set_model_version_tag:2:champion_test_accuracy",
    "set_model_version_tag:2:candidate_right_only",
    "set_model_version_tag:2:champion_right_only",
    "set_model_version_tag:2:p_value",
    "set_model_version_tag:2:margin",
    "set_model_version_tag:2:alpha",
    *BEHAVIOUR_TAGS,
    "set_model_version_tag:2:decision_record",
    "set_model_version_tag:2:model_card",
    "set_model_version_tag:2:champion_since",
    "set_model_version_tag:1:champion_until",
    "update_model_version:2",
    "set_registered_model_alias:champion",
    "set_registered_model_tag:champion_history",
    "delete_registered_model_tag:pending_change",
)
ROLLBACK_WRITES = (
    "set_registered_model_tag:pending_change",
    "set_model_version_tag:2:rolled_back_at",
    "set_model_version_tag:2:champion_until",
    "set_model_version_tag:1:champion_since",
    "set_registered_model_alias:champion",
    "set_registered_model_tag:champion_history",
    "delete_registered_model_tag:pending_change",
)
INTENT_WRITTEN = 2  # the write index (1-based) of the intent, in both lists...
INTENT_DELETED = {"promotion": len(PROMOTION_WRITES), "rollback": len(ROLLBACK_WRITES)}  # ...and its end
ROLLBACK_INTENT = 1

# The helper process: imports once, then forks one child per order read from stdin; the child wraps
# MlflowClient's write methods and runs the `sentiment` command; the helper answers how it ended.
FORK_SERVER = r"""
import json, os, sys, time, traceback

import mlflow
import mlflow.store.model_registry.sqlalchemy_store
import mlflow.store.tracking.sqlalchemy_store
from mlflow.tracking.client import MlflowClient

import keras  # the register stage scores the candidate and the champion networks: loaded once, here

import sentiment.modeling.builder
import sentiment.orchestration.dvc_stages
import sentiment.registry.decision
import sentiment.registry.registration
import sentiment.registry.rollback
import sentiment.serving.baseline_pyfunc
import sentiment.serving.pyfunc
import sentiment.serving.scoring
import sentiment.stages.model_registry
import sentiment.tracking.lineage
from sentiment import cli

WRITES = json.loads(sys.argv[1])


def label(method, args):
    shown = {"set_model_version_tag": 3, "update_model_version": 2, "create_model_version": 1}
    shown["log_artifact"] = 1  # the run id and the local file (a temporary path) are left out
    return ":".join([method, *map(str, args[1 : shown.get(method, 2)])])


def cut_at(cut, when, signum, log):
    count = 0

    def wrapped(name, original):
        def write(self, *args, **kwargs):
            nonlocal count
            count += 1
            with open(log, "a", encoding="utf-8") as file:
                file.write(label(name, args) + "\n")
            if count == cut and when == "before":
                die(signum)
            result = original(self, *args, **kwargs)
            if count == cut and when == "after":
                die(signum)
            return result

        return write

    for name in WRITES:
        setattr(MlflowClient, name, wrapped(name, getattr(MlflowClient, name)))


def die(signum):
    os.kill(os.getpid(), signum)
    time.sleep(60)
    os._exit(99)  # the signal did not end the process


for line in sys.stdin:
    order = json.loads(line)
    pid = os.fork()
    if pid == 0:
        output = os.open(order["output"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(output, 1)
        os.dup2(output, 2)
        cut_at(order["cut"], order["when"], order["signal"], order["log"])
        try:
            code = cli.main(order["argv"])
        except BaseException:
            traceback.print_exc()
            code = 98
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    ended = {
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    }
    print(json.dumps(ended), flush=True)
"""


@dataclass(frozen=True)
class Ended:
    """How a child command ended, the registry writes it began, and what it printed."""

    signal: int | None
    code: int | None
    writes: list[str]
    output: str


class ForkServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0
        environment = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
        environment.pop("SENTIMENT_PIPELINE_LOCK_HOLDER", None)
        self.errors = (directory / "server.err").open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER, json.dumps(WRITE_METHODS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=environment,
            text=True,
        )

    def run(self, argv: list[str], cut: int = 0, when: str = "before", signum: int = 0) -> Ended:
        """Run `sentiment ARGV` in a fresh child, sending it `signum` at its `cut`-th registry write."""
        self.count += 1
        log, output = self.directory / f"{self.count}.writes", self.directory / f"{self.count}.out"
        order = {
            "argv": argv,
            "cut": cut,
            "when": when,
            "signal": signum,
            "log": str(log),
            "output": str(output),
        }
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the fork server ended: {(self.directory / 'server.err').read_text(encoding='utf-8')}"
        ended = json.loads(answer)
        writes = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        text = output.read_text(encoding="utf-8") if output.exists() else ""
        return Ended(ended["signal"], ended["code"], writes, text)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.errors.close()


@dataclass(frozen=True)
class States:
    before: Path  # version 1 champion, the candidate trained, not registered
    created: Path  # a register run killed right after creating version 2
    promoted: Path  # the promotion completed by an uninterrupted run
    report: dict[str, Any]  # the report of that uninterrupted run
    promotion_writes: list[str]  # its registry writes (from `created`)
    rollback_writes: list[str]  # the registry writes of an uninterrupted rollback (from `promoted`)


@pytest.fixture(scope="module", autouse=True)
def no_tracking_server() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    forks = ForkServer(tmp_path_factory.mktemp("forks"))
    yield forks
    forks.close()


def register_argv(root: Path) -> list[str]:
    return ["--root", str(root), "stage", "register"]


def rollback_argv(root: Path) -> list[str]:
    return ["--root", str(root), "rollback", "--reason", "fault test"]


def copy_state(source: Path, target: Path) -> Workspace:
    shutil.copytree(source, target, symlinks=True)
    return Workspace.load(target)


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory, server: ForkServer) -> States:
    base = tmp_path_factory.mktemp("registry_states")
    workspace = easy_workspace(base / "before", {"tiny": TINY_VARIANT})
    losing_baseline(workspace)  # the candidates are the network's training runs
    train(workspace, "tiny", **CRIPPLED_TRAINING)
    model_registry.register(workspace)  # version 1: the champion
    train(workspace, "tiny")  # the candidate, far better on the test reviews: promoted

    created = copy_state(workspace.root, base / "created").root
    killed = server.run(register_argv(created), cut=1, when="after", signum=signal.SIGKILL)
    assert killed.signal == signal.SIGKILL, killed.output
    assert killed.writes == ["create_model_version"], killed

    promoted = copy_state(created, base / "promoted")
    completed = server.run(register_argv(promoted.root))
    assert completed.code == 0, completed.output
    rolled_back = copy_state(promoted.root, base / "rolled_back")
    rollback = server.run(rollback_argv(rolled_back.root))
    assert rollback.code == 0, rollback.output
    return States(
        before=workspace.root,
        created=created,
        promoted=promoted.root,
        report=read_report(promoted),
        promotion_writes=["create_model_version", *completed.writes],
        rollback_writes=rollback.writes,
    )


def read_report(workspace: Workspace) -> dict[str, Any]:
    return json.loads(workspace.registry_report.read_text(encoding="utf-8"))


def history(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return list(json.loads(snapshot["tags"].get(registry.HISTORY_TAG, "[]")))


def assert_as_left(snapshot: dict[str, Any], champions: set[str]) -> None:
    """Right after a cut: the champion is the old or the new one and carries its decision; if the
    champion, history and tags disagree, the intent is there for the next run to complete."""
    champion = snapshot["aliases"]["champion"]
    assert champion in champions
    assert {"decision", "decision_reason", "decided_at"} <= set(snapshot["versions"][champion][0])
    if registry.PENDING_TAG not in snapshot["tags"]:
        assert champion_holders(history(snapshot))[-1] == champion


def assert_consistent(snapshot: dict[str, Any], champion: str, promotions: list[str]) -> None:
    """Champion alias, history and tags agree; one history event per change; no intent left."""
    tags, aliases, versions = snapshot["tags"], snapshot["aliases"], snapshot["versions"]
    assert registry.PENDING_TAG not in tags
    assert aliases["champion"] == champion and aliases.get("challenger") != champion
    events = history(snapshot)
    assert champion_holders(events)[-1] == champion
    assert [event["version"] for event in events if event["event"] == "promoted"] == promotions
    ids = [event["id"] for event in events if "id" in event]
    assert len(ids) == len(set(ids))
    champion_tags = versions[champion][0]
    assert champion_tags["decision"] == "promoted" and "decision_reason" in champion_tags
    assert "champion_since" in champion_tags
    for version in promotions:
        assert "decided_at" in versions[version][0] and versions[version][1]  # tags and description


def model_card(workspace: Workspace, version: str) -> str:
    """The card of a version, fetched as a user fetches it (the version's tag names its run artifact)."""
    import mlflow
    from mlflow import MlflowClient

    uri = model_registry.mlflow_uri(workspace)
    tags = MlflowClient(uri, registry_uri=uri).get_model_version(
        workspace.params.registry.model_name, version
    )
    local = mlflow.artifacts.download_artifacts(tags.tags["model_card"], tracking_uri=uri)
    return Path(local).read_text(encoding="utf-8")


def without_recovery(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key != "recovered"}


def test_a_promotion_and_a_rollback_write_in_the_documented_order(states: States) -> None:
    assert states.promotion_writes == list(PROMOTION_WRITES)
    assert states.rollback_writes == list(ROLLBACK_WRITES)
    assert states.report["decision"] == "promoted" and states.report["champion_after"] == NEW
    assert_consistent(registry_snapshot(Workspace.load(states.promoted)), NEW, [OLD, NEW])


PROMOTION_CUTS = [
    *[
        (index, "before", signal.SIGKILL)
        for index in range(1, len(PROMOTION_WRITES) + 1)
        # of the behavioural tags, the first and the last: the ones between are written alike
        if PROMOTION_WRITES[index - 1] not in BEHAVIOUR_TAGS[1:-1]
    ],
    (1, "after", signal.SIGKILL),
    (len(PROMOTION_WRITES), "after", signal.SIGKILL),
    (PROMOTION_WRITES.index("set_registered_model_alias:champion") + 1, "after", signal.SIGTERM),
    (len(PROMOTION_WRITES), "after", signal.SIGTERM),
]


def cut_id(cut: tuple[int, str, int], writes: tuple[str, ...]) -> str:
    index, when, signum = cut
    return f"{signal.Signals(signum).name}-{when}-{index}-{writes[index - 1]}"


def intent_left(index: int, when: str, change: str) -> bool:
    """Whether a cut at this write leaves the change's intent recorded and its end not yet written."""
    first = INTENT_WRITTEN if change == "promotion" else ROLLBACK_INTENT
    written = index > first or (index == first and when == "after")
    deleted = index == INTENT_DELETED[change] and when == "after"
    return written and not deleted


@pytest.mark.parametrize("cut", PROMOTION_CUTS, ids=[cut_id(cut, PROMOTION_WRITES) for cut in PROMOTION_CUTS])
def test_a_promotion_killed_at_any_write_is_completed_by_the_next_run(
    cut: tuple[int, str, int],
    states: States,
    server: ForkServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index, when, signum = cut
    if (index, when) == (1, "after"):
        workspace = copy_state(states.created, tmp_path / "project")  # the fixture's own cut
    elif index == 1:
        workspace = copy_state(states.before, tmp_path / "project")
        killed = server.run(register_argv(workspace.root), cut=1, when=when, signum=signum)
        assert killed.signal == signum and killed.writes == ["create_model_version"], killed
    else:  # from the state the earlier writes of the same run left: the version created
        workspace = copy_state(states.created, tmp_path / "project")
        killed = server.run(register_argv(workspace.root), cut=index - 1, when=when, signum=signum)
        assert killed.signal == signum, killed.output
        assert killed.writes == list(PROMOTION_WRITES[1:index]), killed
    left = registry_snapshot(workspace)
    assert_as_left(left, {OLD, NEW})
    assert (registry.PENDING_TAG in left["tags"]) == intent_left(index, when, "promotion")
    assert read_report(workspace)["champion_after"] == OLD  # the report is still the previous run's

    model_registry.register(workspace)  # the next run, as `dvc repro` starts it
    report = read_report(workspace)
    assert without_recovery(report) == states.report  # what the uninterrupted run reported
    assert ("recovered" in report) == intent_left(index, when, "promotion")
    assert_consistent(registry_snapshot(workspace), NEW, [OLD, NEW])
    assert f"Promoted: version {NEW} is `@champion` (replacing version {OLD})." in model_card(workspace, NEW)

    assert cli.main(rollback_argv(workspace.root)) == 0
    assert f"champion is version {OLD} again" in capsys.readouterr().out
    rolled_back = registry_snapshot(workspace)
    assert_consistent(rolled_back, OLD, [OLD, NEW])
    assert [event["event"] for event in history(rolled_back)] == ["promoted", "promoted", "rollback"]


ROLLBACK_CUTS = [
    *[(index, "before", signal.SIGKILL) for index in range(1, len(ROLLBACK_WRITES) + 1)],
    (len(ROLLBACK_WRITES), "after", signal.SIGKILL),
    (ROLLBACK_WRITES.index("set_registered_model_alias:champion") + 1, "after", signal.SIGTERM),
]


@pytest.mark.parametrize("cut", ROLLBACK_CUTS, ids=[cut_id(cut, ROLLBACK_WRITES) for cut in ROLLBACK_CUTS])
def test_a_rollback_killed_at_any_write_is_completed_by_the_next_rollback(
    cut: tuple[int, str, int],
    states: States,
    server: ForkServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index, when, signum = cut
    workspace = copy_state(states.promoted, tmp_path / "project")
    killed = server.run(rollback_argv(workspace.root), cut=index, when=when, signum=signum)
    assert killed.signal == signum, killed.output
    assert killed.writes == list(ROLLBACK_WRITES[:index]), killed
    left = registry_snapshot(workspace)
    assert_as_left(left, {OLD, NEW})
    assert (registry.PENDING_TAG in left["tags"]) == intent_left(index, when, "rollback")

    # The user runs the rollback again: it completes the killed one (or, had that one ended all its
    # writes, finds version 1 the first champion); never a second rollback.
    code = cli.main(rollback_argv(workspace.root))
    captured = capsys.readouterr()
    if index == len(ROLLBACK_WRITES) and when == "after":
        assert code == cli.EXIT_USER_ERROR and "first champion" in captured.err
    else:
        assert code == 0 and f"champion is version {OLD} again" in captured.out
    rolled_back = registry_snapshot(workspace)
    assert_consistent(rolled_back, OLD, [OLD, NEW])
    assert [event["event"] for event in history(rolled_back)] == ["promoted", "promoted", "rollback"]
    assert "rolled_back_at" in rolled_back["versions"][NEW][0]
    assert "champion_until" in rolled_back["versions"][NEW][0]


def test_a_rollback_after_a_killed_promotion_completes_it_and_rolls_back_nothing(
    states: States, server: ForkServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = copy_state(states.created, tmp_path / "project")
    alias_move = PROMOTION_WRITES.index("set_registered_model_alias:champion")  # 0-based: from `created`
    killed = server.run(register_argv(workspace.root), cut=alias_move, signum=signal.SIGKILL)
    assert killed.signal == signal.SIGKILL and registry_snapshot(workspace)["aliases"]["champion"] == OLD

    # The alias had not moved yet, but the promotion was decided: the rollback completes it and stops.
    assert cli.main(rollback_argv(workspace.root)) == cli.EXIT_USER_ERROR
    error = capsys.readouterr().err
    assert f"promotion of version {NEW}" in error and "nothing was rolled back" in error
    assert_consistent(registry_snapshot(workspace), NEW, [OLD, NEW])
    assert cli.main(rollback_argv(workspace.root)) == 0
    assert f"champion is version {OLD} again" in capsys.readouterr().out
    model_registry.register(workspace)
    assert read_report(workspace)["decision"] == "rejected"
    assert_consistent(registry_snapshot(workspace), OLD, [OLD, NEW])


def test_an_intent_that_sentiment_did_not_write_stops_the_registry_commands(
    states: States, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow import MlflowClient

    workspace = copy_state(states.promoted, tmp_path / "project")
    uri = model_registry.mlflow_uri(workspace)
    name = workspace.params.registry.model_name
    MlflowClient(uri, registry_uri=uri).set_registered_model_tag(name, registry.PENDING_TAG, "{half")
    before = registry_snapshot(workspace)
    for argv in (register_argv(workspace.root), rollback_argv(workspace.root)):
        assert cli.main(argv) == cli.EXIT_USER_ERROR
        assert f"'{registry.PENDING_TAG}'" in capsys.readouterr().err
    assert registry_snapshot(workspace) == before
