"""Renders the replica's pages in malegislature.gov's shapes.

HTML: an ASP.NET MVC + Bootstrap 3 page (``body.subpage.billPage``, title bar
``div.followable > h1`` with ``span.subTitle``, long title ``h2`` in
``#contentContainer``, ``p#pinslip``, ``dl.billInfo`` with ``Sponsor:`` and
``Status:``, tab buttons, the active tab panel inside ``div.tab-content``), the
Bill History tab (a Date | Branch | Action table, paginated with
``ul.pagination.pagination-sm`` whose last ``li a`` has an ``onclick`` holding
the last page number), the Petitioners tab (``/Cosponsor``), and the
"Oh My Cod!" error page. API: PascalCase JSON, or a minimal XML rendering.

Full pages carry a hidden ``__RequestVerificationToken`` whose value changes on
every request; the renderers put :data:`TOKEN` where it goes and the server
substitutes a fresh value (and computes the ETag from the page without it).
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from xml.sax.saxutils import escape as xml_escape

from tracker.replica.model import Replica, ReplicaBill, ReplicaCommittee, ReplicaMember, dotted, sponsor_type

TOKEN = "\x00REQUEST-VERIFICATION-TOKEN\x00"
CURRENT_GC = 194

# Committee codes for the Status: line (J33/J19/S30 as seen on the site; others are shown unlinked).
_COMMITTEES = {
    "advanced information technology, the internet and cybersecurity": (
        "J33",
        "Joint Committee on Advanced Information Technology, the Internet and Cybersecurity",
    ),
    "the judiciary": ("J19", "Joint Committee on the Judiciary"),
    "senate ways and means": ("S30", "Senate Committee on Ways and Means"),
}
_REFERRAL = re.compile(r"(?:referred|discharged) to the committee on (.+)$", re.IGNORECASE)
_TAG = re.compile(r"(<[^>]*>)")

e = html.escape


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def session_label(gc: int) -> str:
    """``192nd (2021 - 2022)``; the current court is ``194th (Current)``."""
    if gc == CURRENT_GC:
        return f"{ordinal(gc)} (Current)"
    start = 2 * gc + 1637
    return f"{ordinal(gc)} ({start} - {start + 1})"


def html_date(local: str | None) -> str:
    """``2021-03-29T23:59:59.0000000`` -> ``3/29/2021``; None -> empty cell."""
    if not local:
        return ""
    y, m, d = local[:10].split("-")
    return f"{int(m)}/{int(d)}/{int(y)}"


def action_html(action: str) -> str:
    """The API's Action text as HTML: tags kept, text escaped."""
    parts = _TAG.split(action)
    return "".join(p if i % 2 else e(html.unescape(p), quote=False) for i, p in enumerate(parts))


