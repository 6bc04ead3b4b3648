"""Launchpad's CrossGuard policies, importable and testable without the Pulumi engine.

Resource policies (run on each resource's inputs before it is created or changed):
  ec2-imdsv2-required           EC2 instances only answer IMDSv2 (CKV_AWS_79)
  ebs-encrypted                 EC2 root/EBS block devices and EBS volumes are encrypted (CKV_AWS_8)
  ssh-not-open-to-world         no SG rule / DO firewall rule admits port 22 from 0.0.0.0/0 or ::/0 (CKV_AWS_24)
  world-open-only-web           from 0.0.0.0/0 or ::/0 only tcp/udp 80 and 443 (and ICMP) are admitted
  rds-not-public                RDS instances are not publicly accessible (CKV_AWS_17)
  rds-storage-encrypted         RDS storage is encrypted (CKV_AWS_16)
  rds-backup-retention          RDS keeps backups for at least 7 days (CKV_AWS_133)
  rds-production-protection     production RDS: deletion protection on, final snapshot kept (CKV_AWS_293)
  no-secrets-in-user-data       EC2 / launch template / droplet user-data holds no credentials (CKV_AWS_46)
  database-firewall-restricted  DO database firewall rules name droplets, tags or single addresses

Stack policies (run once over every resource of the stack):
  droplet-behind-firewall       every droplet is covered by a DO firewall (CKV_DIO_4)
  droplet-ssh-keys              a droplet reachable on SSH has sshKeys (CKV_DIO_2)
  database-cluster-firewalled   every DO database cluster has a DatabaseFirewall

Property names are the engine's (camelCase, e.g. metadataOptions.httpTokens). `check_resources`
runs all of them over plain dicts, e.g. the resources a program registers under mocks. The
user-data scanner lives in user_data_secrets.py.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, Union

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from user_data_secrets import decode_user_data_base64, find_secrets, user_data_documents

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


class _Unknown:
    """A value the engine cannot know yet (during preview, e.g. an id computed on create)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


def _known(read: Callable[[], _T]) -> _T | _Unknown:
    try:
        return read()
    except UnknownValueError:
        return UNKNOWN


