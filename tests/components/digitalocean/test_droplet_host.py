"""components/digitalocean/droplet_host.py: the droplet's image, placement, keys and tags."""

from __future__ import annotations

import pytest

from components.digitalocean.droplet_host import IMAGE, DropletHost, DropletPlacement
from components.host import HostArgs

USER_DATA = "#cloud-config\npackages: [nginx]\n"


def _host(run, tags=("launchpad-t", "launchpad")):
    return run(lambda: DropletHost("web", HostArgs(size="s-1vcpu-1gb", user_data=USER_DATA, placement=DropletPlacement(
        region="fra1", vpc_id="vpc-uuid", tags=list(tags), ssh_key_fingerprints=["fp:a", "fp:b"]))))


def test_debian_12_in_the_vpc_with_keys_tags_and_plain_user_data(run) -> None:
    droplet = _host(run).one("digitalocean:index/droplet:Droplet").inputs
    assert droplet["image"] == IMAGE == "debian-12-x64"
    assert droplet["vpcUuid"] == "vpc-uuid"
    assert droplet["region"] == "fra1" and droplet["size"] == "s-1vcpu-1gb"
    assert droplet["sshKeys"] == ["fp:a", "fp:b"]
    assert droplet["tags"] == ["launchpad-t", "launchpad"]
    assert droplet["userData"] == USER_DATA


def test_a_droplet_without_tags_is_refused(run) -> None:
    with pytest.raises(ValueError, match="tags is empty"):
        _host(run, tags=())
