"""Each escaping function, checked by the real parser of its language: sh, systemd, systemd's
env-file reader, nginx, nft, YAML (and cloud-init's schema), Python."""

from __future__ import annotations

import ast
import json
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from hostile_strings import HOSTILE_STRINGS
from launchpad.safety import escape
from launchpad.safety.escape import Unrepresentable
from oracles import (condition_word, envfile_reads, need, nft_check, nginx_returns, nginx_t, sh_prints,
                     systemd_environment, systemd_verify)


def test_sh_words_mean_exactly_the_value() -> None:
    words = [escape.sh(s) for s in HOSTILE_STRINGS]
    assert sh_prints(words) == [s.encode() for s in HOSTILE_STRINGS]


def test_sh_keeps_safe_words_readable() -> None:
    assert escape.sh("ops@example.com") == "ops@example.com"
    assert escape.sh("/etc/letsencrypt/live/example.com") == "/etc/letsencrypt/live/example.com"
    assert escape.sh("a;b") == "'a;b'"


@pytest.mark.parametrize("fn", [escape.sh, escape.systemd, escape.systemd_exec, escape.envfile, escape.nginx, escape.yaml_scalar, escape.py])
def test_nul_and_lone_surrogates_are_refused_everywhere(fn) -> None:
    for bad in ("a\x00b", "\ud83d"):
        with pytest.raises(Unrepresentable):
            fn(bad)


def test_systemd_environment_values_arrive_exactly() -> None:
    names = [f"V{i}" for i in range(len(HOSTILE_STRINGS))]
    lines = [f"Environment={escape.systemd(f'{n}={s}')}" for n, s in zip(names, HOSTILE_STRINGS)]
    assert systemd_environment(lines) == [f"{n}={s}" for n, s in zip(names, HOSTILE_STRINGS)]


def test_tojson_was_not_systemd_quoting() -> None:
    """The old template's `tojson`: systemd expanded % and dropped non-BMP values (issue 13, #8)."""
    got = systemd_environment([f"Environment={json.dumps(v)}" for v in ("A=%Y", "B=😀")])
    assert not any(g in ("A=%Y", "B=😀") for g in got)
    assert systemd_environment([f"Environment={escape.systemd(v)}" for v in ("A=%Y", "B=😀")]) == ["A=%Y", "B=😀"]


def test_systemd_units_with_escaped_values_verify_clean() -> None:
    body = "".join(f"Environment={escape.systemd(f'V{i}={s}')}\n" for i, s in enumerate(HOSTILE_STRINGS))
    args = " ".join(escape.systemd_exec(s) for s in HOSTILE_STRINGS if s)
    unit = f"[Unit]\nDescription=probe\n[Service]\nType=oneshot\nExecStart=/bin/echo {args}\n{body}"
    assert systemd_verify(unit) == ""


def test_systemd_exec_doubles_dollars() -> None:
    assert escape.systemd_exec("$HOME %h") == '"$$HOME %%h"'
    assert escape.systemd("$HOME") == '"$HOME"'


def test_envfile_values_arrive_exactly_and_inject_nothing() -> None:
    values = [s for s in HOSTILE_STRINGS]
    files = [f"ID={escape.envfile(v)}\nVERSION_ID=sentinel\n" for v in values]
    checks = [[condition_word("ID", v), "ConditionOSRelease=VERSION_ID=sentinel", "ConditionOSRelease=INJECTED=1"]
              for v in values]
    # A condition word cannot state a newline, edge whitespace, an empty value or a lone '=',
    # so those values are checked for injection only.
    results = envfile_reads(files, checks)
    for value, (same, next_key, injected) in zip(values, results):
        assert next_key and not injected, value
        if "\n" not in value and "\r" not in value and value.strip() == value and value not in ("", "="):
            assert same, value
    payload = escape.envfile('x"\nINJECTED=1')
    hostile = envfile_reads([f"ID={payload}\n"], [["ConditionOSRelease=INJECTED=1"]])
    assert hostile == [[False]]


def test_nginx_strings_arrive_exactly() -> None:
    ok = [s for s in HOSTILE_STRINGS if "$" not in s and not any(ord(c) < 0x20 or ord(c) == 0x7f for c in s)]
    assert len(ok) > 20
    assert nginx_returns([escape.nginx(s) for s in ok]) == [s.encode() for s in ok]


def test_nginx_refuses_what_it_cannot_hold() -> None:
    for bad in ("$host", "a\nb", "a\rb", "\x1b", "x${y}"):
        with pytest.raises(Unrepresentable):
            escape.nginx(bad)


