"""A pytest plugin that serves the Atom feeds with the feedgen candidate (``bench/atom_feedgen.py``) instead of
``tracker.web.syndication.atom_feed``, to see which of the unchanged web tests it would break:

    PYTHONPATH=.:bench ATOM_SWAP=zulu .venv/bin/python -m pytest -p atom_swap -q tests/test_web_syndication.py

``ATOM_SWAP=plain`` (the default) is feedgen as it is; ``ATOM_SWAP=zulu`` keeps the feeds' form of the times.
"""

from __future__ import annotations

import functools
import os

import pytest


@pytest.fixture(autouse=True)
def _feedgen_writes_the_atom(monkeypatch):
    # lazy: only once pytest has set up sys.path and the test's own imports
    from atom_feedgen import feedgen_feed
    from tracker.web import syndication

    zulu = os.environ.get("ATOM_SWAP", "plain") == "zulu"
    monkeypatch.setattr(syndication, "atom_feed", functools.partial(feedgen_feed, zulu=zulu))