def _items(value: Any) -> list[Any]:
    """A list property as a list; None (unset) as an empty one."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return [value]
    return [value[i] for i in range(len(value))]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _as_int(value: Any) -> int | None:
    # Numbers cross the wire as floats (22.0); strings appear when users pass them.
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _shown(value: Any) -> str:
    return "not set" if value is None else repr(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


# --- ports and sources ------------------------------------------------------------------------

_PROTOCOLS = {
    "-1": "all", "all": "all", "6": "tcp", "tcp": "tcp", "17": "udp", "udp": "udp",
    "1": "icmp", "icmp": "icmp", "58": "icmpv6", "icmpv6": "icmpv6",
}


def _protocol(value: Any) -> str:
    number = _as_int(value)
    text = str(number) if number is not None else str(value if value is not None else "all").strip().lower()
    return _PROTOCOLS.get(text, text)


def _is_world(source: str) -> bool:
    try:
        return ipaddress.ip_network(str(source).strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


@dataclass(frozen=True)
class Ingress:
    """One inbound rule, whatever the provider: which protocol, ports and source addresses it admits."""

    where: str
    """Key path for messages, e.g. `ingress[0]`."""
    protocol: str
    """tcp, udp, icmp, icmpv6, all, or another IP protocol as written."""
    ports: tuple[int, int] | None
    """Inclusive port range; None means every port."""
    sources: tuple[str, ...]

    @property
    def world_sources(self) -> list[str]:
        return [s for s in self.sources if _is_world(s)]

    def admits_tcp_port(self, port: int) -> bool:
        if self.protocol not in ("tcp", "all"):
            return False
        return self.ports is None or self.ports[0] <= port <= self.ports[1]

    def only_web_ports(self) -> bool:
        if self.protocol in ("icmp", "icmpv6"):
            # ICMP has no ports and carries no service; path-MTU discovery needs it.
            return True
        if self.protocol not in ("tcp", "udp") or self.ports is None:
            return False
        low, high = self.ports
        return low == high and low in WORLD_OPEN_PORTS

    def describe(self) -> str:
        if self.protocol == "all":
            return "all traffic"
        if self.ports is None:
            return f"{self.protocol} on every port"
        low, high = self.ports
        return f"{self.protocol} {low}" if low == high else f"{self.protocol} {low}-{high}"


def _aws_ports(protocol: str, from_port: Any, to_port: Any) -> tuple[int, int] | None:
    if protocol == "all":
        return None
    low, high = _as_int(from_port), _as_int(to_port)
    if low is None and high is None:
        return None
    low = high if low is None else low
    high = low if high is None else high
    assert low is not None and high is not None
    if low < 0 or high < 0:  # -1 means "every type/port" for ICMP and "all" rules
        return None
    return (low, high)


def _do_ports(port_range: Any) -> tuple[int, int] | None:
    text = str(port_range if port_range is not None else "").strip().lower()
    if text in ("", "all", "0"):
        return None
    low_text, _, high_text = text.partition("-")
    low, high = _as_int(low_text), _as_int(high_text or low_text)
    if low is None or high is None:
        return None
    return (low, high)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in _items(value) if v is not None)


def _inbound_rules(resource_type: str, props: Mapping[str, Any]) -> list[Ingress]:
    """The inbound rules a security group, SG rule or DO firewall declares; [] for other types."""
    rules: list[Ingress] = []
    if resource_type == SECURITY_GROUP:
        for i, rule in enumerate(_items(props.get("ingress"))):
            rule = _mapping(rule)
            protocol = _protocol(rule.get("protocol"))
            rules.append(Ingress(
                f"ingress[{i}]", protocol, _aws_ports(protocol, rule.get("fromPort"), rule.get("toPort")),
                _strings(rule.get("cidrBlocks")) + _strings(rule.get("ipv6CidrBlocks"))))
    elif resource_type == SECURITY_GROUP_RULE:
        if str(props.get("type", "")).lower() == "ingress":
            protocol = _protocol(props.get("protocol"))
            rules.append(Ingress(
                "the rule", protocol, _aws_ports(protocol, props.get("fromPort"), props.get("toPort")),
                _strings(props.get("cidrBlocks")) + _strings(props.get("ipv6CidrBlocks"))))
    elif resource_type == SECURITY_GROUP_INGRESS_RULE:
        protocol = _protocol(props.get("ipProtocol"))
        rules.append(Ingress(
            "the rule", protocol, _aws_ports(protocol, props.get("fromPort"), props.get("toPort")),
            _strings(props.get("cidrIpv4")) + _strings(props.get("cidrIpv6"))))
    elif resource_type == DO_FIREWALL:
        for i, rule in enumerate(_items(props.get("inboundRules"))):
            rule = _mapping(rule)
            if str(rule.get("action") or "allow").lower() == "deny":
                continue
            protocol = _protocol(rule.get("protocol"))
            ports = None if protocol in ("icmp", "all") else _do_ports(rule.get("portRange"))
            rules.append(Ingress(f"inboundRules[{i}]", protocol, ports, _strings(rule.get("sourceAddresses"))))
    return rules


def _ssh_reference(resource_type: str) -> str:
    return "CKV_AWS_24" if resource_type.startswith("aws:") else "as CKV_AWS_24 for AWS"


def _validate_ssh_not_open_to_world(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for rule in _inbound_rules(args.resource_type, args.props):
        world = rule.world_sources
        if world and rule.admits_tcp_port(SSH_PORT):
            report_violation(
                f"{rule.where} admits {rule.describe()} from {', '.join(world)}, which includes SSH (22); "
                f"admit 22 only from admin CIDRs ({_ssh_reference(args.resource_type)}).",
                None)


def _validate_world_open_only_web(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for rule in _inbound_rules(args.resource_type, args.props):
        world = rule.world_sources
        if world and not rule.only_web_ports():
            report_violation(
                f"{rule.where} admits {rule.describe()} from {', '.join(world)}; from the whole internet only "
                "tcp/udp 80 and 443 may be open: narrow the sources to known CIDRs or the ports to 80/443.",
                None)


# --- EC2 / EBS ----------------------------------------------------------------------------------


def _validate_imdsv2(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != EC2_INSTANCE:
        return
    options = _mapping(args.props.get("metadataOptions"))
    if str(options.get("httpEndpoint") or "").lower() == "disabled":
        return  # no metadata service at all is stricter than IMDSv2
    tokens = options.get("httpTokens")
    if tokens != "required":
        shown = "not set (the AMI or account default applies, often 'optional')" if tokens is None else repr(tokens)
        report_violation(
            f"metadataOptions.httpTokens is {shown}; set it to 'required' so the metadata service only "
            "answers IMDSv2 session requests, which SSRF through the app cannot make (CKV_AWS_79).", None)


def _validate_ebs_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    if args.resource_type == EBS_VOLUME:
        if props.get("encrypted") is not True:
            report_violation(
                f"encrypted is {_shown(props.get('encrypted'))}; set encrypted=True (CKV_AWS_8).", None)
    elif args.resource_type == EC2_INSTANCE:
        root = props.get("rootBlockDevice")
        if root is None:
            report_violation(
                "rootBlockDevice is not set, so the root volume is encrypted only if the account turned on "
                "EBS encryption by default; set rootBlockDevice.encrypted=True (CKV_AWS_8).", None)
        elif _mapping(root).get("encrypted") is not True:
            report_violation(
                f"rootBlockDevice.encrypted is {_shown(_mapping(root).get('encrypted'))}; set it to True (CKV_AWS_8).",
                None)
        for i, device in enumerate(_items(props.get("ebsBlockDevices"))):
            device = _mapping(device)
            if device.get("encrypted") is not True:
                name = device.get("deviceName") or "?"
                report_violation(
                    f"ebsBlockDevices[{i}] ({name}) encrypted is {_shown(device.get('encrypted'))}; "
                    "set it to True (CKV_AWS_8).", None)


# --- RDS ----------------------------------------------------------------------------------------


def _validate_rds_not_public(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == RDS_INSTANCE and _truthy(args.props.get("publiclyAccessible")):
        report_violation(
            "publiclyAccessible is True; set it to False and reach the database from the app host "
            "inside the VPC (CKV_AWS_17).", None)


def _validate_rds_storage_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == RDS_INSTANCE and not _truthy(args.props.get("storageEncrypted")):
        report_violation(
            f"storageEncrypted is {_shown(args.props.get('storageEncrypted'))}; set storageEncrypted=True "
            "(CKV_AWS_16).", None)


def _validate_rds_backup_retention(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != RDS_INSTANCE:
        return
    raw = args.props.get("backupRetentionPeriod")
    days = _as_int(raw)
    if days is None or days < MIN_BACKUP_RETENTION_DAYS:
        shown = "not set (AWS keeps 1 day)" if raw is None else repr(raw)
        report_violation(
            f"backupRetentionPeriod is {shown}; keep backups for {MIN_BACKUP_RETENTION_DAYS} to 35 days "
            "(CKV_AWS_133).", None)


def is_production(config: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    """True if the policy config says `production: true` or the resource carries the production tag.

    Either one is enough, and neither can switch the other off: a production database tagged as such
    stays protected even if someone runs the pack without the production config.
    """
    if _truthy(config.get(PRODUCTION_CONFIG)):
        return True
    return _truthy(_mapping(props.get("tags")).get(PRODUCTION_TAG))


def _validate_rds_production(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != RDS_INSTANCE or not is_production(args.get_config(), args.props):
        return
    if not _truthy(args.props.get("deletionProtection")):
        report_violation(
            f"production database: deletionProtection is {_shown(args.props.get('deletionProtection'))}; "
            "set deletionProtection=True so `pulumi destroy` or a replace cannot drop it (CKV_AWS_293).", None)
    if _truthy(args.props.get("skipFinalSnapshot")):
        report_violation(
            "production database: skipFinalSnapshot is True; set it to False (and a "
            "finalSnapshotIdentifier) so deleting it leaves a snapshot.", None)


# --- secrets in user-data -----------------------------------------------------------------------

_USER_DATA_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {
    # type: ((property, is base64), ...)
    EC2_INSTANCE: (("userData", False), ("userDataBase64", True)),
    EC2_LAUNCH_TEMPLATE: (("userData", True),),
    DROPLET: (("userData", False),),
}


def _validate_no_secrets_in_user_data(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for field, is_base64 in _USER_DATA_FIELDS.get(args.resource_type, ()):
        value = args.props.get(field)
        if not isinstance(value, str) or not value:
            continue
        if is_base64:
            try:
                value = decode_user_data_base64(value)
            except ValueError as error:
                report_violation(f"{field} {error}, so it cannot be checked for secrets.", None)
                continue
        for label, text in user_data_documents(value):
            where = f"{field} {label}".rstrip()
            for finding in find_secrets(text):
                report_violation(
                    f"{where} line {finding.line} {finding.what}. User-data is readable by every process on "
                    "the host (metadata service) and by anyone who can describe the instance: deliver the "
                    "secret at run time (a file written by the deploy, SSM/Secrets Manager) and have the "
                    "line read it (CKV_AWS_46).", None)


# --- DigitalOcean database firewall ---------------------------------------------------------------

_DB_FIREWALL_TYPES = ("droplet", "tag", "ip_addr")


def _validate_database_firewall(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != DO_DATABASE_FIREWALL:
        return
    for i, rule in enumerate(_items(args.props.get("rules"))):
        rule = _mapping(rule)
        kind, value = rule.get("type"), rule.get("value")
        if kind not in _DB_FIREWALL_TYPES:
            report_violation(
                f"rules[{i}] has type {kind!r}; use one of {', '.join(_DB_FIREWALL_TYPES)} "
                "(ip_addr with a single address).", None)
        elif kind == "ip_addr":
            try:
                network = ipaddress.ip_network(str(value).strip(), strict=False)
            except ValueError:
                report_violation(f"rules[{i}] ip_addr value {value!r} is not an IP address.", None)
                continue
            if network.num_addresses != 1:
                scope = "the whole internet" if network.prefixlen == 0 else f"{network.num_addresses} addresses"
                report_violation(
                    f"rules[{i}] admits ip_addr {value!r} ({scope}); name single addresses "
                    "(e.g. '203.0.113.7') or admit the app droplet by type 'droplet' or 'tag'.", None)


# --- stack policies: correlate droplets, firewalls and databases ----------------------------------


def _resources_of(resources: Iterable[PolicyResource], resource_type: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type == resource_type]


def _id_text(value: Any) -> str:
    number = _as_int(value) if isinstance(value, float) else None
    return str(number) if number is not None else str(value).strip()


def _refers_to(holder: PolicyResource, prop: str, target: PolicyResource) -> bool | None:
    """Does `holder.props[prop]` (an id or a list of ids) name `target`? None when it cannot be known yet.

    The engine's property dependencies answer it even during preview, when ids are still unknown;
    otherwise the ids are compared (`target.props["id"]`, which `check_resources` fills from mocks).
    """
    dependencies = holder.property_dependencies.get(prop) or []
    if any(d.urn == target.urn for d in dependencies):
        return True
    raw = _known(lambda: holder.props.get(prop))
    if isinstance(raw, _Unknown):
        return False if dependencies else None
    values = _known_items(raw)
    ids = {_id_text(v) for v in values if not isinstance(v, _Unknown) and v is not None}
    target_id = _known(lambda: target.props.get("id"))
    if target_id is not None and not isinstance(target_id, _Unknown) and _id_text(target_id) in ids:
        return True
    undecided = any(isinstance(v, _Unknown) for v in values) or (
        ids and (target_id is None or isinstance(target_id, _Unknown)))
    return None if undecided and not dependencies else False


def _known_items(value: Any) -> list[Any]:
    """Like _items, but an element not known yet becomes UNKNOWN instead of raising."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return [value]
    items: list[Any] = []
    for i in range(len(value)):
        try:
            items.append(value[i])
        except UnknownValueError:
            items.append(UNKNOWN)
    return items


