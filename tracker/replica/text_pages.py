"""The bill's text as the site serves it in HTML (sources.md 1.1).

* ``/Bills/{gc}/{id}.Html``: the bill as a word processor saved it ("plain text-ish HTML": ``<p
  class=MsoNormal>`` paragraphs, unquoted attributes, source lines wrapped inside paragraphs,
  ``&nbsp;`` spacers, a ``<style>`` block): the cover sheet (docket number and filing date, the House
  or Senate number, "PRESENTED BY:", the petition and the "PETITION OF:" table), then the bill (the
  pinslip, "In the One Hundred and Ninety-Second General Court (2021-2022)", the title, the emergency
  preamble if any, "Be it enacted ...", the sections). The markup is the replica's reconstruction
  (INFERRED from the kind of page the site's .Html links give, not copied); the words are the replica's.
* ``/Bills/{gc}/{id}/{House|Senate}/Bill/Text``: the "View Text" modal's content (``div.modal-body >
  div.billText``, the bill without the cover sheet), alone for ``X-Requested-With: XMLHttpRequest``,
  else inside the whole bill page.

The text shown is ``ReplicaBill.shown_text()`` (``page_text``, else ``DocumentText``); a text that lacks
the enacting clause gets it (a bill's always has one). Both pages declare UTF-8; their bytes are in
``ReplicaBill.page_encoding`` (:func:`page_bytes`), so "windows-1252" serves the wrong-declared variant.
"""

from __future__ import annotations

import html
import textwrap

from tracker.replica.model import ReplicaBill, dotted

ENACTING = ("Be it enacted by the Senate and House of Representatives in General Court assembled, and by the "
            "authority of the same, as follows:")
_TEENS = ("Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth",
          "Eighteenth", "Nineteenth")
