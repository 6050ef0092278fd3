"""``tracker text ID[@N] [--compare ID[@N]]``: a bill's stored text, or the redline from another one to it."""

from __future__ import annotations

import click

from db.bills import find_bill
from tracker.application import Application
from tracker.cli.common import Fail, pass_app, resolve_bill
from tracker.output import emit_json


@click.command("text")
@click.argument("ref", metavar="ID[@N]")
@click.option("--compare", "older", metavar="ID[@N]",
              help="show what changed from this text (another bill's, or another version) to ID's")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def text_cmd(app: Application, ref: str, older: str | None, fmt: str) -> None:
    """A bill's text (its latest stored version, or version N), or the redline to it from another text:
    `tracker text 192/H5091 --compare 192/H135`."""
    # lazy: diff-match-patch and the text modules load only for this command (every command's start-up pays the
    # imports at the top)
    from tracker.texts.compare import compare
    from tracker.texts.refs import BadTextRef, NoText, load_text, split_ref
    from tracker.texts.view import redline_json, redline_text  # lazy, as above

    with app.ready_sessions()() as s:
        try:
            texts = []
            for given in (ref, older) if older else (ref,):
                bill, n = split_ref(given)
                bid = resolve_bill(app, s, bill)
                if n is not None and find_bill(s, bid.canonical) is None:
                    raise NoText(f"{bid.canonical} is not followed: it has no versions, only its text as filed")
                texts.append(load_text(s, bid.canonical, n))
        except (BadTextRef, NoText) as exc:
            raise Fail(str(exc)) from None
    new = texts[0]
    if not older:
        if fmt == "json":
            emit_json({"bill": new.bill, "version": new.version, "sha256": new.sha256, "words": new.words,
                       "text": new.text})
        else:
            seen = f", seen {new.seen_at:%Y-%m-%d}" if new.seen_at else ""
            click.echo(f"{new.label}: {new.words} words{seen}\n")
            click.echo(new.text.rstrip())
        return
    old = texts[1]
    redline = compare(old.text, new.text)
    if fmt == "json":
        emit_json(redline_json(old, new, redline))
    else:
        click.echo(redline_text(old, new, redline), nl=False)


COMMANDS = [text_cmd]
