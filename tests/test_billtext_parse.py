"""spiders.billtext_parse: a bill's text from any source in one form, its flags, its sections."""

from __future__ import annotations

import time

import pytest

from spiders.billtext_parse import (
    LARGE_BYTES,
    normalise_text,
    parse_text_page,
    repair_mojibake,
    split_sections,
    text_page_url,
    text_tab_url,
)
from spiders.records import BillNotFound, ParseError

ENACTING = ("Be it enacted by the Senate and House of Representatives in General Court assembled, and by the "
            "authority of the same, as follows:")
BILL = "\n".join([
    ENACTING,
    "SECTION 1. Chapter 6 of the General Laws, as appearing in the 2020 Official Edition, is hereby amended by "
    "adding the following section:-",
    "Section 220. (a) As used in this section, “face recognition” means an automated process.",
    "(b) No public agency shall use face recognition.",
    "SECTION 2. Notwithstanding any general or special law to the contrary, no school district shall use face "
    "recognition in a school building.",
    "SECTION 2A. There shall be a special commission on the matter.",
    "SECTION 3. This act shall take effect 90 days after its passage.",
])


def as_windows_1252(data: bytes) -> str:
    """Bytes read as Windows-1252 as browsers read it (its undefined bytes as Latin-1)."""
    return "".join(bytes((b,)).decode("cp1252", errors="ignore") or chr(b) for b in data)


def numbers(text: str) -> list[str | None]:
    return [s.number for s in split_sections(text)]


# ---------------------------------------------------------------- sections


def test_sections_keep_the_numbers_as_written_and_the_inserted_section_stays_inside():
    sections = split_sections(BILL)
    assert [s.number for s in sections] == [None, "1", "2", "2A", "3"]
    preamble, first, second, commission, last = sections
    assert preamble.text == ENACTING and preamble.label == ""
    # "Section 220." is the General Laws' section SECTION 1 inserts, not a section of the act
    assert first.text.splitlines()[1].startswith("Section 220. (a)") and first.label == "SECTION 1."
    assert first.heading == "Chapter 6 of the General Laws, as appearing…"
    # the boilerplate opener says nothing about the section: the heading skips it
    assert second.heading == "No school district shall use face recognition in…"
    assert commission.heading == "There shall be a special commission on the…"
    assert last.text == "This act shall take effect 90 days after its passage."
    assert last.words == 10


def test_colon_headings_and_an_emergency_preamble():
    text = ("Whereas, The deferred operation of this act would tend to defeat its purpose, therefore it is hereby "
            "declared to be an emergency law.\n" + ENACTING + "\nSECTION 1: The first.\nSECTION 2: The second.")
    sections = split_sections(text)
    assert [s.number for s in sections] == [None, "1", "2"]
    assert sections[0].text.startswith("Whereas, The deferred operation") and ENACTING in sections[0].text
    assert sections[2].label == "SECTION 2:" and sections[2].text == "The second."


def test_title_case_act_sections_count_only_in_sequence():
    text = ("Section 1. Chapter 71 is hereby amended by inserting after section 37O the following section:-\n"
            "Section 37P. No school shall use face recognition.\n"
            "Section 2. This act shall take effect upon its passage.")
    assert numbers(text) == ["1", "2"]
    assert "Section 37P." in split_sections(text)[0].text


def test_no_sections_and_empty():
    assert numbers("Resolved, that a special commission be established.") == [None]
    assert split_sections("") == [] and split_sections(" \n \n") == []


# ---------------------------------------------------------------- normalise_text: the bad inputs


def test_a_plain_text_passes_unflagged_and_whitespace_folds():
    check = normalise_text(BILL.replace("\n", "\r\n\r\n").replace("SECTION 3.", "SECTION   3.\u00a0\t"))
    assert check.flags == () and check.text == BILL
    assert check.words == len(BILL.split())


def test_document_text_that_is_html_is_converted():
    markup = ("<html><body><p>" + ENACTING + "</p>\n<p><b>SECTION 1.</b> Chapter 6 &amp; chapter 7.</p>"
              "<script>var x = 1;</script><p>SECTION 2.\n   This act shall take effect upon its passage.</p>"
              "</body></html>")
    check = normalise_text(markup)
    assert check.flags == ("html",)
    assert check.text == (ENACTING + "\nSECTION 1. Chapter 6 & chapter 7.\n"
                          "SECTION 2. This act shall take effect upon its passage.")
    assert numbers(check.text) == [None, "1", "2"]
    assert normalise_text("SECTION 1. Fish &amp; game.").flags == ("html",)


