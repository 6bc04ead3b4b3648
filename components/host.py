"""The shape every cloud host component shares (components/aws/ec2_host.py, components/digitalocean/droplet_host.py).

No resources: an args type and the outputs a stack may rely on, whatever the cloud.
Each host takes `HostArgs[<its placement>]`: the same fields, with the provider's own
notion of where the host goes and what guards it in `placement`. Each host exposes
`public_ip` (the host's OWN address, which readiness polls before the stable public
address is moved to it), `id`, and its underlying resource as an escape hatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import pulumi

P = TypeVar("P")


@dataclass
class HostArgs(Generic[P]):
    size: str
    """Instance type / droplet size slug."""
    user_data: pulumi.Input[str]
    """Rendered #cloud-config (launchpad/render/bootstrap.py); each host encodes it as its cloud wants.
    A change replaces the host: a new one is built, checked, and only then takes the public address."""
    placement: P
    """Provider-specific: network, firewall, identity, keys, tags (Ec2Placement / DropletPlacement)."""


class Host(Protocol):
    """What the stacks read from a host, on any cloud."""

    @property
    def id(self) -> pulumi.Output[str]: ...

    @property
    def public_ip(self) -> pulumi.Output[str]: ...
