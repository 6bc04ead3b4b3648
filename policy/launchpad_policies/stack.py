"""Stack policies: correlate droplets, firewalls and database clusters across the whole stack."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from launchpad_policies.ingress import Ingress, as_strings, inbound_rules
from launchpad_policies.values import (
    DO_DATABASE_CLUSTER,
    DO_DATABASE_FIREWALL,
    DO_FIREWALL,
    DROPLET,
    SSH_PORT,
    UNKNOWN,
    Unknown,
    as_int,
    as_list,
    known,
)


def _resources_of(resources: Iterable[PolicyResource], resource_type: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type == resource_type]


def _id_text(value: Any) -> str:
    number = as_int(value) if isinstance(value, float) else None
    return str(number) if number is not None else str(value).strip()


def _refers_to(holder: PolicyResource, prop: str, target: PolicyResource) -> bool | None:
    """Does `holder.props[prop]` (an id or a list of ids) name `target`? None when it cannot be known yet.

    The engine's property dependencies answer it even during preview, when ids are still unknown;
    otherwise the ids are compared (`target.props["id"]`, which `check_resources` fills from mocks).
    """
    dependencies = holder.property_dependencies.get(prop) or []
    if any(d.urn == target.urn for d in dependencies):
        return True
    raw = known(lambda: holder.props.get(prop))
    if isinstance(raw, Unknown):
        return False if dependencies else None
    values = _known_items(raw)
    ids = {_id_text(v) for v in values if not isinstance(v, Unknown) and v is not None}
    target_id = known(lambda: target.props.get("id"))
    if target_id is not None and not isinstance(target_id, Unknown) and _id_text(target_id) in ids:
        return True
    undecided = any(isinstance(v, Unknown) for v in values) or (
        ids and (target_id is None or isinstance(target_id, Unknown)))
    return None if undecided and not dependencies else False


def _known_items(value: Any) -> list[Any]:
    """Like as_list, but an element not known yet becomes UNKNOWN instead of raising."""
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
    firewall_tags = known(lambda: as_strings(firewall.props.get("tags")))
    droplet_tags = known(lambda: as_strings(droplet.props.get("tags")))
    if isinstance(firewall_tags, Unknown) or isinstance(droplet_tags, Unknown):
        return None
    return bool(set(firewall_tags) & set(droplet_tags))


def _covers(firewall: PolicyResource, droplet: PolicyResource) -> bool | None:
    answers = (_refers_to(firewall, "dropletIds", droplet), _shares_tag(firewall, droplet))
    if True in answers:
        return True
    return None if None in answers else False


def validate_droplet_behind_firewall(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    firewalls = _resources_of(args.resources, DO_FIREWALL)
    for droplet in _resources_of(args.resources, DROPLET):
        answers = [_covers(firewall, droplet) for firewall in firewalls]
        if True in answers or None in answers:
            continue
        report_violation(
            f"droplet '{droplet.name}' is not covered by any digitalocean.Firewall, so every port it "
            "listens on is open to the internet; add a Firewall that lists it in dropletIds or shares one "
            "of its tags (CKV_DIO_4).", droplet.urn)


def validate_droplet_ssh_keys(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    firewalls = _resources_of(args.resources, DO_FIREWALL)
    for droplet in _resources_of(args.resources, DROPLET):
        keys = known(lambda: as_list(droplet.props.get("sshKeys")))
        if isinstance(keys, Unknown) or keys:
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
    rules = known(lambda: inbound_rules(DO_FIREWALL, firewall.props))
    # Rules not known yet: assume they may admit SSH, the safe side for a key requirement.
    return [Ingress("?", "tcp", None, ())] if isinstance(rules, Unknown) else rules


def validate_database_cluster_firewalled(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    database_firewalls = _resources_of(args.resources, DO_DATABASE_FIREWALL)
    for cluster in _resources_of(args.resources, DO_DATABASE_CLUSTER):
        answers = [_refers_to(firewall, "clusterId", cluster) for firewall in database_firewalls]
        if True in answers or None in answers:
            continue
        report_violation(
            f"database cluster '{cluster.name}' has no digitalocean.DatabaseFirewall, so it accepts "
            "connections from any address; add DatabaseFirewall(cluster_id=<cluster>.id) with a rule of "
            "type 'droplet' or 'tag' for the app host.", cluster.urn)