def _shares_tag(firewall: PolicyResource, droplet: PolicyResource) -> bool | None:
    firewall_tags = _known(lambda: _strings(firewall.props.get("tags")))
    droplet_tags = _known(lambda: _strings(droplet.props.get("tags")))
    if isinstance(firewall_tags, _Unknown) or isinstance(droplet_tags, _Unknown):
        return None
    return bool(set(firewall_tags) & set(droplet_tags))


def _covers(firewall: PolicyResource, droplet: PolicyResource) -> bool | None:
    answers = (_refers_to(firewall, "dropletIds", droplet), _shares_tag(firewall, droplet))
    if True in answers:
        return True
    return None if None in answers else False


def _validate_droplet_behind_firewall(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    firewalls = _resources_of(args.resources, DO_FIREWALL)
    for droplet in _resources_of(args.resources, DROPLET):
        answers = [_covers(firewall, droplet) for firewall in firewalls]
        if True in answers or None in answers:
            continue
        report_violation(
            f"droplet '{droplet.name}' is not covered by any digitalocean.Firewall, so every port it "
            "listens on is open to the internet; add a Firewall that lists it in dropletIds or shares one "
            "of its tags (CKV_DIO_4).", droplet.urn)


def _validate_droplet_ssh_keys(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    firewalls = _resources_of(args.resources, DO_FIREWALL)
    for droplet in _resources_of(args.resources, DROPLET):
        keys = _known(lambda: _items(droplet.props.get("sshKeys")))
        if isinstance(keys, _Unknown) or keys:
            continue
        answers = [(firewall, _covers(firewall, droplet)) for firewall in firewalls]
        covering = [firewall for firewall, answer in answers if answer is True]
        if not covering:
            if any(answer is None for _, answer in answers):
                continue
            reason = "no firewall covers it, so SSH (22) is open to everyone"
        else:
            admitting = [
                firewall for firewall in covering
                if any(rule.admits_tcp_port(SSH_PORT) for rule in _firewall_rules(firewall))]
            if not admitting:
                continue
            reason = f"firewall '{admitting[0].name}' admits SSH (22)"
        report_violation(
            f"droplet '{droplet.name}' has no sshKeys but {reason}; add sshKeys (DigitalOcean key ids or "
            "fingerprints) so logging in needs a key instead of the emailed root password (CKV_DIO_2).",
            droplet.urn)


def _firewall_rules(firewall: PolicyResource) -> list[Ingress]:
    rules = _known(lambda: _inbound_rules(DO_FIREWALL, firewall.props))
    # Rules not known yet: assume they may admit SSH, the safe side for a key requirement.
    return [Ingress("?", "tcp", None, ())] if isinstance(rules, _Unknown) else rules


def _validate_database_cluster_firewalled(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    database_firewalls = _resources_of(args.resources, DO_DATABASE_FIREWALL)
    for cluster in _resources_of(args.resources, DO_DATABASE_CLUSTER):
        answers = [_refers_to(firewall, "clusterId", cluster) for firewall in database_firewalls]
        if True in answers or None in answers:
            continue
        report_violation(
            f"database cluster '{cluster.name}' has no digitalocean.DatabaseFirewall, so it accepts "
            "connections from any address; add DatabaseFirewall(cluster_id=<cluster>.id) with a rule of "
            "type 'droplet' or 'tag' for the app host.", cluster.urn)


# --- the policies ---------------------------------------------------------------------------------

_MANDATORY = EnforcementLevel.MANDATORY

PRODUCTION_SCHEMA = PolicyConfigSchema(
    properties={PRODUCTION_CONFIG: {"type": "boolean", "default": False}},
)

def _resource_policy(name: str, description: str, validate: Any, **kwargs: Any) -> ResourceValidationPolicy:
    """Every Launchpad rule is mandatory: a broken one blocks the deployment."""
    return ResourceValidationPolicy(name=name, description=description, validate=validate, enforcement_level=_MANDATORY, **kwargs)


def _stack_policy(name: str, description: str, validate: Any) -> StackValidationPolicy:
    return StackValidationPolicy(name=name, description=description, validate=validate, enforcement_level=_MANDATORY)


POLICIES: list[Policy] = [
    _resource_policy(
        name="ec2-imdsv2-required",
        description="EC2 instances require IMDSv2 (metadataOptions.httpTokens = 'required'). CKV_AWS_79.",
        validate=_validate_imdsv2),
    _resource_policy(
        name="ebs-encrypted",
        description="EC2 root and EBS block devices, and EBS volumes, are encrypted. CKV_AWS_8.",
        validate=_validate_ebs_encrypted),
    _resource_policy(
        name="ssh-not-open-to-world",
        description="No security group or DigitalOcean firewall admits SSH (22) from 0.0.0.0/0 or ::/0. CKV_AWS_24.",
        validate=_validate_ssh_not_open_to_world),
    _resource_policy(
        name="world-open-only-web",
        description="From 0.0.0.0/0 or ::/0 only ports 80 and 443 are admitted.",
        validate=_validate_world_open_only_web),
    _resource_policy(
        name="rds-not-public",
        description="RDS instances are not publicly accessible. CKV_AWS_17.",
        validate=_validate_rds_not_public),
    _resource_policy(
        name="rds-storage-encrypted",
        description="RDS storage is encrypted. CKV_AWS_16.",
        validate=_validate_rds_storage_encrypted),
    _resource_policy(
        name="rds-backup-retention",
        description=f"RDS keeps automated backups for at least {MIN_BACKUP_RETENTION_DAYS} days. CKV_AWS_133.",
        validate=_validate_rds_backup_retention),
    _resource_policy(
        name="rds-production-protection",
        description=("Production RDS instances (policy config production=true, or tag "
                     f"{PRODUCTION_TAG}=true) have deletion protection and keep a final snapshot. CKV_AWS_293."),
        validate=_validate_rds_production, config_schema=PRODUCTION_SCHEMA),
    _resource_policy(
        name="no-secrets-in-user-data",
        description="EC2, launch template and droplet user-data contain no credentials. CKV_AWS_46.",
        validate=_validate_no_secrets_in_user_data),
    _resource_policy(
        name="database-firewall-restricted",
        description="DigitalOcean database firewall rules admit droplets, tags or single IP addresses only.",
        validate=_validate_database_firewall),
    _stack_policy(
        name="droplet-behind-firewall",
        description="Every droplet is covered by a DigitalOcean firewall (dropletIds or tag). CKV_DIO_4.",
        validate=_validate_droplet_behind_firewall),
    _stack_policy(
        name="droplet-ssh-keys",
        description="A droplet reachable on SSH (22) has sshKeys. CKV_DIO_2.",
        validate=_validate_droplet_ssh_keys),
    _stack_policy(
        name="database-cluster-firewalled",
        description="Every DigitalOcean database cluster has a DatabaseFirewall.",
        validate=_validate_database_cluster_firewalled),
]


# --- running the policies without the engine -------------------------------------------------------

ResourceEntry = Union[tuple[str, str, Mapping[str, Any]], tuple[str, str, Mapping[str, Any], Any]]
"""(type token, name, props) or (type token, name, props, id): what a mocks `new_resource` sees."""


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    """Name of the resource the violation is about; "" for the stack as a whole."""
    message: str
    level: str = "mandatory"
    """"mandatory", or "advisory" when the policy could not run (a value unknown before the update)."""


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return copy.copy(value)


def _urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:check::launchpad::{resource_type}::{name}"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _config_for(policy: Policy, production: bool) -> dict[str, Any]:
    schema = policy.config_schema
    if schema is not None and PRODUCTION_CONFIG in schema.properties:
        return {PRODUCTION_CONFIG: production}
    return {}


def check_resources(resources: Sequence[ResourceEntry], production: bool = False) -> list[Violation]:
    """Run every policy of the pack over plain resources, as the engine would, and collect the violations.

    Props use the engine's camelCase names (what `pulumi.runtime.Mocks.new_resource` receives as
    `args.inputs`). Give an id as a fourth element (or an "id" prop) wherever another resource refers
    to it by id, e.g. a droplet listed in a firewall's dropletIds. `production` is the policy config
    value `production` the pack would get from `--policy-pack-config`.
    """
    stack: list[PolicyResource] = []
    violations: list[Violation] = []
    for entry in resources:
        resource_type, name, props = entry[0], entry[1], _plain(entry[2])
        if len(entry) > 3 and entry[3] is not None:
            props.setdefault("id", entry[3])
        urn = _urn(resource_type, name)
        stack.append(PolicyResource(resource_type, unknown_checking_proxy(props), urn, name, _options(),
                                    None, None, [], {}))
        for policy in POLICIES:
            if not isinstance(policy, ResourceValidationPolicy):
                continue
            args = ResourceValidationArgs(resource_type, unknown_checking_proxy(copy.deepcopy(props)), urn, name,
                                          _options(), None, _config_for(policy, production))
            _run(policy, args, name, {}, violations)
    names = {r.urn: r.name for r in stack}
    for policy in POLICIES:
        if isinstance(policy, StackValidationPolicy):
            _run(policy, StackValidationArgs(stack, _config_for(policy, production)), "", names, violations)
    return violations


def _run(policy: Policy, args: ResourceValidationArgs | StackValidationArgs, default_resource: str,
         names: Mapping[str, str], violations: list[Violation]) -> None:
    def report_violation(message: str, urn: str | None = None) -> None:
        resource = names.get(urn, default_resource) if urn else default_resource
        violations.append(Violation(policy.name, resource, message))

    try:
        if isinstance(policy, ResourceValidationPolicy) and isinstance(args, ResourceValidationArgs):
            policy.validate(args, report_violation)
        elif isinstance(policy, StackValidationPolicy) and isinstance(args, StackValidationArgs):
            policy.validate(args, report_violation)
    except UnknownValueError as error:
        violations.append(Violation(policy.name, default_resource, f"can't run during preview: {error.message}",
                                    level="advisory"))
