"""One escaping function per language Launchpad renders, and the Jinja2 filters that apply them.

A config value that reaches a rendered file goes through the function for THAT file's
language, or is refused with `Unrepresentable` when the language cannot hold it. Each
function returns a complete token (quotes included), so a template writes
`--email {{ email | sh }}`, never `'{{ email }}'`.

    sh            POSIX shell word                      shlex.quote
    systemd       a quoted word in a unit file          "...", C escapes, % -> %% (no $ expansion:
                                                        Environment=, Description-like words)
    systemd_exec  a quoted word in ExecStart= and co.   as systemd, and $ -> $$
    envfile       a value in an EnvironmentFile=        "...", backslash before \\ " ` $
    nginx         an nginx string                       "...", \\ and \" escaped; $ and control
                                                        characters refused (nginx has no escape
                                                        for $: it would interpolate a variable)
    nft           an nftables address or prefix         allow-list: a canonical IP network only
    yaml          a YAML scalar                         yaml.safe_dump, checked by reading it back
    yaml_block    a YAML block scalar (file contents)   literal block with explicit indentation,
                                                        or a double-quoted scalar when a literal
                                                        block cannot hold the text
    py            a Python literal                      ascii() of str/int/bool/None

What systemd can hold was measured on systemd 252 (`systemd --test --user` dumps the parsed
unit; tests/launchpad/safety/test_escape.py does the same): NUL is refused outright, invalid
UTF-8 (JSON's surrogate-pair escapes of non-BMP characters, `tojson`'s output) makes it drop
the assignment, a raw CR ends the line. `\\xNN`, `\\uXXXX` and `\\UXXXXXXXX` escapes are read.
"""

from __future__ import annotations

import shlex
import textwrap
from collections.abc import Callable
from typing import Any

import yaml

from launchpad.safety import cidr


class Unrepresentable(ValueError):
    """A value the target language cannot hold safely; the message names the language and why."""


def _text(value: Any, language: str) -> str:
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int)):
        raise Unrepresentable(f"{value!r}: {language} takes text or an integer, not {type(value).__name__}")
    text = str(value)
    if "\x00" in text:
        raise Unrepresentable(f"{text!r}: {language} cannot hold a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise Unrepresentable(f"{text!r}: not valid Unicode text ({err.reason}); {language} needs UTF-8") from None
    return text


def sh(value: Any) -> str:
    """A single POSIX shell word meaning exactly `value`: no expansion, splitting or globbing."""
    return shlex.quote(_text(value, "a shell word"))


def _c_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "%":
            out.append("%%")  # a specifier otherwise (%Y is the unit's directory)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch.isprintable() and ch != "\x7f":
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")  # CR, other controls: raw, a CR would end the line
        elif ord(ch) < 0x100:
            out.append(f"\\u{ord(ch):04x}")  # \xNN would be a raw byte, invalid UTF-8 on its own
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")  # line/paragraph separators, format characters
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def systemd(value: Any) -> str:
    """One double-quoted word for a unit setting that does not expand $VARIABLES (Environment=)."""
    return f'"{_c_escape(_text(value, "a systemd unit"))}"'


def systemd_exec(value: Any) -> str:
    """One double-quoted argument for ExecStart= and co., which also expand $VAR: $ becomes $$."""
    return f'"{_c_escape(_text(value, "a systemd command line")).replace("$", "$$")}"'


def envfile(value: Any) -> str:
    """The value side of a NAME=value line in a file systemd reads with EnvironmentFile=.

    systemd's env-file parser (src/basic/env-file.c) keeps everything inside double quotes,
    newlines included, and unescapes a backslash before one of \\ " ` $.
    """
    text = _text(value, "an environment file")
    for ch in ("\\", '"', "`", "$"):
        text = text.replace(ch, "\\" + ch)
    return f'"{text}"'


def nginx(value: Any) -> str:
    """An nginx string argument. nginx cannot escape `$` (it would name a variable), so refuse it,
    and control characters (a newline in a header or a path is an injection, not data)."""
    text = _text(value, "nginx")
    if "$" in text:
        raise Unrepresentable(f"{text!r}: nginx reads '$' as a variable and has no escape for it")
    bad = [ch for ch in text if ord(ch) < 0x20 or ord(ch) == 0x7f]
    if bad:
        raise Unrepresentable(f"{text!r}: nginx strings here must not hold control characters ({bad[0]!r})")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def nft(value: Any) -> str:
    """An IPv4/IPv6 address or network for an nftables rule, in canonical form; anything else refused."""
    text = _text(value, "nftables")
    try:
        return str(cidr.parse_network(text))
    except ValueError as err:
        raise Unrepresentable(f"{text!r}: nftables takes only an address or network here ({err})") from None


def yaml_scalar(value: Any) -> str:
    """A YAML scalar (flow, one line) meaning exactly `value`; strings are always double-quoted."""
    if isinstance(value, bool) or isinstance(value, int):
        return "true" if value is True else "false" if value is False else str(value)
    text = _text(value, "YAML")
    out = yaml.safe_dump(text, default_style='"', width=float("inf"), allow_unicode=False).rstrip("\n")
    if "\n" in out or yaml.safe_load(out) != text:
        raise Unrepresentable(f"{text!r}: does not survive a YAML round trip")
    return out


# YAML 1.1 line breaks (besides LF) and characters a YAML stream may not hold unescaped.
_YAML_BREAKS = {"\r", "\x85", "\u2028", "\u2029"}


def _literal_ok(text: str) -> bool:
    return all(ch in "\n\t" or (ch.isprintable() and ch not in _YAML_BREAKS and ch != "\ufeff") for ch in text)


def yaml_block(value: Any, indent: int) -> str:
    """File contents as the value of a mapping key whose block lines sit `indent` columns in.

    A literal block with an explicit indentation indicator (a first line starting with
    spaces cannot shift the block) and explicit chomping (trailing newlines stay exact), or
    a double-quoted scalar when a literal block cannot hold the text. Read back before it is
    returned. Like every filter here it does not end the line: the template does.
    """
    text = _text(value, "YAML")
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    if not body or not _literal_ok(text):
        return yaml_scalar(text)
    header = "|2" + ("-" if trailing == 0 else "" if trailing == 1 else "+")
    ends = "\n" * max(trailing, 1)
    check = "k: " + header + "\n" + textwrap.indent(body, "  ", lambda line: True) + ends
    if yaml.safe_load(check) != {"k": text}:
        return yaml_scalar(text)
    return header + "\n" + textwrap.indent(body, " " * indent, lambda line: True) + ends[1:]


def py(value: Any) -> str:
    """A Python literal meaning exactly `value` (ASCII-only source)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return ascii(_text(value, "Python"))


FILTERS: dict[str, Callable[..., str]] = {
    "sh": sh,
    "systemd": systemd,
    "systemd_exec": systemd_exec,
    "envfile": envfile,
    "nginx": nginx,
    "nft": nft,
    "yaml": yaml_scalar,
    "yaml_block": yaml_block,
    "py": py,
}


def register(environment: Any) -> None:
    """Adds the escaping filters (`| sh`, `| systemd`, ...) to a Jinja2 environment."""
    environment.filters.update(FILTERS)
