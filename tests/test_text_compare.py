"""The redline between two bill texts: word-level, aligned by section, summarised from the structure."""

from __future__ import annotations

from tracker.texts.compare import compare, word_diff
from tracker.texts.sections import count_words, split_sections
from tracker.texts.summary import digest_line, plain_sentence

OPENING = "An Act establishing a moratorium on face surveillance\n\nBe it enacted by the Senate and House of Representatives in General Court assembled, and by the authority of the same, as follows:\n\n"
S = {
    "defs": "Chapter 6 of the General Laws is hereby amended by inserting after section 219 the following section:-\n  Section 220. (a) As used in this section, \"face surveillance\" means an automated process that identifies a person from the face.\n\n",
    "ban": "No public agency or public official shall acquire, possess, access or use any face surveillance system, or any information derived from one.\n\n",
    "schools": "No school committee or public school shall use a face surveillance system on students, teachers or visitors in any school building.\n\n",
    "police": "A law enforcement agency may use a face surveillance system in an emergency involving a risk of death or serious injury, with the approval of its chief officer.\n\n",
    "effective": "This act shall take effect upon its passage.\n",
}


def bill(*parts: str, edits: dict | None = None) -> str:
    text = OPENING
    for n, key in enumerate(parts, start=1):
        body = (edits or {}).get(key, S.get(key, key))
        text += f"SECTION {n}. {body}"
    return text


H135 = bill("defs", "ban", "schools", "police", "effective")
REPORT = "The executive office of public safety shall report each year to the clerks of the house and senate every use of a face surveillance system under section 4.\n\n"
H5091 = bill("defs", "ban", "police", REPORT, "effective", edits={
    "police": "A law enforcement agency may use a face surveillance system in an emergency involving a risk of death or serious injury, with a warrant issued by a justice of the superior court and the approval of its chief officer.\n\n"})


def test_sections_ignore_inserted_general_laws_sections():
    sections = split_sections(H135)
    assert [s.number for s in sections] == [None, "1", "2", "3", "4", "5"]  # "Section 220." is not one of them
    assert sections[3].heading.startswith("No school committee or public school")


def test_the_new_draft_names_exactly_the_sections_changed():
    redline = compare(H135, H5091)
    changed = [(c.kind, c.old.number if c.old else None, c.new.number if c.new else None)
               for c in redline.sections if c.kind != "same" or c.renumbered]
    assert changed == [("removed", "3", None), ("changed", "4", "3"), ("added", None, "4")]
    police = next(c for c in redline.sections if c.kind == "changed")
    assert [(h.op, h.new) for h in police.hunks if h.op != "equal"] == [
        ("insert", "a warrant issued by a justice of the superior court and ")]
    assert (police.added_words, police.removed_words) == (11, 0)
    assert redline.removed_words == count_words(S["schools"]) + 2  # "SECTION 3." goes with it
    assert redline.added_words == 11 + count_words(REPORT) + 2


def test_the_summary_says_which_sections_in_words():
    line = digest_line(compare(H135, H5091))
    assert line.startswith("section 3 removed (“No school committee or public school shall use")
    assert "section 4, now 3, changed: 11 words added" in line
    assert "section 4 added (“The executive office of public safety shall report" in line
    assert plain_sentence(compare(H135, H5091), "H.135") == (
        f"Compared with H.135, it removes 1 section, changes 1 and adds 1 ({13 + count_words(REPORT)} words added, "
        f"{count_words(S['schools']) + 2} removed).")


def test_a_moved_section_reads_as_moved_not_removed_and_added():
    moved = bill("defs", "police", "ban", "schools", "effective")
    redline = compare(H135, moved)
    kinds = {c.kind for c in redline.sections}
    assert "removed" not in kinds and "added" not in kinds and "moved" in kinds
    assert redline.added_words == redline.removed_words == 0
    assert "moved to become section" in digest_line(redline)


def test_reflowed_lines_are_not_a_change_and_the_same_text_says_so():
    reflowed = H135.replace("or any information derived", "or any\ninformation   derived")
    assert compare(H135, reflowed).added_words == 0
    assert digest_line(compare(H135, H135)) == "the same text"
    assert plain_sentence(compare(H135, H135), "H.135") == "Its text is the same as H.135's."


def test_texts_without_sections_still_compare_word_by_word():
    hunks = word_diff("the cat sat on the mat", "the black cat sat on a mat")
    assert [(h.op, h.old, h.new) for h in hunks if h.op != "equal"] == [
        ("insert", "", "black "), ("replace", "the ", "a ")]
    redline = compare("no sections here at all", "no sections here at all, none")
    assert [c.kind for c in redline.sections] == ["changed"] and redline.added_words == 1


def test_an_empty_or_huge_text_compares_without_a_crash():
    assert compare("", H135).added_words == count_words(H135)
    assert compare(H135, "").removed_words == count_words(H135)
    huge = H135 * 2000  # about 200,000 words, most sections repeated
    redline = compare(huge, huge.replace("emergency", "urgent emergency", 5))
    assert redline.added_words == 5


def test_a_removed_section_like_a_moved_one_does_not_take_its_place():
    # the removed section shares most of its words with the moved one: the moved one, unchanged, pairs first
    audit = "The state auditor shall audit every use of a face surveillance system by a public agency each year.\n\n"
    review = "The state auditor shall review every use of a face surveillance system by a school committee each year.\n\n"
    old = bill("defs", "ban", review, "schools", "police", "effective", audit)
    new = bill("defs", audit, "ban", "schools", "police", "effective")
    changes = [(c.kind, c.old.number if c.old else None, c.new.number if c.new else None)
               for c in compare(old, new).sections if c.kind != "same"]
    assert changes == [("moved", "7", "2"), ("removed", "3", None)]
