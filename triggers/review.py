"""The ``review_due`` trigger: an assessment's periodic review date has arrived (pure).

Its dedupe key is the assessment and the review date, so it fires once per due date:
repeated jobs, restarts and several daemons cannot repeat it, and after a resolution
(a new assessed date, hence a new review date) it fires again at the next due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .events import TriggerEvent
from .rules import RuleContext


@dataclass(frozen=True, slots=True)
class DueAssessment:
    """What the rule knows of an assessment whose review may be due."""

    id: str
    vendor_id: str
    vendor_name: str
    system: str
    next_review: date
    assessed: date | None = None
    review_every: str | None = None


def dedupe_source(assessment_id: str) -> str:
    """What stands for the source in a review_due dedupe key."""
    return f"assessment:{assessment_id}"


def review_due(item: DueAssessment, today: date) -> TriggerEvent | None:
    """The review_due event when ``item`` is due on or before ``today``, else None."""
    if item.next_review > today:
        return None
    what = item.system or item.id
    overdue = (today - item.next_review).days
    return TriggerEvent(
        type="review_due", severity="medium",
        title=f"{item.vendor_name}: periodic review due for {what} ({item.next_review})",
        entities=(item.id,),
        evidence={"assessment": item.id, "next_review": item.next_review.isoformat(),
                  "assessed": item.assessed.isoformat() if item.assessed else None,
                  "review_every": item.review_every, "days_overdue": overdue},
        basis=item.next_review.isoformat(),
    )


def context(item: DueAssessment) -> RuleContext:
    """The rule context of a review_due event: its vendor, no source and no kind."""
    return RuleContext(vendor_id=item.vendor_id, vendor_name=item.vendor_name,
                       source_id="", kind="")
