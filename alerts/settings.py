"""What the alerts need to know, as plain parsed values.

``alerts`` never reads ``feeds.yaml`` or the environment: the application (``tracker.application``)
builds one ``AlertSettings`` from its configuration and secrets and hands it down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from alerts.addresses import parse_mailbox


@dataclass(frozen=True)
class Campaign:
    """What alerts and pages call the campaign, and where its button leads."""

    name: str = "Campaign"
    action_url: str | None = None


@dataclass(frozen=True)
class AskSpec:
    """One ask of ``asks:``: what supporters send, to whom (``kind``), about which bills (canonical ids; empty:
    every followed bill the campaign supports or opposes). ``subject``, ``letter`` and ``thanks`` are templates
    (``alerts.ask_templates``); ``thanks`` is the variant for a legislator who already co-sponsors the bill."""

    name: str
    kind: str  # letter | chairs | testimony
    bills: tuple[str, ...] = ()
    subject: str = "{{ bill.label }}"
    letter: str = ""
    thanks: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class MailSettings:
    messages_per_second: float = 20.0
    max_attempts: int = 8
    stale_claim: timedelta = timedelta(minutes=10)  # a message claimed this long ago by a dead worker is sent again
    unsubscribe_mailbox: str | None = None
    reply_to: str | None = None
    templates: str | None = None  # a folder whose templates override alerts/templates
    asks_per_recipient_per_day: int = 200  # letters a day to one legislator's address, all asks together
    connections: int = 1  # SMTP connections a delivery run sends over at once


@dataclass(frozen=True)
class AlertSettings:
    secret_key: bytes  # signs the links in emails
    public_url: str  # base of the links in emails, checked by the application
    campaign: Campaign = Campaign()
    tz: ZoneInfo = ZoneInfo("America/New_York")
    sender: str = "Campaign <alerts@example.org>"  # From: of supporter mail
    supporters_at: time = time(7, 0)
    weekly_day: str = "monday"
    staff_to: tuple[str, ...] = ()
    staff_at: time = time(7, 0)
    staff_send_empty: bool = False
    mail: MailSettings = MailSettings()
    session: int = 194  # the General Court of short bill ids ("H.135")
    campaign_bills: frozenset[str] = field(default_factory=frozenset)  # canonical ids of the campaign's bills
    asks: tuple[AskSpec, ...] = ()

    def ask(self, name: str) -> AskSpec | None:
        return next((a for a in self.asks if a.name == name), None)

    @property
    def envelope_sender(self) -> str:
        return parse_mailbox(self.sender, "digests.supporters.from").addr_spec