def action_text(action: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", action)).split())


def _profile_link(code: str | None, name: str) -> str:
    kind = sponsor_type(code)
    if kind == 1:
        return f'<a href="/Legislators/Profile/{e(code)}">{e(name)}</a>'
    if kind == 2:
        return f'<a href="/Committees/Detail/{e(code)}">{e(name)}</a>'
    return e(name)


def _status_html(bill: ReplicaBill) -> str:
    for h in reversed(bill.visible_history()):
        m = _REFERRAL.search(action_text(h["Action"]))
        if m:
            name = m.group(1).strip()
            known = _COMMITTEES.get(name.lower())
            if known:
                return f'Referred to <a href="/Committees/Detail/{known[0]}">{e(known[1])}</a>'
            return f"Referred to {e(name)}"
    return "Pending"


# --------------------------------------------------------------------------- HTML pieces


def _head(title: str, body_class: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta http-equiv="X-UA-Compatible" content="IE=edge" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>{e(title)}</title>
<link href="/bundles/css?v=replica" rel="stylesheet" />
</head>
<body class="{body_class}">
<a class="sr-only sr-only-focusable" href="#skipNavigation">Skip to Content</a>
<header id="header" role="banner">
 <nav class="navbar navbar-default" role="navigation">
  <div class="container">
   <div class="navbar-header"><a class="navbar-brand" href="/">The {e(ordinal(CURRENT_GC))} General Court of the Commonwealth of Massachusetts</a></div>
   <ul class="nav navbar-nav">
    <li><a href="/Legislators">Legislators</a></li>
    <li><a href="/Committees">Committees</a></li>
    <li><a href="/Bills">Bills &amp; Laws</a></li>
    <li><a href="/Events">Events</a></li>
   </ul>
  </div>
 </nav>
</header>
<form id="antiForgeryForm" action="#" method="post"><input name="__RequestVerificationToken" type="hidden" value="{TOKEN}" /></form>
"""


_FOOT = """<footer id="footer" role="contentinfo">
 <div class="container"><p>Site Map | Site Policy | Terms of Use | Accessibility | Contact Us</p>
 <p>Copyright &copy; The General Court of the Commonwealth of Massachusetts (replica)</p></div>
</footer>
<script src="/bundles/js?v=replica"></script>
<script>
 function toggleTab(id, url) { /* loads the tab panel with X-Requested-With: XMLHttpRequest */ }
 function getBillHistory(page) { /* loads BillHistory?pageNumber=page into the tab panel */ }
</script>
</body>
</html>
"""


def _tabs(bill: ReplicaBill, active: str) -> str:
    base = f"/Bills/{bill.session}/{bill.ident}"
    out = ['<div class="nav nav-tabs" role="tablist">']
    for tab, label in (("BillHistory", "Bill History"), ("Cosponsor", "Petitioners")):
        on = tab == active
        out.append(
            f'<button id="{tab}-tab" class="{"active tab" if on else "tab"}" type="button" role="tab" '
            f'data-href="{base}/{tab}" aria-controls="{tab}-tabpanel" aria-selected="{"true" if on else "false"}" '
            f"onclick=\"toggleTab('{tab}', '{base}/{tab}')\">{label}</button>"
        )
    out.append("</div>")
    return "\n".join(out)


def _pagination(pages: int, current: int) -> str:
    if pages <= 1:
        return ""
    items = []
    for p in range(1, pages + 1):
        cls = ' class="active"' if p == current else ""
        items.append(f'<li{cls}><a href="#BillHistory" onclick="getBillHistory({p}); return false;">{p}</a></li>')
    items.append(
        f'<li><a href="#BillHistory" aria-label="Last" onclick="getBillHistory({pages}); return false;">'
        f'<span aria-hidden="true">&raquo;</span></a></li>'
    )
    return '<nav class="text-center"><ul class="pagination pagination-sm">' + "".join(items) + "</ul></nav>"


def history_page_count(bill: ReplicaBill, page_size: int) -> int:
    n = len(bill.visible_history())
    size = max(1, int(page_size))
    return max(1, -(-n // size))


def history_panel(bill: ReplicaBill, page: int, page_size: int, broken: bool = False) -> str:
    """The Bill History tab panel (what the AJAX request returns)."""
    rows = bill.visible_history()
    size = max(1, int(page_size))
    pages = history_page_count(bill, size)
    chunk = rows[(page - 1) * size : page * size] if page >= 1 else []
    head = (
        '<div role="tabpanel" class="active tab-pane" id="BillHistory-tabpanel" aria-labelledby="BillHistory-tab">\n'
    )
    if broken:
        # A redesigned page: the same facts, but no history table any more.
        items = "".join(
            f'<li class="timelineItem"><time>{html_date(h["Date"])}</time> '
            f'<span class="branch">{e(h["Branch"])}</span> <span class="action">{action_html(h["Action"])}</span></li>'
            for h in chunk
        )
        return head + f'<ol class="billTimeline">{items}</ol>\n</div>'
    body = "\n".join(
        f'<tr><td>{html_date(h["Date"])}</td><td>{e(h["Branch"])}</td><td>{action_html(h["Action"])}</td></tr>'
        for h in chunk
    )
    return (
        head
        + '<div class="table-responsive">\n<table class="table table-bordered table-condensed">\n'
        + '<thead><tr><th scope="col">Date</th><th scope="col">Branch</th><th scope="col">Action</th></tr></thead>\n'
        + f"<tbody>\n{body}\n</tbody>\n</table>\n</div>\n"
        + _pagination(pages, page)
        + "\n</div>"
    )


def cosponsor_panel(bill: ReplicaBill) -> str:
    """The Petitioners tab panel: Name | District/Address | Date Added (the sponsor marked ``*``)."""
    sponsor_code = bill.sponsor[0] if bill.sponsor else None
    rows = []
    for code, name in bill.petitioners:
        cell = _profile_link(code, name)
        is_sponsor = bill.sponsor is not None and (
            (code, name) == tuple(bill.sponsor) or (code is not None and code == sponsor_code)
        )
        if is_sponsor:
            cell += '<span class="sr-only">This sponsor is an original petitioner.</span>*'
        rows.append(f"<tr><td>{cell}</td><td></td><td></td></tr>")
    return (
        '<div role="tabpanel" class="active tab-pane" id="Cosponsor-tabpanel" aria-labelledby="Cosponsor-tab">\n'
        '<table class="table table-striped" id="searchResults">\n'
        '<thead><tr><th scope="col">Name</th><th scope="col">District/Address</th><th scope="col">Date Added</th></tr></thead>\n'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</div>"
    )


def bill_page(bill: ReplicaBill, tab: str, panel: str, similar: list[ReplicaBill] | None = None) -> str:
    """A full bill page with ``panel`` as the active tab's content."""
    chamber = "Senate" if bill.ident.upper().startswith("S") else "House"
    base = f"/Bills/{bill.session}/{bill.ident}"
    sponsor_label = "Sponsor:" if bill.sponsor and sponsor_type(bill.sponsor[0]) == 1 else "Presenter:"
    sponsor_dd = _profile_link(*bill.sponsor) if bill.sponsor else ""
    pinslip = f'<p id="pinslip" class="pinslip">{e(bill.pinslip)}</p>\n' if bill.pinslip else ""
    related = "".join(
        f'<li><a class="listTitle" href="/Bills/{b.session}/{b.ident}">{e(dotted(b.ident))}</a> '
        f'<span class="generalCourt">{e(session_label(b.session))}</span><p class="small">{e(b.title or "")}</p></li>'
        for b in (similar or [])
    )
    return (
        _head(f"Bill {dotted(bill.ident)} ", "subpage billPage")
        + f"""<div class="titleBar">
 <div class="container"><div class="row"><div class="col-xs-12">
  <div class="followable"><h1>Bill {e(dotted(bill.ident))} <span class="subTitle">{e(session_label(bill.session))}</span></h1>
   <a class="followBtn" href="#" title="Follow this bill">Follow</a></div>
 </div></div></div>
</div>
<div id="skipNavigation"></div>
<div id="contentContainer" class="container"><div class="row">
<div class="col-xs-12 col-md-8">
<h2>{e(bill.title or "")} </h2>
{pinslip}<div class="row">
 <div class="col-xs-12 col-sm-8">
  <dl class="list-unstyled billInfo">
   <dt class="col-xs-12 col-md-3">{sponsor_label}</dt><dd class="col-xs-12 col-md-9">{sponsor_dd}</dd>
   <dt class="col-xs-12 col-md-3">Status:</dt><dd class="col-xs-12 col-md-9">{_status_html(bill)}</dd>
  </dl>
 </div>
 <div class="col-xs-12 col-sm-4 modalBtnGroup">
  <a class="btn btn-primary" href="{base}/{chamber}/Bill/Text" data-toggle="modal">View Text</a>
  <a class="btn btn-default" href="{base}/{chamber}/Bill/Preview">Print Preview</a>
  <a class="btn btn-default" href="{base}.pdf">Download PDF</a>
 </div>
</div>
{_tabs(bill, tab)}
<div class="tab-content">
{panel}
</div>
</div>
<aside class="col-xs-12 col-md-4 sidebar"><h2>Similar Bills</h2><ul class="relatedBills">{related}</ul></aside>
</div></div>
<p class="billDisclaimer container">The replica of malegislature.gov serves test data only.</p>
"""
        + _FOOT
    )


def oh_my_cod_page() -> str:
    """The site's error page, served with HTTP 500 for an unknown bill (markup invented: only the
    "Oh My Cod!" wording and the 500 status are documented)."""
    return (
        _head("Oh My Cod! ", "subpage errorPage").replace(TOKEN, "")
        + """<div id="contentContainer" class="container"><div class="row"><div class="col-xs-12">
<div class="errorMessage">
<h1>Oh My Cod!</h1>
<p>Something went wrong. The page you are looking for may have been moved or may not exist.</p>
<p><a href="/">Return to the home page</a></p>
</div>
</div></div></div>
"""
        + _FOOT
    )


def not_found_page() -> str:
    return oh_my_cod_page()


# --------------------------------------------------------------------------- API


def _sponsor_obj(code: str | None, name: str, base: str, gc: int, kind: int | None = None,
                 response_date: str | None = None, dated: bool = False) -> dict:
    """A ``BillSponsorSummary``: ``{Id, Name, Type, Details}``; ``dated`` (the detail, 193rd on)
    adds ``ResponseDate``."""
    kind = kind or sponsor_type(code)
    if kind == 1:
        details = f"{base}/api/GeneralCourts/{gc}/LegislativeMembers/{code}"
    elif kind == 2:
        details = f"{base}/api/GeneralCourts/{gc}/Committees/{code}"
    else:
        details = None
    obj = {"Id": code, "Name": name, "Type": kind, "Details": details}
    if dated:
        obj["ResponseDate"] = response_date
    return obj


JOINT_SPONSOR_FROM = 193  # JointSponsor (and the sponsors' ResponseDate) appear in the 193rd's details


def _response_date(filed: str | None, index: int) -> str | None:
    """When the ``index``-th petitioner signed on: the lead when the document was filed, the others
    a few days apart after that (the replica stores no dates per petitioner)."""
    if filed is None:
        return None
    if index == 0:
        return filed
    day = datetime.fromisoformat(filed[:19]) + timedelta(days=2 * index + index % 3, hours=index % 7,
                                                         minutes=(17 * index) % 60)
    return day.strftime("%Y-%m-%dT%H:%M:%S") + f".{(4713 * index) % 10_000_000:07d}"


def document_url(base: str, bill: ReplicaBill) -> str:
    return f"{base}/api/GeneralCourts/{bill.session}/Documents/{bill.ident}"


def document_obj(bill: ReplicaBill, base: str) -> dict:
    """The document detail (sources.md 2.2); ``JointSponsor`` and ``ResponseDate`` from the 193rd on."""
    gc = bill.session
    dated = gc >= JOINT_SPONSOR_FROM
    petitioners = list(bill.petitioners)

    def signed(who: tuple[str | None, str] | None, default: int) -> str | None:
        return _response_date(bill.filed, petitioners.index(who) if who in petitioners else default)

    obj = {
        "Title": bill.title,
        "BillNumber": bill.number,
        "DocketNumber": bill.docket,
        "GeneralCourtNumber": gc,
        "PrimarySponsor": (_sponsor_obj(*bill.sponsor, base, gc, bill.sponsor_kind, signed(bill.sponsor, 0), dated)
                           if bill.sponsor else None),
        "Cosponsors": [
            _sponsor_obj(c, n, base, gc, bill.sponsor_kind if (c, n) == bill.sponsor else None,
                         _response_date(bill.filed, i), dated)
            for i, (c, n) in enumerate(petitioners)
        ],
    }
    if dated:
        joint = bill.joint_sponsor
        obj["JointSponsor"] = _sponsor_obj(*joint, base, gc, None, signed(joint, 1), dated) if joint else None
    obj.update({
        "BillHistory": f"{document_url(base, bill)}/DocumentHistoryActions",
        "LegislationTypeName": bill.legislation_type,
        "Pinslip": bill.pinslip,
        "DocumentText": bill.text,
        "EmergencyPreamble": bill.emergency_preamble,
        "RollCalls": [],
        "Attachments": [],
        "CommitteeRecommendations": [],
        "Amendments": [],
    })
    return obj


def similar_obj(bill: ReplicaBill) -> dict:
    """A row of ``/api/GeneralCourts/{gc}/Documents/{id}/Similar``: ``{BillNumber, DocketNumber,
    GeneralCourtNumber}`` (sources.md 2.1; no ``Details`` link)."""
    return {"BillNumber": bill.number, "DocketNumber": bill.docket, "GeneralCourtNumber": bill.session}


def list_row_obj(bill: ReplicaBill, base: str) -> dict:
    """A row of ``/api/GeneralCourts/{gc}/Documents`` (sources.md 2.1): ``BillNumber`` null for a
    docket-only document, ``Details`` null for the rows marked so."""
    return {
        "BillNumber": bill.number,
        "DocketNumber": bill.docket,
        "Title": bill.title,
        "PrimarySponsor": _sponsor_obj(*bill.sponsor, base, bill.session, bill.sponsor_kind) if bill.sponsor else None,
        "GeneralCourtNumber": bill.session,
        "Details": None if bill.details_null else document_url(base, bill),
        "IsDocketBookOnly": bill.docket_only,
    }


def history_list(bill: ReplicaBill) -> list[dict]:
    return [
        {"Date": h["Date"], "Branch": h["Branch"], "Action": h["Action"], "IsStricken": bool(h["IsStricken"])}
        for h in bill.history
    ]


# --------------------------------------------------------------------------- API: the directory


def committee_url(base: str, gc: int, code: str) -> str:
    return f"{base}/api/GeneralCourts/{gc}/Committees/{code}"


def member_url(base: str, gc: int, code: str) -> str:
    return f"{base}/api/GeneralCourts/{gc}/LegislativeMembers/{code}"


def committee_ref_obj(gc: int, code: str, base: str) -> dict:
    return {"CommitteeCode": code, "GeneralCourtNumber": gc, "Details": committee_url(base, gc, code)}


def member_ref_obj(gc: int, code: str | None, base: str) -> dict | None:
    if not code:
        return None
    return {"GeneralCourtNumber": gc, "MemberCode": code, "Details": member_url(base, gc, code)}


def committee_obj(c: ReplicaCommittee, base: str) -> dict:
    gc = c.session
    return {
        "CommitteeCode": c.code,
        "FullName": c.full_name,
        "ShortName": c.short_name,
        "Description": c.description,
        "Branch": c.branch,
        "GeneralCourtNumber": gc,
        "HouseChairperson": member_ref_obj(gc, c.house_chair, base),
        "SenateChairperson": member_ref_obj(gc, c.senate_chair, base),
        "Hearings": [],
        "DocumentsBeforeCommittee": [],
        "ReportedOutDocuments": [],
    }


def _document_ref(bill: ReplicaBill, base: str) -> dict:
    return {"BillNumber": bill.number, "DocketNumber": bill.docket, "GeneralCourtNumber": bill.session,
            "Details": document_url(base, bill)}


def member_obj(m: ReplicaMember, replica: Replica, base: str) -> dict:
    """A member's detail; SponsoredBills and CoSponsoredBills come from the replica's bills."""
    gc, code = m.session, m.code.upper()
    sponsored, cosponsored = [], []
    for bill in list(replica.bills.values()):
        if bill.session != gc:
            continue
        if bill.sponsor and (bill.sponsor[0] or "").upper() == code:
            sponsored.append(_document_ref(bill, base))
        elif any((p or "").upper() == code for p, _ in bill.petitioners):
            cosponsored.append(_document_ref(bill, base))
    return {
        "Name": m.name,
        "GeneralCourtNumber": gc,
        "LeadershipPosition": m.leadership,
        "Branch": m.branch,
        "MemberCode": m.code,
        "District": m.district,
        "Party": m.party,
        "EmailAddress": m.email,
        "RoomNumber": m.room,
        "PhoneNumber": m.phone,
        "FaxNumber": m.fax,
        "SponsoredBills": sponsored,
        "CoSponsoredBills": cosponsored,
        "Committees": [committee_ref_obj(gc, c, base) for c in replica.member_committees(m)],
    }


def to_json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_XI = 'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
_XNS = 'xmlns="http://schemas.datacontract.org/2004/07/MaLegislature.Api.Models"'


def _xml_value(name: str, value) -> str:
    if value is None:
        return f'<{name} i:nil="true"/>'
    if isinstance(value, bool):
        return f"<{name}>{'true' if value else 'false'}</{name}>"
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_xml_value(k, v) for k, v in value.items()) + f"</{name}>"
    if isinstance(value, list):
        item = {"Cosponsors": "BillSponsorSummary"}.get(name, "Item")
        return f"<{name}>" + "".join(_xml_value(item, v) for v in value) + f"</{name}>"
    return f"<{name}>{xml_escape(str(value))}</{name}>"


def to_xml(root: str, obj) -> bytes:
    """A minimal DataContract-style XML rendering (what the API sends to browsers)."""
    if isinstance(obj, list):
        item = root[len("ArrayOf") :] if root.startswith("ArrayOf") else "Item"
        inner = "".join(_xml_value(item, v) for v in obj)
    else:
        inner = "".join(_xml_value(k, v) for k, v in obj.items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<{root} {_XI} {_XNS}>{inner}</{root}>'.encode("utf-8")


def api_error(status: int, message: str | None = None) -> bytes:
    """The API's JSON error body, ``{"Message": ...}``: ``message``, or the usual one for ``status``."""
    if message is not None:
        return to_json({"Message": message})
    messages = {
        400: "The request is invalid.",
        404: "No HTTP resource was found that matches the request URI.",
        429: "Too many requests.",
        503: "The service is unavailable.",
    }
    return to_json({"Message": messages.get(status, "An error has occurred.")})