def test_a_text_on_one_line_gets_its_paragraphs_back():
    check = normalise_text(" ".join(BILL.split("\n")))
    assert numbers(check.text) == [None, "1", "2", "2A", "3"]
    assert check.text.splitlines()[0] == ENACTING


@pytest.mark.parametrize("mangle", [
    lambda t: as_windows_1252(t.encode("utf-8")),                   # UTF-8 shown as Windows-1252
    lambda t: t.encode("utf-8").decode("latin-1"),                   # ... or as Latin-1
    lambda t: t.encode("utf-8").decode("latin-1").encode("utf-8").decode("latin-1"),  # twice
])
def test_mojibake_is_repaired(mangle):
    text = BILL + "\nSECTION 4. The agency’s “report” — §3, café."
    mangled = mangle(text)
    assert "â€" in mangled or "Ã" in mangled
    check = normalise_text(mangled)
    assert check.text == text and "mojibake-repaired" in check.flags


def test_mojibake_repair_leaves_real_accents_alone():
    assert repair_mojibake("Zoë’s café in Québec") == "Zoë’s café in Québec"
    assert normalise_text("SECTION 1. Zoë’s café.").flags == ()


def test_wrong_declared_encoding():
    text = BILL + "\nSECTION 4. The agency’s “report”."
    # declared UTF-8, sent as Windows-1252
    check = normalise_text(text.encode("cp1252"), charset="utf-8")
    assert check.text == text and check.flags == ("wrong-encoding",)
    # declared Windows-1252 (or Latin-1), sent as UTF-8
    for declared in ("windows-1252", "iso-8859-1"):
        check = normalise_text(text.encode("utf-8"), charset=declared)
        assert check.text == text and check.flags == ("wrong-encoding",)
    # declared right, or not at all
    assert normalise_text(text.encode("cp1252"), charset="cp1252") .flags == ()
    assert normalise_text(text.encode("utf-8")).flags == ()
    assert normalise_text(b"\xef\xbb\xbf" + text.encode("utf-8"), charset="latin-1").text == text  # BOM wins
    assert normalise_text(text.encode("cp1252"), charset="no-such-charset").text == text


def test_empty_text():
    for value in (None, "", "   \r\n\t ", b"", "<p>&nbsp;</p>", "\ufeff"):
        check = normalise_text(value)
        assert check.text == "" and check.empty and "empty" in check.flags, value


def test_no_sections():
    check = normalise_text("Resolved, that the General Court urges the Congress to act.")
    assert check.flags == ("no-sections",) and check.text.startswith("Resolved")


def test_several_megabytes_kept_whole_and_flagged():
    body = "\n".join(f"SECTION {n}. The department shall report on matter {n} to the general court, "
                     f"and the report shall be published." for n in range(1, 60_001))
    assert len(body) > 5_000_000
    started = time.perf_counter()
    check = normalise_text(ENACTING + "\n" + body)
    assert time.perf_counter() - started < 10
    assert check.flags == ("large",) and len(check.text.encode()) > LARGE_BYTES
    assert check.text.endswith("matter 60000 to the general court, and the report shall be published.")
    sections = split_sections(check.text)
    assert len(sections) == 60_001 and sections[-1].number == "60000"


def test_control_characters_and_lone_surrogates_go():
    check = normalise_text("SECTION 1. One\x00 two\x07 three\ud800.")
    assert check.text == "SECTION 1. One two three." and check.flags == ()


# ---------------------------------------------------------------- the HTML text page

