"""A minimal PostgreSQL client (stdlib only): connect by URL, run one simple query, report errors.

The agent uses it for the database steps of a release (launchpad_agent/database.py): the
grants that let the app's user create its tables, and the health check that proves it can.
The host has no psql and the app's own driver is the app's business, so this speaks the
protocol (v3) itself: TLS as `sslmode` asks (disable, allow/prefer, require; verify-ca and
verify-full check the certificate against the system's CAs), SCRAM-SHA-256, MD5 or
cleartext password authentication, and the simple query protocol. Credentials never
leave this process (no command line, no environment of a child).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import urllib.parse
from dataclasses import dataclass

SSL_REQUEST = 80877103
PROTOCOL = 196608  # 3.0


class PgError(Exception):
    """The server refused (fields from its ErrorResponse), or the connection failed."""

    def __init__(self, message: str, code: str = "", severity: str = "ERROR"):
        super().__init__(message)
        self.code, self.severity = code, severity


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    user: str
    password: str
    database: str
    sslmode: str

    @classmethod
    def from_url(cls, url: str) -> Target:
        """postgresql://user:password@host:port/db?sslmode=... (postgres:// too), percent-decoded."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise PgError(f"not a postgresql:// URL with a host (scheme {parts.scheme!r})")
        query = urllib.parse.parse_qs(parts.query)
        return cls(host=parts.hostname, port=parts.port or 5432, user=urllib.parse.unquote(parts.username or ""),
                   password=urllib.parse.unquote(parts.password or ""),
                   database=urllib.parse.unquote(parts.path.lstrip("/")) or urllib.parse.unquote(parts.username or ""),
                   sslmode=(query.get("sslmode") or ["prefer"])[0])

    def describe(self) -> str:
        """Where, without the password: for messages."""
        return f"{self.user}@{self.host}:{self.port}/{self.database}"


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def _cstr(text: str) -> bytes:
    return text.encode() + b"\0"


class Connection:
    def __init__(self, target: Target, timeout: float = 15.0):
        self.target = target
        raw = socket.create_connection((target.host, target.port), timeout=timeout)
        self.sock: socket.socket = self._maybe_tls(raw)
        self._startup()

    # -- wire
    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise PgError(f"{self.target.describe()}: the server closed the connection")
            data += chunk
        return data

    def _read(self) -> tuple[bytes, bytes]:
        kind = self._recv_exact(1)
        (length,) = struct.unpack("!I", self._recv_exact(4))
        return kind, self._recv_exact(length - 4)

    def _maybe_tls(self, raw: socket.socket) -> socket.socket:
        mode = self.target.sslmode
        if mode == "disable":
            return raw
        raw.sendall(struct.pack("!II", 8, SSL_REQUEST))
        answer = raw.recv(1)
        if answer != b"S":
            if mode in ("require", "verify-ca", "verify-full"):
                raise PgError(f"{self.target.describe()}: sslmode={mode}, but the server does not offer TLS")
            return raw
        context = ssl.create_default_context()
        if mode not in ("verify-ca", "verify-full"):
            # libpq's `require`: encrypted, the certificate not checked.
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        elif mode == "verify-ca":
            context.check_hostname = False
        return context.wrap_socket(raw, server_hostname=self.target.host)

    def _startup(self) -> None:
        params = _cstr("user") + _cstr(self.target.user) + _cstr("database") + _cstr(self.target.database)
        params += _cstr("application_name") + _cstr("launchpad-agent") + b"\0"
        body = struct.pack("!I", PROTOCOL) + params
        self.sock.sendall(struct.pack("!I", len(body) + 4) + body)
        scram: _Scram | None = None
        while True:
            kind, body = self._read()
            if kind == b"E":
                raise _error(body, self.target)
            if kind == b"R":
                (code,) = struct.unpack("!I", body[:4])
                if code == 0:
                    continue
                if code == 3:  # cleartext
                    self.sock.sendall(_message(b"p", _cstr(self.target.password)))
                elif code == 5:  # md5
                    inner = hashlib.md5((self.target.password + self.target.user).encode(), usedforsecurity=False).hexdigest()
                    outer = hashlib.md5(inner.encode() + body[4:8], usedforsecurity=False).hexdigest()
                    self.sock.sendall(_message(b"p", _cstr("md5" + outer)))
                elif code == 10:  # SASL: mechanisms offered
                    if b"SCRAM-SHA-256" not in body[4:].split(b"\0"):
                        raise PgError(f"{self.target.describe()}: the server offers no SCRAM-SHA-256")
                    scram = _Scram(self.target.password)
                    first = scram.client_first().encode()
                    self.sock.sendall(_message(b"p", _cstr("SCRAM-SHA-256") + struct.pack("!I", len(first)) + first))
                elif code == 11 and scram is not None:  # SASL continue
                    self.sock.sendall(_message(b"p", scram.client_final(body[4:].decode()).encode()))
                elif code == 12 and scram is not None:  # SASL final
                    scram.verify_server(body[4:].decode())
                else:
                    raise PgError(f"{self.target.describe()}: authentication method {code} is not supported")
            elif kind == b"Z":
                return
            # S (parameter status), K (backend key), N (notice): nothing to do.

    # -- use
    def execute(self, sql: str) -> None:
        """Runs `sql` (one or more statements) with the simple query protocol; raises PgError on an error."""
        self.sock.sendall(_message(b"Q", _cstr(sql)))
        error: PgError | None = None
        while True:
            kind, body = self._read()
            if kind == b"E":
                error = _error(body, self.target)
            elif kind == b"Z":
                if error is not None:
                    raise error
                return

    def close(self) -> None:
        try:
            self.sock.sendall(_message(b"X", b""))
        except OSError:
            pass
        self.sock.close()


