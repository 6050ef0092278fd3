"""A redline as JSON (the design's ``tracker text --compare`` shape, plus the sections and the summary) and as
plain text with visible markers for a terminal or a pipe (``[+added+]``, ``[-removed-]``), unchanged sections
folded to one line."""

from __future__ import annotations

from tracker.texts.compare import Redline, SectionChange
from tracker.texts.refs import StoredText
from tracker.texts.summary import plain_sentence, section_lines, totals

CONTEXT_WORDS = 12  # unchanged words shown on each side of a change in the terminal view


def redline_json(old: StoredText, new: StoredText, redline: Redline) -> dict:
    return {"from": old.ref, "to": new.ref, "added_words": redline.added_words,
            "removed_words": redline.removed_words, "hunks": [h.as_json() for h in redline.hunks()],
            "sections": [c.as_json() for c in redline.sections], "summary": section_lines(redline),
            "sentence": plain_sentence(redline, old.label.split(" (")[0])}


def _clip(text: str, head: bool, tail: bool) -> str:
    """Unchanged text cut to its first and/or last ``CONTEXT_WORDS`` words."""
    words = text.split()
    if len(words) <= 2 * CONTEXT_WORDS:
        return text
    start = " ".join(words[:CONTEXT_WORDS]) + " … " if head else "… "
    end = " ".join(words[-CONTEXT_WORDS:]) if tail else ""
    return (start + end) if tail else start.rstrip(" …") + " …"


def section_text(change: SectionChange) -> str:
    out = []
    hunks = change.hunks
    for i, h in enumerate(hunks):
        if h.op == "equal":
            out.append(_clip(h.new, head=i > 0, tail=i < len(hunks) - 1) if change.kind != "same" else "")
        elif h.op == "insert":
            out.append(f"[+{h.new.rstrip()}+] ")
        elif h.op == "delete":
            out.append(f"[-{h.old.rstrip()}-] ")
        else:
            out.append(f"[-{h.old.rstrip()}-][+{h.new.rstrip()}+] ")
    return "".join(out).strip()


def redline_text(old: StoredText, new: StoredText, redline: Redline) -> str:
    lines = [f"From {old.label} to {new.label}: {totals(redline)}."]
    if redline.unchanged:
        return lines[0] + "\nThe texts are the same."
    lines += [f"  - {line}" for line in section_lines(redline)]
    lines.append("")
    for c in redline.sections:
        if c.kind == "same":
            continue
        where = c.new.label_words if c.new else c.old.label_words
        if c.renumbered:
            where = f"section {c.old.number}, now {c.new.number}"
        lines.append(f"{where[0].upper()}{where[1:]} ({c.kind}):")
        lines.append("  " + section_text(c))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
