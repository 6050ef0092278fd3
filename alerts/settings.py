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
class MailSettings:
    messages_per_second: float = 20.0
    max_attempts: int = 8
    stale_claim: timedelta = timedelta(minutes=10)  # a message claimed this long ago by a dead worker is sent again
    unsubscribe_mailbox: str | None = None
    reply_to: str | None = None
    templates: str | None = None  # a folder whose templates override alerts/templates


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

    @property
    def envelope_sender(self) -> str:
        return parse_mailbox(self.sender, "digests.supporters.from").addr_spec
