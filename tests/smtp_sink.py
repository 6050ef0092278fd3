"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the tests, with faults a test can switch on."""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class SinkState:
    messages: list = field(default_factory=list)  # (envelope_to, email.message.EmailMessage)
    drop_on_data: set[int] = field(default_factory=set)  # the Nth DATA (1-based) loses its connection
    reject: dict[str, str] = field(default_factory=dict)  # address -> reply for RCPT TO
    data_reply: str | None = None  # e.g. "451 4.3.0 try later": every DATA answered so
    mail_reply: str | None = None  # e.g. "421 4.3.2 Service not available": every MAIL FROM answered so
    data_delay_s: float = 0.0  # every DATA waits this long before it is accepted (a slow server)
    data_count: int = 0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if rcpt == address]


class _Authenticator:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"alerts" and auth_data.password == b"s3cret"
        return AuthResult(success=ok)


class _Handler:
    def __init__(self, state: SinkState):
        self.state = state

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.state.lock:
            self.state.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.state.mail_reply
        if reply:
            if reply.startswith("421"):  # RFC 5321: 421 ends the session, once the reply is out
                asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

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
        if self.state.data_delay_s:
            await asyncio.sleep(self.state.data_delay_s)
        msg = email.message_from_bytes(envelope.content, policy=default)
        with self.state.lock:
            for rcpt in envelope.rcpt_tos:
                self.state.messages.append((rcpt, msg))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_context(folder) -> ssl.SSLContext:
    """A server TLS context with a throwaway certificate for 127.0.0.1."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


class SmtpSink:
    """``tls="starttls"`` requires STARTTLS and AUTH (user ``alerts``, password ``s3cret``);
    ``tls="implicit"`` speaks TLS from the first byte."""

    def __init__(self, port: int | None = None, tls: str | None = None, context: ssl.SSLContext | None = None):
        self.state = SinkState()
        self.port = port or free_port()
        self.tls = tls
        kwargs = {}
        if tls == "starttls":
            kwargs = dict(tls_context=context, require_starttls=True, auth_required=True, auth_require_tls=True,
                          authenticator=_Authenticator())
        elif tls == "implicit":
            kwargs = dict(ssl_context=context)
        self.controller = Controller(_Handler(self.state), hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        if self.tls == "starttls":
            return f"smtp://alerts:s3cret@127.0.0.1:{self.port}?starttls=true&verify=false"
        if self.tls == "implicit":
            return f"smtps://127.0.0.1:{self.port}?verify=false"
        return f"smtp://127.0.0.1:{self.port}"
