"""``asks:`` in feeds.yaml: a template that cannot render, a name used twice or taken, a bill that does not
parse, a subject on two lines: each refused when the file is read, with its file and line; a good ask is handed
to the alerts with its bills as canonical ids."""

from __future__ import annotations

import pytest

from alerts.ask_templates import render
from tracker.config import ConfigError, parse_config

HEAD = """sources:
  malegislature:
    session: 194
bills:
  - id: H.1946
asks:
"""
GOOD = """  - name: write-your-legislators
    kind: letter
    bills: [H.1946, 193/H1728]
    subject: "Please support {{ bill.label }}"
    letter: |
      Dear {{ recipient.title }} {{ recipient.name }},

      Please support {{ bill.label }}.{% if bill.position == "oppose" %} Or rather, do not.{% endif %}
"""


def test_a_good_ask_reaches_the_alerts_with_canonical_bills_and_a_multi_line_letter():
    [spec] = parse_config(HEAD + GOOD, "feeds.yaml").ask_specs()
    assert spec.name == "write-your-legislators" and spec.kind == "letter"
    assert spec.bills == ("ma/194/H1946", "ma/193/H1728")
    text = render(spec.letter, {"recipient": {"title": "Senator", "name": "Cynthia Stone Creem"},
                                "bill": {"label": "H.1946", "position": "support"}})
    assert text == "Dear Senator Cynthia Stone Creem,\n\nPlease support H.1946."


@pytest.mark.parametrize("ask,where,words", [
    (GOOD.replace("{{ recipient.name }}", "{{ recipient.name }} {{ signature }}"), 11, "unknown name 'signature'"),
    (GOOD.replace("{{ bill.label }}.", "{{ bill.label }."), 11, "line 3 of the template"),
    (GOOD.replace("kind: letter", "kind: petition"), 8, "'letter', 'chairs' or 'testimony'"),
    (GOOD.replace("write-your-legislators", "Write Your Legislators"), 7, "should match pattern"),
    (GOOD.replace("write-your-legislators", "confirm"), 1, "asks[0].name: 'confirm' is the name of a page"),
    (GOOD.replace("H.1946, 193/H1728", "H.1946, HB-12"), 9, "'HB-12' is not a bill number"),
    (GOOD.replace('"Please support {{ bill.label }}"', '"Please\\nsupport"'), 10, "a line break"),
    (GOOD + GOOD, 1, "asks[1].name: 'write-your-legislators' is used twice"),
])
def test_a_bad_ask_is_refused_with_its_line_and_the_reason(ask, where, words):
    with pytest.raises(ConfigError) as exc:
        parse_config(HEAD + ask, "feeds.yaml")
    message = str(exc.value)
    assert words in message and message.startswith(f"feeds.yaml:{where}: "), message


def test_the_template_sandbox_reads_no_python_attributes():
    """A template in feeds.yaml reaches the values given to it, never Python internals (they render empty)."""
    out = render("[{{ bill.__class__.__mro__ }}|{{ ''.__class__ }}|{{ bill.label.__init__.__globals__ }}]",
                 {"bill": {"label": "H.1946"}})
    assert out == "[||]"
