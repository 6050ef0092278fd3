"""Addresses and header values: validated before anything is stored or sent.

Validation never looks up DNS (``check_deliverability=False``): the machines that
run this have no DNS for the outside world, and a typo'd domain shows up as a
bounce anyway.
"""

from __future__ import annotations

import re
from functools import lru_cache
from email.headerregistry import Address
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email


class BadAddress(ValueError):
    """An address or a header value that cannot go into a message."""


CONTROL_CHARACTER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")  # every character below 32 but the tab, and DEL


def check_header_value(value: str, what: str) -> str:
    """Refuse CR, LF and other control characters (header injection); return the value stripped."""
    if CONTROL_CHARACTER.search(value):
        raise BadAddress(f"{what} {value!r} contains a line break or a control character")
    return value.strip()


def normalise_email(text: str) -> str:
    """The address in its normal form, or BadAddress saying why not. The whole address is lower-cased:
    ``Jane@Example.org`` and ``jane@example.org`` are one supporter (no mail system we send to tells
    them apart, though RFC 5321 allows it)."""
    text = check_header_value(text or "", "the address")
    simple = _DOT_ATOM_ADDRESS.match(text)
    if simple and len(text) <= 254:
        # the common shape: an ASCII dot-atom before the @; the domain is checked (and normalised) once a
        # process, which is most of email-validator's time when an import checks thousands of addresses
        domain = _checked_domain(simple.group(2).lower())
        if domain is not None:
            return f"{simple.group(1)}@{domain}".lower()
    return _validated(text)


def _validated(text: str) -> str:
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise BadAddress(f"{text!r} is not a valid email address: {exc}") from None
    return result.normalized.lower()


_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM_ADDRESS = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@([A-Za-z0-9.-]+)\Z")


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    """The normal form of a domain email-validator accepts, else None (the whole address then goes to it, for
    its reason)."""
    try:
        return _validated(f"a@{domain}").rpartition("@")[2]
    except BadAddress:
        return None


def parse_mailbox(text: str, what: str) -> Address:
    """``"Campaign <alerts@example.org>"`` -> an Address; the display name may not carry line breaks."""
    check_header_value(text, what)
    name, addr = parseaddr(text)
    if not addr:
        raise BadAddress(f"{what} {text!r} is not an address such as \"Campaign <alerts@example.org>\"")
    email = normalise_email(addr)
    local, _, domain = email.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def recipient(email: str, name: str | None) -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=check_header_value(name or "", "the name"), username=local, domain=domain)


def scrub(text: str, email: str) -> str:
    """``text`` with every spelling of ``email`` masked: mail servers quote the address in their replies
    (``550 5.1.1 <jane@example.org>: Recipient address rejected``), and those replies go into log lines."""
    return re.sub(re.escape(email), mask(email), text, flags=re.IGNORECASE) if email else text


def mask(email: str) -> str:
    """``jane.doe@example.org`` -> ``j***@example.org``: for logs, which never carry whole addresses."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
