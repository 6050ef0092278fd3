import pytest

from spiders.billids import BadBillId, BillId, dotted, parse_bill_id, session_years


@pytest.mark.parametrize(
    "text",
    ["ma/192/H135", "192/H135", "H.135", "H 135", "h135", "H135", " H. 135 ", "ma/192/h.135"],
)
def test_every_accepted_spelling_gives_the_canonical_id(text):
    assert parse_bill_id(text, default_session=192).canonical == "ma/192/H135"


def test_short_form_takes_the_configured_session():
    assert parse_bill_id("S.1053", default_session=194) == BillId(194, "S1053")
    assert parse_bill_id("HD3228", 192).number == "HD3228"
    assert parse_bill_id("sres12", 192).number == "SRes12"


def test_explicit_session_wins_over_default():
    assert parse_bill_id("193/H1728", default_session=194).canonical == "ma/193/H1728"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "not a bill number"),
        ("X135", "not a bill number"),
        ("H.", "not a bill number"),
        ("ny/192/H135", "jurisdiction"),
        ("19/H135", "session"),
        ("a/b/c/d", "not a bill id"),
    ],
)
def test_bad_ids_say_what_is_wrong(text, fragment):
    with pytest.raises(BadBillId) as exc:
        parse_bill_id(text, 192)
    assert fragment in str(exc.value)


def test_short_form_without_session_is_refused():
    with pytest.raises(BadBillId, match="names no session"):
        parse_bill_id("H135")


def test_dotted_and_years():
    assert BillId(192, "H5091").dotted == "H.5091"
    # one rule for the legislature's spelling, whether given a number, a canonical id or a docket
    assert [dotted(x) for x in ("H135", "ma/192/H135", "SD503", "ma/194/HRes12")] == ["H.135", "H.135", "SD.503",
                                                                                     "HRes.12"]
    assert session_years(192) == (2021, 2022)
    assert session_years(194) == (2025, 2026)


@pytest.mark.parametrize("text", ["\u0660\u0660\u0660/H0", "\uff11\uff19\uff12/H135", "192/H\u0661\u0663\u0665",
                                  "ma/\u0661\u0669\u0662/S47", "000/H0", "ma/012/H1"])
def test_sessions_that_would_not_parse_back_are_refused(text):
    # Found by fuzzing (tests/test_fuzz.py): "٠٠٠/H0" and "000/H0" became ma/0/H0, a canonical id that is
    # itself refused.
    with pytest.raises(BadBillId):
        parse_bill_id(text, default_session=192)
