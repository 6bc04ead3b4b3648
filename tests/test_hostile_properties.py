"""Property-based: hostile strings for every string-typed key, through validation and rendering.

For each key Hypothesis generates hostile text (shell, systemd, nginx, YAML and nft
metacharacters, newlines, NUL, non-BMP and format characters, and valid values with such
text spliced in). Each example must either be rejected with a problem naming the key, or
render a tree that passes cloud-init schema, nginx -t, systemd-analyze verify, nft -c (in a
scratch namespace) and sh -n, in which the value appears only in its escaped form. The
validators run once per accepted tree, after generation, so the runtime stays bounded
(derandomized: CI sees the same examples every run).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_strings import HOSTILE_STRINGS
from launchpad.safety.escape import sh, yaml_scalar
from launchpad.settings import AppSettings, ConfigError, validate
from render_checks import Tree, can_validate, tree_of, validate_trees

NS = "launchpad:"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 ops@laptop"
TLS = {NS + "domain": "example.com", NS + "email": "ops@example.com", NS + "acmeServer": "https://acme.test/dir"}
EXAMPLES = 40
# What an allow-listed value may hold once accepted: nothing any target language treats specially.
INERT = re.compile(r"[A-Za-z0-9._:@/+-]*")

METACHARACTERS = list("$`'\"\\;|&<>(){}[]*?!#~%\n\r\t =:,@/.-_+") + [
    "\x00", "\x1b", "\x7f", "\u2028", "\x85", "é", "😀", "\ufeff", "\u200b", "%Y", "$(id)", "${HOME}", "\n- x: y"]


@dataclass(frozen=True)
class Key:
    name: str                                   # as in problems: "app.env.X", "adminCidrs"
    valid: tuple[str, ...]                      # values that are accepted as they are
    config: Callable[[str], dict[str, Any]]     # the config holding the value
    escaped: Callable[[str], str] | None = None  # its escaped form, for keys that escape
    needs: str | None = None                    # AppSettings field (issue 10) it needs
    absent: bool = False                        # travels in the release manifest, never in the host tree


def _app(field: str) -> Callable[[str], dict[str, Any]]:
    return lambda v: {NS + "app": {field: v}}


KEYS = [
    Key("domain", ("example.com", "rocket.test"), lambda v: {NS + "domain": v}),
    Key("email", ("ops@example.com",), lambda v: {**TLS, NS + "email": v}, sh),
    Key("acmeServer", ("https://acme.test/dir",), lambda v: {**TLS, NS + "acmeServer": v}, sh),
    Key("app.module", ("rocket:app",), _app("module")),
    Key("app.name", ("rocket", "my-app"), _app("name")),
    Key("app.env", ("DEBUG", "LOG_LEVEL"), lambda v: {NS + "app": {"env": {v: "1"}}}),
    Key("app.env.VALUE", ("hello", "%Y-%m-%d"), lambda v: {NS + "app": {"env": {"VALUE": v}}}, absent=True),
    Key("database.name", ("app", "journal_db"), lambda v: {NS + "database": {"enabled": True, "name": v}}),
    Key("database.version", ("15",), lambda v: {NS + "database": {"enabled": True, "version": v}}),
    Key("region", ("local",), lambda v: {NS + "region": v}),
    Key("size", ("local",), lambda v: {NS + "size": v}),
    Key("adminCidrs", ("203.0.113.7/32", "2001:db8::/48"), lambda v: {NS + "adminCidrs": [v], NS + "sshKeys": [KEY]}),
    Key("sshKeys", (KEY,), lambda v: {NS + "sshKeys": [v]}, lambda v: yaml_scalar(v.strip())),
    Key("app.release", ("flask db upgrade",), _app("release"), None, "release", absent=True),
    Key("app.healthPath", ("/healthz",), _app("healthPath"), None, "health_path"),
    Key("app.static", ("/static/",), lambda v: {NS + "app": {"static": {v: "static"}}}, None, "static"),
    Key("app.secrets", ("SECRET_KEY",), lambda v: {NS + "app": {"secrets": {v: {"secure": "AAAA"}}}}, None, "secrets",
        absent=True),
]

hostile_text = st.lists(st.one_of(st.sampled_from(METACHARACTERS), st.characters(codec="utf-8")), max_size=12).map("".join)


def hostile(key: Key) -> st.SearchStrategy[str]:
    def splice(valid: str, junk: str, at: int) -> str:
        at = at % (len(valid) + 1)
        return valid[:at] + junk + valid[at:]

    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        hostile_text,
        st.builds(splice, st.sampled_from(key.valid), hostile_text, st.integers(0, 64)),
        st.sampled_from(key.valid).map(lambda v: v + "\n"),
    )


def _names(key: str, problems: list[Any]) -> bool:
    return any(p.key == key or p.key.startswith((key + ".", key + "[")) for p in problems)


def run_key(key: Key) -> tuple[list[tuple[str, Tree]], dict[str, int]]:
    """Generates the examples; returns the accepted (value, tree) pairs and the outcome counts."""
    accepted: list[tuple[str, Tree]] = []
    counts = {"rejected": 0, "accepted": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(hostile(key))
    def example(value: str) -> None:
        try:
            s = validate(key.config(value), "hostile")
        except ConfigError as err:
            assert _names(key.name, err.problems), f"{value!r} refused without naming {key.name}: {err}"
            counts["rejected"] += 1
            return
        tree = tree_of(f"{key.name}={value!r}", s)
        texts = {"user-data": tree.user_data, **tree.files}
        if key.absent:
            if not INERT.fullmatch(value) and len(value) > 3:
                stray = [p for p, t in texts.items() if value in t]
                assert not stray, f"{value!r} appears in the host tree: {stray}"
        elif key.escaped is None:
            assert INERT.fullmatch(value), f"{key.name}: {value!r} accepted, but it is neither escaped nor inert"
        elif not INERT.fullmatch(value):
            form = key.escaped(value)
            assert any(form in t for t in texts.values()), f"{form!r} is in no rendered file"
            stray = [p for p, t in texts.items() if value in t.replace(form, "")]
            assert not stray, f"{value!r} appears unescaped in {stray}"
        counts["accepted"] += 1
        accepted.append((value, tree))

    example()
    return accepted, counts


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_hostile_values_are_refused_or_escaped(key: Key) -> None:
    if key.needs and key.needs not in AppSettings.model_fields:
        pytest.skip(f"needs app.{key.name.split('.', 1)[1]} (issue 10)")
    reason = can_validate()
    if reason:
        pytest.skip(reason)
    accepted, counts = run_key(key)
    # Validate each distinct tree once (many hostile values render the same tree: inert keys).
    unique = {t.user_data: t for _, t in accepted}
    results = validate_trees(unique.values())
    broken = {label: problems for label, problems in results.items() if problems}
    assert not broken, "\n".join(f"{label}: {'; '.join(p)}" for label, p in broken.items())
    print(f"{key.name}: {counts['rejected']} rejected naming the key, {counts['accepted']} accepted "
          f"({len(unique)} distinct trees validated)")
