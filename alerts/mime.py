"""A small, fast MIME writer for the one shape we send: multipart/alternative with a UTF-8
plain-text part and a UTF-8 HTML part, CRLF line endings, headers folded at 78 columns.

The standard library's ``EmailMessage`` with ``policy.SMTP`` re-parses and refolds
every header through its header registry: at 10,000 personalised alerts that was
most of the time spent composing. Here header values are ours, already checked for
line breaks, so they are written directly; non-ASCII values become RFC 2047 encoded
words, bodies quoted-printable (``binascii``, in C). The result parses back with
``email.message_from_bytes`` like any message (the tests read every email that way).
"""

from __future__ import annotations

import binascii
import secrets
from email.header import Header
from email.utils import formataddr

from alerts.addresses import CONTROL_CHARACTER  # a control character other than a tab (header injection)

MAX_LINE = 78


class HeaderInjection(ValueError):
    pass


_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})


def fold(name: str, value: str) -> str:
    """``Name: value`` folded at spaces (ASCII), or as encoded words (anything else).

    A line break or any other control character (a tab aside) is refused: some readers take a
    vertical tab, a form feed or a NUL as the end of a line too."""
    if CONTROL_CHARACTER.search(value):
        shown = "" if name.lower() in _ADDRESS_HEADERS else f" in {value[:60]!r}"  # no address in a log line
        raise HeaderInjection(f"header {name}: a line break or a control character{shown}")
    if not value.isascii():
        return f"{name}: " + Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    line, lines = f"{name}:", []
    for word in value.split(" "):
        if len(line) + 1 + len(word) > MAX_LINE and line.strip() and line != f"{name}:":
            lines.append(line)
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    return "\r\n".join(lines)


def mailbox(name: str | None, address: str) -> str:
    """``Jane Doe <jane@example.org>``, the name quoted or encoded as needed."""
    return formataddr((name or "", address), charset="utf-8")


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")


def alternative(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    boundary = "=_alt_" + secrets.token_hex(12)
    head = "\r\n".join(fold(n, v) for n, v in headers)
    parts = [
        head.encode("utf-8"),  # fold() left only ASCII
        b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"" + boundary.encode() + b"\"\r\n\r\n",
    ]
    for subtype, body in (("plain", text), ("html", html)):
        parts.append(b"--" + boundary.encode() + b"\r\n")
        parts.append(f"Content-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode())
        parts.append(_qp(body))
        parts.append(b"\r\n")
    parts.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(parts)


def plain(headers: list[tuple[str, str]], text: str) -> bytes:
    """A single text/plain UTF-8 part: a letter, as a person would write it."""
    head = "\r\n".join(fold(n, v) for n, v in headers)
    return b"".join([head.encode("utf-8"), b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
                     b"Content-Transfer-Encoding: quoted-printable\r\n\r\n", _qp(text), b"\r\n"])
