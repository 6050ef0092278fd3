"""The redline page, ``/bills/192/H5091/compare/192/H135``: what changed from the second text (older) to the
first, section by section, with ``<ins>`` and ``<del>`` that also carry visible markers (not colour alone) and no
JavaScript; ``H5091@2`` names a version. ``/api/bills/192/H5091/compare/192/H135`` gives the same as JSON."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request

from tracker.texts.compare import compare
from tracker.texts.refs import BadTextRef, NoText, load_text, split_ref
from tracker.texts.view import redline_json
from tracker.web.common import bill_id, cacheable, render, time_limit

router = APIRouter()


def _texts(request: Request, session: str, number: str, other_session: str, other_number: str):
    refs = []
    for s_, n_ in ((session, number), (other_session, other_number)):
        try:
            bare, version = split_ref(n_)
        except BadTextRef as exc:
            raise HTTPException(400, str(exc)) from None
        refs.append((bill_id(request, s_, bare), version))
    try:
        with request.app.state.sessions() as s, time_limit(s):
            return [load_text(s, bid.canonical, version) for bid, version in refs]
    except NoText as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/bills/{session}/{number}/compare/{other_session}/{other_number}", include_in_schema=False)
def compare_page(request: Request, session: str, number: str, other_session: str, other_number: str):
    new, old = _texts(request, session, number, other_session, other_number)
    redline = compare(old.text, new.text)
    return render(request, "compare.html", cache=True, new=new, old=old, redline=redline,
                  data=redline_json(old, new, redline))


@router.get("/api/bills/{session}/{number}/compare/{other_session}/{other_number}", tags=["archive"],
            summary="The redline from another text (the second id; `@N` names a version) to this bill's")
def compare_api(request: Request, session: str, number: str, other_session: str, other_number: str):
    new, old = _texts(request, session, number, other_session, other_number)
    body = json.dumps(redline_json(old, new, compare(old.text, new.text)), ensure_ascii=False).encode("utf-8")
    return cacheable(request, body, "application/json")
