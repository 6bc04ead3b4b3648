"""stacks/common.py: the outputs' URL and the hint printed when a host never gets healthy."""

from __future__ import annotations

import pulumi
import pytest

from launchpad.settings import validate
from pulumi_mocks import SSH_KEY
from stacks import common

SSH = {"launchpad:adminCidrs": ["203.0.113.7/32"], "launchpad:sshKeys": [SSH_KEY]}


@pytest.mark.parametrize("config, expected", [
    ({}, "http://192.0.2.1/"),
    ({"launchpad:domain": "rocket.example.com"}, "http://rocket.example.com/"),
    ({"launchpad:domain": "rocket.example.com", "launchpad:email": "ops@example.com"}, "https://rocket.example.com/"),
])
def test_url(run, config, expected) -> None:
    settings = validate({"launchpad:provider": "aws", **config}, "test")
    program = run(lambda: common.export_outputs(settings, pulumi.Output.from_input("192.0.2.1"), None))
    assert program.outputs["url"] == expected
    assert program.outputs["public_ip"] == "192.0.2.1"
    assert "ssh" not in program.outputs and "database_host" not in program.outputs


def test_logs_hint_uses_ssh_when_open_else_the_console() -> None:
    open_ = validate({"launchpad:provider": "digitalocean", **SSH}, "test")
    closed = validate({"launchpad:provider": "digitalocean"}, "test")
    assert common.logs_hint(open_, "192.0.2.1", "the console").startswith("ssh ops@192.0.2.1 ")
    assert "journalctl -u rocket.service" in common.logs_hint(open_, "192.0.2.1", "the console")
    assert "SSH is closed" in common.logs_hint(closed, "192.0.2.1", "the console")
    assert "the console" in common.logs_hint(closed, "192.0.2.1", "the console")


def test_production_tag_only_in_production() -> None:
    assert common.aws_tags(validate({"launchpad:provider": "aws", "launchpad:production": True}, "prod"))[common.PRODUCTION_TAG] == "true"
    assert common.PRODUCTION_TAG not in common.aws_tags(validate({"launchpad:provider": "aws"}, "test"))
