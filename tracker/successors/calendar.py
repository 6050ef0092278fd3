"""The session calendar now lives in :mod:`spiders.sessions` (the alerts need it too and may not import
``tracker``); the successor search keeps importing it from here."""

from spiders.sessions import FILING_HOUR, convenes, ends, filing_deadline, first_year, has_ended

__all__ = ["FILING_HOUR", "convenes", "ends", "filing_deadline", "first_year", "has_ended"]
