"""Resource type tokens, policy config names, and reading property values that may be unknown.

During a preview the engine cannot know every value yet (an id computed on create);
`known` turns that into UNKNOWN instead of an exception, and the other helpers read
properties that may be unset, a scalar instead of a list, or a string instead of a number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pulumi_policy.proxy import UnknownValueError


EC2_INSTANCE = "aws:ec2/instance:Instance"
EC2_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EBS_VOLUME = "aws:ebs/volume:Volume"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
RDS_INSTANCE = "aws:rds/instance:Instance"
DROPLET = "digitalocean:index/droplet:Droplet"
DO_FIREWALL = "digitalocean:index/firewall:Firewall"
DO_DATABASE_CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster"
DO_DATABASE_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"

PRODUCTION_TAG = "launchpad:production"
"""A resource tagged `launchpad:production = "true"` gets the production checks whatever the config says."""

PRODUCTION_CONFIG = "production"
WORLD_OPEN_PORTS = frozenset({80, 443})
SSH_PORT = 22
MIN_BACKUP_RETENTION_DAYS = 7

_T = TypeVar("_T")


class Unknown:
    """A value the engine cannot know yet (during preview, e.g. an id computed on create)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


def known(read: Callable[[], _T]) -> _T | Unknown:
    try:
        return read()
    except UnknownValueError:
        return UNKNOWN


def as_list(value: Any) -> list[Any]:
    """A list property as a list; None (unset) as an empty one."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return [value]
    return [value[i] for i in range(len(value))]


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_int(value: Any) -> int | None:
    # Numbers cross the wire as floats (22.0); strings appear when users pass them.
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def shown_value(value: Any) -> str:
    return "not set" if value is None else repr(value)


def is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True
