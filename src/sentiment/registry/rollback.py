"""Rollback: give the champion alias back to the version that held it before, as the history says.

A rollback is one `Change` (champion_until and rolled_back_at on the version it ends, champion_since
on the one it restores, the alias, the history event), committed as a promotion is: recorded first,
completed by the next registry command if the process is killed half-way (see `champion`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlflow import MlflowClient

from sentiment.config import RegistryConfig
from sentiment.registry.champion import ROLLED_BACK_TAG, ModelRegistry
from sentiment.registry.change import Change, RegistryError, utc_now


def champion_holders(history: list[dict[str, Any]]) -> list[str]:
    """Replay the history as a stack: a promotion pushes its version, a rollback pops the top."""
    holders: list[str] = []
    for event in history:
        if event["event"] == "promoted":
            holders.append(str(event["version"]))
        elif event["event"] == "rollback" and holders:
            holders.pop()
    return holders


def _result(config: RegistryConfig, event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "model_name": config.model_name,
        "champion_before": str(event["previous_version"]),
        "champion_after": str(event["version"]),
        "at": event["at"],
        "reason": event["reason"],
    }


def _completed(config: RegistryConfig, recovered: Change | None) -> dict[str, Any] | None:
    """The answer of a rollback that has just completed a change a killed command left half made.

    An interrupted rollback, now complete, is the answer (no second rollback). An interrupted
    promotion, now complete, stops the command: rolling back now would end that promotion, whose
    alias move the user may not have seen. A challenger change leaves the champion as it was.
    """
    if recovered is None or recovered.kind == "challenger":
        return None
    if recovered.kind == "rollback" and recovered.event is not None:
        return {**_result(config, recovered.event), "recovered": recovered.record()}
    raise RegistryError(
        f"'{config.model_name}': a run started at {recovered.started_at} was killed during the "
        f"{recovered.summary}; it is now complete and nothing was rolled back. Run `sentiment rollback` "
        "again to end that promotion"
    )


def rollback(client: MlflowClient, config: RegistryConfig, reason: str = "manual rollback") -> dict[str, Any]:
    """Give the champion alias back to the version that held it before the current champion.

    A rollback or promotion that a killed command left half made is completed first: an interrupted
    rollback is the answer (no second one), an interrupted promotion stops here (see `_completed`).
    """
    registry = ModelRegistry(client, config)
    completed = _completed(config, registry.recover())
    if completed is not None:
        return completed
    champion = registry.champion()
    if champion is None:
        raise RegistryError(
            f"registered model '{config.model_name}' has no '{config.champion_alias}' to roll back"
        )
    holders = champion_holders(registry.history())
    if not holders or holders[-1] != str(champion.version):
        raise RegistryError(
            f"'{config.champion_alias}' points to version {champion.version} but the promotion history of "
            f"'{config.model_name}' ends with {holders[-1] if holders else 'nothing'}: the alias was moved "
            "outside `sentiment`; move it back, or set it by hand with the MLflow client"
        )
    if len(holders) < 2:
        raise RegistryError(
            f"version {champion.version} is the first champion of '{config.model_name}': no previous holder"
        )
    target = str(client.get_model_version(config.model_name, holders[-2]).version)
    ended, now = str(champion.version), utc_now()
    event = {"event": "rollback", "version": target, "previous_version": ended, "at": now, "reason": reason}
    registry.commit(
        Change(
            kind="rollback",
            summary=f"rollback of version {ended} to version {target}",
            version_tags=(
                (ended, ROLLED_BACK_TAG, now),
                (ended, "champion_until", now),
                (target, "champion_since", now),
            ),
            aliases={config.champion_alias: target},
            event=event,
            started_at=now,
        )
    )
    return _result(config, event)