def test_nginx_t_accepts_every_escaped_string_as_a_location() -> None:
    ok = [s for s in HOSTILE_STRINGS if s and "$" not in s and not any(ord(c) < 0x20 or ord(c) == 0x7f for c in s)]
    locations = "".join(f"location = {escape.nginx('/' + s)} {{ return 204; }}\n" for s in ok)
    out = nginx_t(f"events {{}}\nhttp {{ access_log off; server {{ listen 127.0.0.1:1; {locations} }} }}\n")
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("good, canonical", [
    ("203.0.113.7/32", "203.0.113.7/32"), ("203.0.113.7", "203.0.113.7/32"), ("2001:DB8::/48", "2001:db8::/48"),
    ("10.0.0.0/8", "10.0.0.0/8"),
])
def test_nft_takes_canonical_networks(good: str, canonical: str) -> None:
    assert escape.nft(good) == canonical


@pytest.mark.parametrize("bad", ["::1%eth0", "::1%lo\n tcp dport 1-65535 accept", "10.0.0.1/8", "0.0.0.0/0 ", "1.2.3.4;",
                                 "1.2.3.4/32\n", "localhost", "010.0.0.1", "", "{ 1.2.3.4 }"])
def test_nft_refuses_everything_else(bad: str) -> None:
    with pytest.raises(Unrepresentable):
        escape.nft(bad)


def test_nft_rules_with_escaped_addresses_check() -> None:
    rules = "".join(f"        {'ip6' if ':' in a else 'ip'} saddr {escape.nft(a)} tcp dport 22 accept\n"
                    for a in ("203.0.113.7/32", "198.51.100.0/24", "2001:db8::/48", "2001:db8::1"))
    out = nft_check(f"table inet t {{\n    chain input {{\n        type filter hook input priority filter; policy drop;\n{rules}    }}\n}}\n")
    assert out.returncode == 0, out.stderr


def test_yaml_scalars_read_back_exactly_in_any_position() -> None:
    for s in HOSTILE_STRINGS:
        doc = f"# c\nlist:\n  - {escape.yaml_scalar(s)}\nmap: {{k: {escape.yaml_scalar(s)}}}\nplain: {escape.yaml_scalar(s)}\n"
        assert yaml.safe_load(doc) == {"list": [s], "map": {"k": s}, "plain": s}, s
    assert [escape.yaml_scalar(v) for v in (True, 5)] == ["true", "5"]


def test_yaml_blocks_read_back_exactly_and_pass_cloud_init_schema(tmp_path: Path) -> None:
    contents = [s for s in HOSTILE_STRINGS] + ["  indented first line\nthen not\n", "a\n\n\n", "x\n#not a comment\n- nor a list\n"]
    files = "".join(f"  - path: /tmp/f{i}\n    content: {escape.yaml_block(c, 6)}\n" for i, c in enumerate(contents))
    doc = f"#cloud-config\nwrite_files:\n{files}runcmd:\n  - [/bin/true]\n"
    assert [f["content"] for f in yaml.safe_load(doc)["write_files"]] == contents
    (tmp_path / "user-data").write_text(doc, encoding="utf-8")
    out = subprocess.run([need("cloud-init"), "schema", "-c", str(tmp_path / "user-data")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_yaml_block_stays_readable_for_ordinary_files() -> None:
    assert escape.yaml_block("[Unit]\nDescription=x\n", 6) == "|2\n      [Unit]\n      Description=x"


def test_python_literals_read_back_exactly() -> None:
    for s in HOSTILE_STRINGS:
        literal = escape.py(s)
        assert literal.isascii() and ast.literal_eval(literal) == s
        compile(f"x = {literal}\n", "probe", "exec")


def test_filters_register_on_a_jinja_environment() -> None:
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    escape.register(env)
    out = env.from_string("--email {{ e | sh }} {{ v | systemd }} {{ n | nft }} {{ s | yaml }} {{ h | nginx }}").render(
        e="a;b@x.io", v="A=%Y", n="203.0.113.7", s="y: n", h='a"b')
    assert out == "--email 'a;b@x.io' \"A=%%Y\" 203.0.113.7/32 \"y: n\" \"a\\\"b\""
    assert set(escape.FILTERS) >= {"sh", "systemd", "nginx", "nft", "yaml"}


def test_the_release_agents_env_files_read_back_exactly_in_systemd() -> None:
    """The agent (stdlib only, on the host) has its own copy of the env-file quoting; the same oracle."""
    import sys

    agent = Path(__file__).resolve().parents[3] / "files" / "agent"
    if not (agent / "launchpad_agent" / "rules.py").is_file():
        pytest.skip("no release agent in this tree")
    sys.path.insert(0, str(agent))
    try:
        from launchpad_agent.rules import quote_env_value  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(agent))
    values = [s for s in HOSTILE_STRINGS if not any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F or c == "\ufeff" for c in s)]
    files = [f"ID={quote_env_value(v)}\nVERSION_ID=sentinel\n" for v in values]
    checks = [[condition_word("ID", v), "ConditionOSRelease=VERSION_ID=sentinel", "ConditionOSRelease=INJECTED=1"] for v in values]
    for value, (same, next_key, injected) in zip(values, envfile_reads(files, checks)):
        assert next_key and not injected, value
        if "\n" not in value and value.strip() == value and value not in ("", "="):
            assert same, value
    assert all(quote_env_value(v) == escape.envfile(v) for v in values)
