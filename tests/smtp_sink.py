"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the tests, with faults a test can switch on."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email.policy import default

from aiosmtpd.controller import Controller


@dataclass
class SinkState:
    messages: list = field(default_factory=list)  # (envelope_to, email.message.EmailMessage)
    drop_on_data: set[int] = field(default_factory=set)  # the Nth DATA (1-based) loses its connection
    reject: dict[str, str] = field(default_factory=dict)  # address -> reply for RCPT TO
    data_reply: str | None = None  # e.g. "451 4.3.0 try later": every DATA answered so
    data_count: int = 0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if rcpt == address]


class _Handler:
    def __init__(self, state: SinkState):
        self.state = state

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.state.lock:
            self.state.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.state.reject.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.state.lock:
            self.state.data_count += 1
            n = self.state.data_count
        if n in self.state.drop_on_data:
            server.transport.close()  # no reply: the client cannot tell whether it arrived (it did not)
            return "421 closing"
        if self.state.data_reply:
            return self.state.data_reply
        msg = email.message_from_bytes(envelope.content, policy=default)
        with self.state.lock:
            for rcpt in envelope.rcpt_tos:
                self.state.messages.append((rcpt, msg))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    def __init__(self, port: int | None = None):
        self.state = SinkState()
        self.port = port or free_port()
        self.controller = Controller(_Handler(self.state), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"
