"""Rollback: give the champion alias back to the version that held it before, as the history says."""

from __future__ import annotations

from typing import Any

from mlflow import MlflowClient

from sentiment.config import RegistryConfig
from sentiment.registry.champion import ROLLED_BACK_TAG, ModelRegistry, RegistryError, utc_now


def champion_holders(history: list[dict[str, Any]]) -> list[str]:
    """Replay the history as a stack: a promotion pushes its version, a rollback pops the top."""
    holders: list[str] = []
    for event in history:
        if event["event"] == "promoted":
            holders.append(str(event["version"]))
        elif event["event"] == "rollback" and holders:
            holders.pop()
    return holders


def rollback(client: MlflowClient, config: RegistryConfig, reason: str = "manual rollback") -> dict[str, Any]:
    """Give the champion alias back to the version that held it before the current champion."""
    registry = ModelRegistry(client, config)
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
    target = client.get_model_version(config.model_name, holders[-2])
    now = utc_now()
    client.set_registered_model_alias(config.model_name, config.champion_alias, str(target.version))
    client.set_model_version_tag(config.model_name, str(champion.version), ROLLED_BACK_TAG, now)
    client.set_model_version_tag(config.model_name, str(champion.version), "champion_until", now)
    client.set_model_version_tag(config.model_name, str(target.version), "champion_since", now)
    event = {
        "event": "rollback",
        "version": str(target.version),
        "previous_version": str(champion.version),
        "at": now,
        "reason": reason,
    }
    registry.record(event)
    return {
        "model_name": config.model_name,
        "champion_before": str(champion.version),
        "champion_after": str(target.version),
        "at": now,
        "reason": reason,
    }
