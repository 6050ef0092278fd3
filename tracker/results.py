"""What a crawl or a poll reports: the counts and errors of the contract's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from db.models import Event


@dataclass
class RunResult:
    checked: int = 0
    changed: int = 0
    events: list[Event] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def collect(self, outcome: Any, on_outcome: Callable[[Any], None] | None = None) -> None:
        """Count one source's outcome (``changed``, ``events``, ``error``) and pass it on."""
        self.checked += 1
        if outcome.error:
            self.errors.append(outcome.error)
        if outcome.changed:
            self.changed += 1
        self.events.extend(outcome.events)
        if on_outcome:
            on_outcome(outcome)

    def to_json(self) -> dict:
        return {"checked": self.checked, "changed": self.changed, "events": len(self.events), "errors": self.errors}