_TENS = ("", "", "Twent", "Thirt", "Fort", "Fift", "Sixt", "Sevent", "Eight", "Ninet")
_UNIT_ORD = ("", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth")

e = html.escape


def court_words(gc: int) -> str:
    """192 -> "One Hundred and Ninety-Second" (the General Courts of 100 to 199)."""
    rest = int(gc) % 100
    if rest == 0:
        return "One Hundredth"
    if rest < 10:
        tail = _UNIT_ORD[rest]
    elif rest < 20:
        tail = _TEENS[rest - 10]
    elif rest % 10 == 0:
        tail = _TENS[rest // 10] + "ieth"
    else:
        tail = f"{_TENS[rest // 10]}y-{_UNIT_ORD[rest % 10]}"
    return f"One Hundred and {tail}"


def _years(gc: int) -> str:
    start = 2 * int(gc) + 1637
    return f"{start}-{start + 1}"


def _p(inner: str, style: str = "") -> str:
    """A word processor's paragraph: the source wrapped at 76 columns (a browser shows one line)."""
    attr = f" style='{style}'" if style else ""
    body = "\n".join(textwrap.wrap(inner, 76, break_long_words=False, break_on_hyphens=False)) or "&nbsp;"
    return f"<p class=MsoNormal{attr}>{body}</p>"


_SPACER = "<p class=MsoNormal>&nbsp;</p>"


def _paragraph(line: str) -> str:
    """A line of the text; an act's section label in bold, as the site prints it."""
    head, sep, rest = line.partition(" ")
    if head.upper() == "SECTION" and sep:
        number, _, rest = rest.partition(" ")
        return _p(f"<b><span style='font-family:\"Times New Roman\",serif'>{e(head)} {e(number)}</span></b> "
                  f"{e(rest)}", "text-indent:.5in;line-height:200%")
    return _p(e(line), "text-indent:.5in;line-height:200%")


def _bill_paragraphs(bill: ReplicaBill, text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out = []
    if bill.emergency_preamble and not any(line.startswith("Whereas") for line in lines):
        out.append(_p(e(bill.emergency_preamble), "text-indent:.5in"))
    if lines and bill.legislation_type == "Bill" and not any(line.startswith("Be it enacted") for line in lines):
        out.append(_p(f"<i>{e(ENACTING)}</i>", "text-indent:.5in"))
    for line in lines:
        if line.startswith("Be it enacted"):
            out.append(_p(f"<i>{e(line)}</i>", "text-indent:.5in"))
        else:
            out.append(_paragraph(line))
    return out


def _bill_head(bill: ReplicaBill) -> list[str]:
    return [
        _p(f"<span style='font-size:10.0pt'>{e(bill.pinslip or '')}</span>"),
        _SPACER,
        _p("<b>The Commonwealth of Massachusetts</b>", "text-align:center"),
        _p("_______________", "text-align:center"),
        _p(f"In the {court_words(bill.session)} General Court<br>\n({_years(bill.session)})", "text-align:center"),
        _p("_______________", "text-align:center"),
        _p(f"<b>{e(bill.title or '')}.</b>", "text-align:center"),
    ]


def _cover(bill: ReplicaBill) -> list[str]:
    chamber = "SENATE" if bill.ident.upper().startswith("S") else "HOUSE"
    filed = ""
    if bill.filed:
        y, m, d = bill.filed[:10].split("-")
        filed = f"FILED ON: {int(m)}/{int(d)}/{int(y)}"
    docket = f"{chamber} DOCKET, NO. {bill.docket[2:]}" if bill.docket else ""
    number = f"{chamber} . . . . . . . . . . . . . . . No. {bill.number[1:]}" if bill.number else ""
    names = [name for _code, name in bill.petitioners]
    rows = "\n".join(f"<tr><td valign=top><p class=MsoNormal>{e(name)}</p></td><td valign=top><p class=MsoNormal>"
                     f"&nbsp;</p></td><td valign=top><p class=MsoNormal>&nbsp;</p></td></tr>" for name in names)
    return [
        _p(f"<span style='font-size:10.0pt'>{e(docket)}&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;{e(filed)}</span>"),
        _p(f"<b>{e(number)}</b>"),
        _SPACER,
        _p("<b>The Commonwealth of Massachusetts</b>", "text-align:center"),
        _p("_________________", "text-align:center"),
        _p("<b>PRESENTED BY:</b>", "text-align:center"),
        _p(f"<i>{e(' and '.join(names[:2]))}</i>", "text-align:center"),
        _p("_________________", "text-align:center"),
        _p("To the Honorable Senate and House of Representatives of the Commonwealth of Massachusetts in General "
           "Court assembled:"),
        _p("The undersigned legislators and/or citizens respectfully petition for the adoption of the accompanying "
           f"{'resolve' if bill.legislation_type == 'Resolve' else 'bill'}:"),
        _p(f"<b>{e(bill.title or '')}.</b>", "text-align:center"),
        _p("<b>PETITION OF:</b>"),
        "<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0>\n<tr><td><p class=MsoNormal><b>NAME:</b>"
        "</p></td><td><p class=MsoNormal><b>DISTRICT/ADDRESS:</b></p></td><td><p class=MsoNormal><b>DATE ADDED:</b>"
        f"</p></td></tr>\n{rows}\n</table>",
        "<br clear=all style='page-break-before:always'>",
    ]


def text_page(bill: ReplicaBill) -> str:
    """``/Bills/{gc}/{id}.Html`` (see the module): an empty text gives the cover sheet and an empty bill."""
    text = bill.shown_text()
    bill_part = _bill_head(bill) + _bill_paragraphs(bill, text) if text else []
    body = "\n".join(_cover(bill) + ["<div class=WordSection2>"] + bill_part + ["</div>"])
    return f"""<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word"
xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8">
<meta name=Generator content="Microsoft Word 15 (filtered)">
<title>{e(dotted(bill.ident))}</title>
<style>
<!--
p.MsoNormal, li.MsoNormal, div.MsoNormal
\t{{margin:0in;
\tfont-size:12.0pt;
\tfont-family:"Times New Roman",serif;}}
-->
</style>
</head>
<body lang=EN-US style='word-wrap:break-word'>
<div class=WordSection1>
{body}
</div>
</body>
</html>
"""


def text_fragment(bill: ReplicaBill) -> str:
    """The "View Text" modal's content (``.../Bill/Text`` with ``X-Requested-With``)."""
    base = f"/Bills/{bill.session}/{bill.ident}"
    text = bill.shown_text()
    inner = "\n".join(_bill_head(bill) + _bill_paragraphs(bill, text)) if text else ""
    return (f'<div class="modal-header"><button type="button" class="close" data-dismiss="modal" '
            f'aria-label="Close"><span aria-hidden="true">&times;</span></button>\n'
            f'<h4 class="modal-title">Bill {e(dotted(bill.ident))}</h4></div>\n'
            f'<div class="modal-body"><div class="billText">\n{inner}\n</div></div>\n'
            f'<div class="modal-footer"><a class="btn btn-default" href="{base}.pdf">Download PDF</a></div>')


def text_panel(bill: ReplicaBill) -> str:
    """The fragment as the whole bill page's panel (``.../Bill/Text`` without ``X-Requested-With``)."""
    return (f'<div role="tabpanel" class="active tab-pane" id="Text-tabpanel">\n{text_fragment(bill)}\n</div>')


def page_bytes(bill: ReplicaBill, page: str) -> bytes:
    """A text page's bytes in ``bill.page_encoding`` (characters it lacks as character references)."""
    return page.encode(bill.page_encoding or "utf-8", errors="xmlcharrefreplace")