def run(url: str, sql: str, timeout: float = 15.0) -> None:
    """Connects, runs `sql`, disconnects. PgError (refusal or connection failure) otherwise."""
    target = Target.from_url(url)
    try:
        conn = Connection(target, timeout)
    except (OSError, ssl.SSLError) as err:
        raise PgError(f"{target.describe()}: cannot connect: {err}") from None
    try:
        conn.execute(sql)
    finally:
        conn.close()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A string constant (standard_conforming_strings is on since 9.1: only ' is doubled)."""
    if "\0" in text:
        raise PgError("a NUL character cannot be sent in a query")
    return "'" + text.replace("'", "''") + "'"


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = 4096) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password, computed here: `ALTER ROLE ... PASSWORD
    '<verifier>'` is stored as it is, so the password itself never reaches the server (nor its
    statement log). ASCII passwords need no SASLprep (the stack's are letters and digits)."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def url(user: str, password: str, host: str, port: int, database: str, sslmode: str | None) -> str:
    """postgresql://user:password@host:port/database?sslmode=..., each part percent-quoted
    (the deployer's launchpad/database_url.py builds the same shape)."""
    q = lambda text: urllib.parse.quote(str(text), safe="")  # noqa: E731
    address = f"[{host}]" if ":" in host else host
    base = f"postgresql://{q(user)}:{q(password)}@{address}:{int(port)}/{q(database)}"
    return f"{base}?sslmode={q(sslmode)}" if sslmode else base


def _error(body: bytes, target: Target) -> PgError:
    fields = {chunk[:1].decode(): chunk[1:].decode(errors="replace") for chunk in body.split(b"\0") if chunk}
    return PgError(f"{target.describe()}: {fields.get('S', 'ERROR')}: {fields.get('M', 'error')}",
                   fields.get("C", ""), fields.get("S", "ERROR"))


class _Scram:
    """RFC 5802/7677 client side, without channel binding (as libpq with channel_binding=prefer over no TLS)."""

    def __init__(self, password: str):
        self.password = password.encode()
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n=,r={self.nonce}"
        self.server_signature = b""

    def client_first(self) -> str:
        return "n,," + self.first_bare

    def client_final(self, server_first: str) -> str:
        attrs = dict(item.split("=", 1) for item in server_first.split(","))
        if not attrs["r"].startswith(self.nonce):
            raise PgError("SCRAM: the server's nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac("sha256", self.password, base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        without_proof = f"c=biws,r={attrs['r']}"
        auth = f"{self.first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        self.server_signature = hmac.new(server_key, auth, hashlib.sha256).digest()
        return f"{without_proof},p={base64.b64encode(proof).decode()}"

    def verify_server(self, server_final: str) -> None:
        attrs = dict(item.split("=", 1) for item in server_final.split(","))
        if "v" not in attrs or not hmac.compare_digest(base64.b64decode(attrs["v"]), self.server_signature):
            raise PgError("SCRAM: the server did not prove it knows the password")
