"""A malformed `Pulumi.<stack>.yaml`: one problem naming file, line and column, never a traceback (issue 12, item 9)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from launchpad.cli import app
from launchpad.cli import common
from launchpad.settings import ConfigError, load_from_file

CASES = [
    pytest.param("config:\n  launchpad:provider: aws\n    launchpad:size: t3.small\n",
                 "Pulumi.bad.yaml:3:19: not valid YAML: mapping values are not allowed here",
                 "    launchpad:size: t3.small\n" + " " * 24 + "^", id="indented-too-far"),
    pytest.param("config:\n\tlaunchpad:provider: aws\n",
                 "Pulumi.bad.yaml:2:1: not valid YAML: found character '\\t' that cannot start any token",
                 "\tlaunchpad:provider: aws", id="tab"),
    pytest.param('config:\n  launchpad:domain: "example.com\n  launchpad:provider: aws\n',
                 "Pulumi.bad.yaml:2:21: not valid YAML: found unexpected end of stream (while scanning a quoted scalar that starts here)",
                 '  launchpad:domain: "example.com', id="unclosed-quote"),
    pytest.param("config:\n  launchpad:adminCidrs: [203.0.113.7/32\n",
                 "Pulumi.bad.yaml:2:25: not valid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence that starts here)",
                 "  launchpad:adminCidrs: [203.0.113.7/32", id="unclosed-bracket"),
    pytest.param("config:\n  launchpad:provider: aws\x07\n",
                 "Pulumi.bad.yaml:2:26: not valid YAML: character #x0007 is not allowed", "", id="control-character"),
    pytest.param("- launchpad:provider: aws\n",
                 "Pulumi.bad.yaml: must be a mapping with a 'config' key, not a list", "", id="not-a-mapping"),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, where, shown", CASES)
def test_a_malformed_stack_file_is_one_problem_at_file_line_column(tmp_path: Path, text: str, where: str, shown: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_from_file("bad", tmp_path)
    assert len(caught.value.problems) == 1
    message = str(caught.value)
    assert message.startswith("Stack 'bad' configuration has 1 problem:\n  - " + where), message
    assert shown in message
    assert caught.value.__context__ is None or caught.value.__suppress_context__, "the YAML error must not chain in"


def test_the_caret_stands_under_the_column(tmp_path: Path) -> None:
    write(tmp_path, "config:\n  launchpad:provider: aws\n    launchpad:size: t3.small\n")
    with pytest.raises(ConfigError) as caught:
        load_from_file("bad", tmp_path)
    *_, line, caret = str(caught.value).splitlines()
    assert line.strip() == "launchpad:size: t3.small" and line[caret.index("^")] == ":"


def test_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.bad.yaml").write_bytes(b"config:\n  launchpad:domain: caf\xe9.example\n")
    with pytest.raises(ConfigError, match=r"Pulumi.bad.yaml:2:24: is not UTF-8 text: byte 0xe9 \(invalid continuation byte\)"):
        load_from_file("bad", tmp_path)


def test_the_cli_prints_it_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "config:\n  launchpad:provider: aws\n    launchpad:size: t3.small\n")
    monkeypatch.setattr(common, "load_from_file", lambda stack: load_from_file(stack, tmp_path))
    result = CliRunner().invoke(app, ["render", "--stack", "bad", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[:2] == [
        "Stack 'bad' configuration has 1 problem:",
        "  - Pulumi.bad.yaml:3:19: not valid YAML: mapping values are not allowed here",
    ]
    assert result.stdout == ""
