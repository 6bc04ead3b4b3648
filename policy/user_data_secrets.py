"""Find credentials in user-data (cloud-config, shell, MIME multipart, base64, gzip) without quoting them.

Pure functions over text, used by the no-secrets-in-user-data policy (CKV_AWS_46). A line that only
refers to a secret (`PGPASSWORD="$(cat /run/...)"`, `{{ template }}`, `os.environ[...]`) is fine; a
line that holds one (`PGPASSWORD=hunter2`, `postgres://app:pw@db`, a PEM private key, an AWS or
DigitalOcean token) is a finding.
"""

from __future__ import annotations

import base64
import binascii
import email
import gzip
import re
import zlib
from dataclasses import dataclass

from launchpad.safety.secrets import known_shape


_SECRET_KEY_WORDS = (
    r"pass(?:word|wd|phrase)|secret|secret[_-]?key|secret[_-]?access[_-]?key|client[_-]?secret"
    r"|token|api[_-]?key|apikey|private[_-]?key")
_ASSIGNMENT = re.compile(
    rf"(?<![\w.-])(?P<key>[\w.-]*?(?:{_SECRET_KEY_WORDS}))(?![\w-])[\"']?\s*[:=]\s*(?P<rest>.*)",
    re.IGNORECASE)
_SQL_PASSWORD = re.compile(r"\b(?:PASSWORD|IDENTIFIED\s+BY)\s+'(?P<value>[^']*)'", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"\b(?P<scheme>[a-z][a-z0-9+.-]*)://[^\s:/@'\"]+:(?P<value>[^\s@/'\"]+)@",
                              re.IGNORECASE)
_TOKEN_PATTERNS = (
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"), "contains a private key (PEM block)"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "contains an AWS access key id"),
    (re.compile(r"\baws_secret_access_key\b\s*[=:]\s*[\"']?[A-Za-z0-9/+=]{40}\b", re.IGNORECASE),
     "contains an AWS secret access key"),
    (re.compile(r"\bdo[por]_v1_[a-f0-9]{64}\b"), "contains a DigitalOcean API token"),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b"), "contains a GitHub token"),
)
# A value starting like this is read at run time or is no value at all:
# $VAR, $(cat file), `cmd`, {{ template }}, <placeholder>, /path/to/file, @file, --flag, !yaml-tag, {mapping}
_REFERENCE_PREFIXES = ("$", "`", "{", "%(", "<", "/", "@", "-", "=", "!", "|", ">", "~")
_NOT_SECRETS = frozenset({
    "true", "false", "yes", "no", "on", "off", "null", "none", "nil", "required", "optional",
    # type annotations such as `password: str`
    "str", "string", "bytes", "secretstr", "secretbytes", "optional[str]",
})
_CALL_OR_SUBSCRIPT = re.compile(r"[A-Za-z_][\w.]*\s*[(\[]")
_PLACEHOLDER = re.compile(r"[.*xX•#_-]+")


def _literal_value(rest: str) -> str | None:
    """The literal a `key = rest` assignment holds, or None if it holds no literal."""
    rest = rest.strip()
    if not rest:
        return None
    if rest[0] in "\"'":
        end = rest.find(rest[0], 1)
        value = rest[1:end] if end != -1 else rest[1:]
    elif _CALL_OR_SUBSCRIPT.match(rest):
        return None  # open(...).read(), os.environ["X"], getpass(): read at run time
    else:
        value = re.split(r"[\s;,&)\]}]", rest, maxsplit=1)[0]
    return value if _is_literal(value) else None


def _is_literal(value: str) -> bool:
    value = value.strip()
    if not value or value.startswith(_REFERENCE_PREFIXES) or _PLACEHOLDER.fullmatch(value):
        return False
    return value.lower() not in _NOT_SECRETS


@dataclass(frozen=True)
class SecretFinding:
    line: int
    """1-based line number in the (decoded) document."""
    what: str
    """What was found, naming the key but never the secret itself."""


def find_secrets(text: str) -> list[SecretFinding]:
    """Lines of `text` that carry a credential, at most one finding per line."""
    findings: list[SecretFinding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        what = _secret_in_line(line)
        if what is not None:
            findings.append(SecretFinding(number, what))
    return findings


# An AWS ARN names a resource (`...:secretsmanager:<region>:<account>:secret:<name>`), it holds no
# value: its `secret:<name>` part is not an assignment.
_ARN = re.compile(r"\barn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(?:\d{12})?:[A-Za-z0-9_/+=.@!:-]+")


# The one credential user-data carries by design: DigitalOcean's enrollment key (agent.json,
# secrets.enrollment; components/digitalocean/enroll_bucket.py). It may only read and write the
# stack's enrollment bucket, which holds public keys under a MAC, and it is no more secret than the
# enrollment value beside it: whoever reads user-data (the account, the state, root on a droplet of
# the stack) holds everything a droplet is sealed anyway. Only a line that is exactly that JSON
# member passes; the same value anywhere else is still a finding.
_ENROLLMENT_KEY = re.compile(r'\s*"enrollment_key_(?:id|secret)": "[A-Za-z0-9/+=_-]*",?\s*')


def _secret_in_line(line: str) -> str | None:
    if _ENROLLMENT_KEY.fullmatch(line):
        return None
    line = _ARN.sub("<arn>", line)
    for pattern, what in _TOKEN_PATTERNS:
        if pattern.search(line):
            return what
    # Credential formats by value shape (Stripe, GitHub, Slack, Google, JWT, ...): launchpad/safety/secrets.py.
    shape = known_shape(line)
    if shape is not None and "URL" not in shape:
        return f"contains {shape}"
    for match in _URL_CREDENTIALS.finditer(line):
        if _is_literal(match["value"]):
            return f"contains credentials in a {match['scheme']}:// URL"
    for match in _SQL_PASSWORD.finditer(line):
        if _is_literal(match["value"]):
            return "sets a literal SQL password"
    for match in _ASSIGNMENT.finditer(line):
        if match["rest"].startswith("="):
            continue  # a comparison (==), not an assignment
        if match["key"].upper() == "NOPASSWD":
            continue  # a sudoers tag ("ALL=(ALL) NOPASSWD:ALL"), not a secret
        if _literal_value(match["rest"]) is not None:
            return f"assigns a literal value to {match['key']}"
    return None


def user_data_documents(text: str) -> list[tuple[str, str]]:
    """(label, text) of every part of user-data: the text itself, or each part of a MIME multipart."""
    if not re.match(r"(?i)\s*(content-type:\s*multipart|mime-version:)", text):
        return [("", text)]
    documents: list[tuple[str, str]] = []
    message = email.message_from_string(text)
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else str(part.get_payload()).encode()
        label = f"MIME part {index} ({part.get_content_type()})"
        try:
            documents.append((label, _maybe_gunzip(data).decode("utf-8", errors="replace")))
        except (OSError, EOFError, zlib.error):
            documents.append((label, data.decode("utf-8", errors="replace")))
    return documents


def _maybe_gunzip(data: bytes) -> bytes:
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def decode_user_data_base64(value: str) -> str:
    """The text behind `userDataBase64` (base64, optionally gzip). Raises ValueError if it is neither."""
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"is not valid base64 ({error})") from error
    try:
        data = _maybe_gunzip(data)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"starts like gzip but does not decompress ({error})") from error
    return data.decode("utf-8", errors="replace")
