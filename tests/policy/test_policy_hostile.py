"""Issue 13 in the policy pack: world-open measured as address space (the same guard as
adminCidrs), and the user-data scanner opening packed archives and knowing token shapes."""

from __future__ import annotations

import base64
import gzip
import io
import os
import tarfile

import pytest

import launchpad_policies as lp
from launchpad_policies import check_resources
from launchpad.render.bootstrap import render
from launchpad.settings import validate


def _sg(*ingress: dict) -> dict:
    return {"description": "web", "ingress": list(ingress),
            "egress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}]}


def _ssh(*cidrs: str, v6: tuple[str, ...] = ()) -> dict:
    return {"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": list(cidrs), "ipv6CidrBlocks": list(v6)}


@pytest.mark.parametrize("ingress", [
    [_ssh("0.0.0.0/1", "128.0.0.0/1")],                     # halves in one rule
    [_ssh("0.0.0.0/1"), _ssh("128.0.0.0/1")],               # halves across rules
    [_ssh(v6=("::/1", "8000::/1"))],
    [_ssh(v6=("::ffff:0:0/96",))],                          # every IPv4 address, written as IPv6
    [_ssh("11.0.0.0/8")],
], ids=["v4-halves", "v4-halves-across-rules", "v6-halves", "v4-mapped", "slash-8"])
def test_world_equivalent_ssh_is_refused(ingress: list[dict]) -> None:
    violations = check_resources([(lp.SECURITY_GROUP, "sg", _sg(*ingress))])
    assert any(v.policy == "ssh-not-open-to-world" and "of all public IPv" in v.message for v in violations), violations


def test_do_firewall_halves_are_refused() -> None:
    rules = [{"protocol": "tcp", "portRange": "22", "sourceAddresses": ["0.0.0.0/1"]},
             {"protocol": "tcp", "portRange": "22", "sourceAddresses": ["128.0.0.0/1"]}]
    violations = check_resources([(lp.DO_FIREWALL, "fw", {"inboundRules": rules, "dropletIds": [1.0]})])
    assert any(v.policy == "ssh-not-open-to-world" for v in violations), violations


def test_admin_sized_ssh_passes() -> None:
    violations = check_resources([(lp.SECURITY_GROUP, "sg", _sg(_ssh("203.0.113.0/24", v6=("2001:db8::/48",))))])
    assert not [v for v in violations if v.policy in ("ssh-not-open-to-world", "world-open-only-web")]


def _tar_b64(files: dict[str, str]) -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return base64.b64encode(buf.getvalue()).decode()


def _droplet(user_data: str) -> dict:
    return {"image": "debian-12-x64", "size": "s-1vcpu-1gb", "region": "fra1", "sshKeys": ["k"], "tags": ["w"],
            "userData": user_data}


def _user_data_findings(user_data: str) -> list[str]:
    violations = check_resources([(lp.DROPLET, "web", _droplet(user_data))])
    return [v.message for v in violations if v.policy == "no-secrets-in-user-data"]


def test_packed_app_is_opened_and_scanned() -> None:
    packed = _tar_b64({"./app.py": "import os\n", "./.env": "DEBUG=1\n", "./instance/config.py": "X = 1\n",
                       "./settings.py": 'STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n',
                       "./deploy/id_rsa": "not even a key\n"})
    user_data = f"#cloud-config\nwrite_files:\n  - path: /var/lib/launchpad/app.tar.gz\n    encoding: b64\n    content: {packed}\n"
    found = "\n".join(_user_data_findings(user_data))
    assert "packs .env" in found and "instance/" in found and "packs deploy/id_rsa" in found
    assert "member ./settings.py line 1 contains a Stripe secret key" in found
    assert "app.py" not in found


def test_base64_payload_in_a_script_is_opened() -> None:
    packed = _tar_b64({"./.env.production": "X=1\n", "./pad.txt": os.urandom(300).hex()})
    assert any("packs .env.production" in m for m in _user_data_findings(f"#!/bin/sh\necho {packed} | base64 -d | tar xz\n"))


@pytest.mark.parametrize("line", [
    "STRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc", "export GH=ghp_" + "a1B2" * 9,
    "SLACK=xoxb-1234567890-abcdefghij", "AUTH=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
])
def test_token_shapes_are_found_whatever_the_name(line: str) -> None:
    assert _user_data_findings(f"#!/bin/sh\n{line}\n"), line


def test_launchpads_own_user_data_passes() -> None:
    assert _user_data_findings(render(validate({}, "test")).user_data) == []