WORD_PAGE = """<html xmlns="http://www.w3.org/TR/REC-html40"><head>
<meta http-equiv=Content-Type content="text/html; charset=windows-1252">
<title>H.135</title><style><!-- p.MsoNormal {margin:0in;} --></style></head>
<body lang=EN-US><div class=WordSection1>
<p class=MsoNormal>HOUSE DOCKET, NO. 3228&nbsp;&nbsp;&nbsp; FILED ON: 1/21/2021</p>
<p class=MsoNormal><b>PRESENTED BY:</b></p><p class=MsoNormal><i>David M. Rogers</i></p>
<p class=MsoNormal><b>PETITION OF:</b></p>
<table><tr><td><p class=MsoNormal>NAME:</p></td></tr><tr><td><p class=MsoNormal>David M. Rogers</p></td></tr></table>
<br clear=all style='page-break-before:always'>
<p class=MsoNormal>By Representative Rogers of Cambridge, a petition.</p>
<p class=MsoNormal>In the One Hundred and Ninety-Second General Court<br>(2021-2022)</p>
<p class=MsoNormal><b>An Act to regulate face surveillance.</b></p>
<p class=MsoNormal>Whereas, The deferred operation of this act would tend to defeat its purpose, therefore
it is hereby declared to be an emergency law.</p>
<p class=MsoNormal>&nbsp;</p>
<p class=MsoNormal><i>Be it enacted by the Senate and House of Representatives in General Court
assembled, and by the authority of the same, as follows:</i></p>
<p class=MsoNormal style='text-indent:.5in'><b><span>SECTION 1.</span></b> The agency’s
report.</p>
<p class=MsoNormal style='text-indent:.5in'><b>SECTION 2.</b> This act shall take effect upon its passage.</p>
</div></body></html>"""


def test_the_word_page_gives_the_bill_without_the_cover_sheet():
    check = parse_text_page(WORD_PAGE.encode("cp1252"), "http://x/Bills/192/H135.Html")
    assert check.flags == ()  # the page declares windows-1252 and is: nothing wrong
    lines = check.text.splitlines()
    assert lines[0].startswith("Whereas, The deferred operation") and lines[1] == ENACTING
    assert lines[2:] == ["SECTION 1. The agency’s report.", "SECTION 2. This act shall take effect upon its passage."]
    assert "PETITION OF" not in check.text and "DOCKET" not in check.text and "Rogers" not in check.text


def test_the_page_declared_utf8_but_sent_as_windows_1252():
    page = WORD_PAGE.replace("charset=windows-1252", "charset=utf-8").encode("cp1252")
    check = parse_text_page(page, "u")
    assert "SECTION 1. The agency’s report." in check.text and check.flags == ("wrong-encoding",)
    # the Content-Type header's charset wins over the page's meta
    assert parse_text_page(WORD_PAGE.encode("cp1252"), "u", charset="utf-8").flags == ("wrong-encoding",)


def test_the_view_text_tab_inside_a_whole_page_drops_the_navigation():
    page = f"""<!DOCTYPE html><html><head><title>Bill H.135</title><script>var nav = "SECTION 9. x";</script></head>
<body><header><nav><ul><li><a href="/Bills">Bills &amp; Laws</a></li></ul></nav></header>
<div id="contentContainer"><h2>An Act to regulate face surveillance</h2>
<div class="modal-header"><h4 class="modal-title">Bill H.135</h4></div>
<div class="modal-body"><div class="billText">
<p>{ENACTING}</p><p><b>SECTION 1.</b>   The first.</p><p>SECTION 2. The second.</p></div></div>
<div class="modal-footer"><a href="/Bills/192/H135.pdf">Download PDF</a></div></div>
<footer><p>Site Map | Site Policy</p></footer></body></html>"""
    check = parse_text_page(page, "u")
    assert check.text == f"{ENACTING}\nSECTION 1. The first.\nSECTION 2. The second." and check.flags == ()


def test_a_page_with_a_cover_sheet_and_no_bill_is_empty():
    cover = WORD_PAGE[: WORD_PAGE.index("<br clear=all")] + "</div></body></html>"
    check = parse_text_page(cover.encode("cp1252"), "u")
    assert check.text == "" and "empty" in check.flags


def test_bad_pages():
    with pytest.raises(BillNotFound):
        parse_text_page(b"<html><body><h1>Oh My Cod!</h1></body></html>", "u")
    with pytest.raises(ParseError):
        parse_text_page(b'{"Message": "An error has occurred."}', "u")
    with pytest.raises(ParseError):
        parse_text_page(b"<html><head><title>Just a moment...</title></head><body></body></html>", "u")
    assert parse_text_page(b"", "u").flags == ("empty",)
    page = parse_text_page("<html><body><p>Ordered, That the committee sit.</p></body></html>", "u")
    assert page.text == "Ordered, That the committee sit." and page.flags == ("no-sections",)


def test_urls():
    assert text_page_url("http://h/", 192, "S3084") == "http://h/Bills/192/S3084.Html"
    assert text_tab_url("http://h", 194, "H1946") == "http://h/Bills/194/H1946/House/Bill/Text"
    assert text_tab_url("http://h", 192, "S47") == "http://h/Bills/192/S47/Senate/Bill/Text"
