"""The host's own nftables behind a cloud balancer (files/nftables.conf.j2, render/balanced.py web_sources):
80/443 from the balancer's range only, as the security group / cloud firewall already says; one host and the
local target (whose host enforces it) still admit anyone. Rendered, and checked by nft itself in a scratch
network namespace (`nft -c`, never loaded)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from launchpad.render.balanced import AWS_BALANCER_CIDRS
from launchpad.render.bootstrap import host_files, render_firewall
from launchpad.settings import validate

DO_VPC = "10.110.16.0/20"


def web_rules(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if "dport { 80, 443 }" in line]


@pytest.mark.parametrize("config, cidrs, expected", [
    ({"launchpad:provider": "aws", "launchpad:hosts": 3}, (),
     [f"ip saddr {c} tcp dport {{ 80, 443 }} accept" for c in AWS_BALANCER_CIDRS]),
    ({"launchpad:provider": "digitalocean", "launchpad:hosts": 2}, (DO_VPC,),
     [f"ip saddr {DO_VPC} tcp dport {{ 80, 443 }} accept"]),
    ({"launchpad:provider": "aws"}, (), ["tcp dport { 80, 443 } accept"]),
    ({"launchpad:provider": "digitalocean"}, (), ["tcp dport { 80, 443 } accept"]),
    ({"launchpad:provider": "local", "launchpad:hosts": 3}, (), ["tcp dport { 80, 443 } accept"]),
])
def test_web_ports_admit_the_balancers_range_only_behind_a_cloud_balancer(config: dict, cidrs: tuple, expected: list) -> None:
    settings = validate(config, "lb")
    assert web_rules(render_firewall(settings, cidrs)) == expected
    [nft] = [f for f in host_files(settings, balancer_cidrs=cidrs) if f.path == "/etc/nftables.conf"]
    assert web_rules(nft.content) == expected


def test_the_rest_of_the_rules_is_unchanged_behind_a_balancer() -> None:
    admin = {"launchpad:adminCidrs": ["203.0.113.7/32"], "launchpad:sshKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0 ops"]}
    one = render_firewall(validate({"launchpad:provider": "digitalocean", **admin}, "lb"))
    many = render_firewall(validate({"launchpad:provider": "digitalocean", "launchpad:hosts": 3, **admin}, "lb"), (DO_VPC,))
    strip = re.compile(r"^.*dport \{ 80, 443 \}.*\n", re.M)
    assert strip.sub("", one) == strip.sub("", many)
    assert "policy drop" in many and "ip saddr 203.0.113.7/32 tcp dport 22 accept" in many


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("unshare"),
                    reason="nft -c in a scratch network namespace needs root, nft and unshare")
@pytest.mark.parametrize("config, cidrs", [
    ({"launchpad:provider": "aws", "launchpad:hosts": 3}, ()),
    ({"launchpad:provider": "digitalocean", "launchpad:hosts": 2}, (DO_VPC,)),
    ({"launchpad:provider": "digitalocean", "launchpad:hosts": 2}, ("fd00:10::/64", DO_VPC)),
])
def test_nft_accepts_the_rendered_rules(config: dict, cidrs: tuple) -> None:
    rules = render_firewall(validate(config, "lb"), cidrs)
    out = subprocess.run(["unshare", "-n", "nft", "-c", "-f", "-"], input=rules, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
