"""The templates of ``asks:`` (subject, letter, thanks), written by staff in feeds.yaml and rendered to plain
text in a sandbox: a template reads the names below and nothing else (no attribute of Python objects, no
file). A name it does not know is refused when the configuration is read, not when a supporter opens the page.

Names: ``bill`` (label, number, title, session, url, committee, position), ``recipient`` (name, title,
district, role), ``supporter`` (first_name, last_name, name, town), ``committee`` (the committee's name for
``chairs`` and ``testimony``), ``hearing`` (when, location; testimony) and ``campaign`` (name).
"""

from __future__ import annotations

from functools import lru_cache

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

NAMES = ("bill", "recipient", "supporter", "committee", "hearing", "campaign")


@lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False, undefined=jinja2.ChainableUndefined, keep_trailing_newline=False)


def template_problem(text: str) -> str | None:
    """Why this template cannot be used (its syntax, a name it does not know), or None."""
    env = _env()
    try:
        unknown = sorted(meta.find_undeclared_variables(env.parse(text)) - set(NAMES))
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno} of the template: {exc.message}"
    if unknown:
        return f"unknown name {unknown[0]!r}; a template can use {', '.join(NAMES)}"
    return None


@lru_cache(maxsize=64)
def _compiled(text: str) -> jinja2.Template:
    return _env().from_string(text)


def render(text: str, ctx: dict) -> str:
    """The template with ``ctx``; a name missing from ``ctx`` (a hearing without a place) renders empty."""
    return _compiled(text).render({name: ctx.get(name) or {} for name in NAMES})
