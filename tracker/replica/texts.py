"""The bill texts the replica serves, from ``data/texts/`` (see its ``manifest.json``).

``data/texts/{gc}/{id}.txt`` holds a text written for the replica (one paragraph a line, UTF-8); the
manifest says which document it belongs to, whether the API's ``DocumentText`` carries it
(``"where": "api"``) or only the HTML text page does (``"page"``: ``DocumentText`` is empty), and, for
each new draft, what it did to the bill it replaced, section by section (:func:`draft_changes`), so
tests can check a comparison against what the replica changed. Pure data: no model, no server.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

__all__ = ["TEXT_IDS", "draft_changes", "manifest", "text_of", "texts_for", "where_of"]


@lru_cache(maxsize=1)
def manifest() -> dict:
    """``data/texts/manifest.json``: ``{"texts": {"192/H135": {"file", "where"}}, "drafts": [...]}``."""
    raw = resources.files("tracker.replica").joinpath("data/texts/manifest.json").read_text(encoding="utf-8")
    return json.loads(raw)


def _key(session: int | str, number: str) -> str:
    return f"{int(session)}/{number.upper()}"


@lru_cache(maxsize=None)
def _read(path: str) -> str:
    return resources.files("tracker.replica").joinpath(f"data/texts/{path}").read_text(encoding="utf-8")


def text_of(session: int | str, number: str) -> str | None:
    """The text written for ``session``/``number`` (None when the replica has none), wherever it is served."""
    entry = manifest()["texts"].get(_key(session, number))
    return _read(entry["file"]) if entry else None


def where_of(session: int | str, number: str) -> str | None:
    """``"api"`` (``DocumentText`` and the page), ``"page"`` (the HTML page only) or None (no text on file)."""
    entry = manifest()["texts"].get(_key(session, number))
    return entry["where"] if entry else None


def texts_for(session: int | str, number: str) -> dict:
    """The :class:`~tracker.replica.model.ReplicaBill` fields for the document's text on file:
    ``{"text": ...}`` ("api"), ``{"text": "", "page_text": ...}`` ("page"), or ``{}``."""
    text, where = text_of(session, number), where_of(session, number)
    if text is None:
        return {}
    return {"text": text} if where == "api" else {"text": "", "page_text": text}


def draft_changes(old: str, new: str) -> list[dict]:
    """What the new draft ``new`` ("192/H5091") did to ``old`` ("192/H135"), section by section:
    ``[{"old": "3", "new": None, "change": "removed", "topic": "schools"}, ...]`` (numbers as written in
    each text; None for the enacting clause, or for a section one side lacks). KeyError if none is on file."""
    for draft in manifest()["drafts"]:
        if draft["old"] == old and draft["new"] == new:
            return [dict(s) for s in draft["sections"]]
    raise KeyError(f"no new draft {new} of {old} on file")


TEXT_IDS = tuple(manifest()["texts"])  # "192/H135", ...: every document with a text on file
