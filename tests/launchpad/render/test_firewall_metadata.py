"""The host firewall's output chain (files/nftables.conf.j2): the instance metadata service answers root only,
so neither the app (its workers, release commands, `launchpad run`) nor pip's builder (`launchpad-build`)
can read user-data (DigitalOcean: the enrollment value and key) or the instance role's credentials (AWS).
DigitalOcean also admits `nobody`, its monitoring agent's user. Rendered for every provider and checked by
nft itself in a scratch network namespace (`nft -c`, never loaded); tests/e2e/test_metadata_lock.py proves
it on a real machine."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from launchpad.render.access import SSHD_EIC
from launchpad.render.bootstrap import host_files, render_firewall
from launchpad.settings import validate


def output_chain(text: str) -> list[str]:
    chain = text.split("chain output {", 1)[1].split("}\n", 1)[0]
    return [line.strip() for line in chain.splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("config, metadata_rule", [
    ({"launchpad:provider": "aws"}, "ip daddr 169.254.169.254 meta skuid != 0 drop"),
    ({"launchpad:provider": "aws", "launchpad:hosts": 3}, "ip daddr 169.254.169.254 meta skuid != 0 drop"),
    ({"launchpad:provider": "digitalocean"}, "ip daddr 169.254.169.254 meta skuid != { 0, 65534 } drop"),
    ({"launchpad:provider": "digitalocean", "launchpad:hosts": 2}, "ip daddr 169.254.169.254 meta skuid != { 0, 65534 } drop"),
    ({"launchpad:provider": "local"}, "ip daddr 169.254.169.254 meta skuid != 0 drop"),
])
def test_metadata_is_root_only_on_every_provider(config: dict, metadata_rule: str) -> None:
    settings = validate(config, "md")
    cidrs = ("10.110.16.0/20",) if settings.provider == "digitalocean" and settings.balanced else ()
    [nft] = [f for f in host_files(settings, balancer_cidrs=cidrs) if f.path == "/etc/nftables.conf"]
    assert output_chain(nft.content) == [
        "type filter hook output priority filter; policy accept;",
        metadata_rule,
        "ip6 daddr fd00:ec2::254 meta skuid != 0 drop",
    ]


def test_instance_connect_looks_keys_up_as_root_which_may_reach_the_metadata_service() -> None:
    # sshd runs the lookup as AuthorizedKeysCommandUser: `nobody` would now be dropped by the output chain.
    assert "AuthorizedKeysCommandUser root" in SSHD_EIC and "nobody" not in SSHD_EIC


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("unshare"),
                    reason="nft -c in a scratch network namespace needs root, nft and unshare")
@pytest.mark.parametrize("provider", ["aws", "digitalocean", "local"])
def test_nft_accepts_the_output_chain(provider: str) -> None:
    rules = render_firewall(validate({"launchpad:provider": provider}, "md"))
    out = subprocess.run(["unshare", "-n", "nft", "-c", "-f", "-"], input=rules, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
