"""What a check does beyond storing: configured rules, notifications, operational alerts.

``Hooks`` is built from the config once per process and handed to the ``Checker``:
``apply_rules`` runs the configured ``rules:`` over the built-in events (pure),
``on_trigger`` enqueues notifications in the trigger's transaction, ``on_failure``
raises and clears operational alerts for failing or vanished sources.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from config.schema import Config
from monitor.check.analyse import Outcome
from storage.models import Assessment
from triggers import TriggerEvent


class Hooks:
    def __init__(self, config: Config) -> None:
        self.reload(config)

    def reload(self, config: Config) -> None:
        """Take a new config: its channels and owners apply from the next check."""
        self.config = config

    def on_trigger(self, session: Session, trigger_id: int, event: TriggerEvent,
                   out: Outcome, flagged: list[Assessment], now: datetime) -> None:
        from .routing import enqueue_for_trigger, trigger_from_event

        trigger = trigger_from_event(trigger_id, event, out.watch.vendor.id, out.source_id, now)
        enqueue_for_trigger(session, self.config, trigger, flagged, now)

    def on_failure(self, session: Session, out: Outcome, row: dict[str, Any],
                   now: datetime) -> None:
        from .routing import source_alerts

        source_alerts(session, self.config, out, row, now)
