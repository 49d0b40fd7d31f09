"""Rules that turn typed changes into re-assessment trigger events (pure)."""

from .events import SEVERITIES, TRIGGER_TYPES, TriggerEvent, severity_rank
from .rules import RuleContext, evaluate

__all__ = ["SEVERITIES", "TRIGGER_TYPES", "RuleContext", "TriggerEvent", "evaluate",
           "severity_rank"]
