"""What the provider stacks share: tags, the health-failure hint, and the one output exporter."""

from __future__ import annotations

import pulumi

from launchpad.render.bootstrap import ADMIN_USER
from launchpad.settings import Settings

PRODUCTION_TAG = "launchpad:production"
"""Read by the policy pack (policy/launchpad_policies/): production checks apply to tagged resources."""


def aws_tags(settings: Settings) -> dict[str, str]:
    tags = {"launchpad:project": pulumi.get_project(), "launchpad:stack": settings.stack}
    if settings.production:
        tags[PRODUCTION_TAG] = "true"
    return tags


def do_host_tag(settings: Settings) -> str:
    """The tag that selects this stack's droplet (letters, digits, '-', ':' and '_' only)."""
    return f"{pulumi.get_project()}-{settings.stack}"


def do_tags(settings: Settings) -> list[str]:
    """Project and stack tags for DigitalOcean (tags are plain names there)."""
    tags = [pulumi.get_project(), do_host_tag(settings)]
    if settings.production:
        tags.append(PRODUCTION_TAG)
    return tags


def logs_hint(settings: Settings, address: str, console: str) -> str:
    """How to find out why a host is not healthy: SSH when it is open, else the provider's console."""
    app = settings.app.unix_name
    if settings.ssh_open:
        return (f"ssh {ADMIN_USER}@{address} 'cloud-init status --long; sudo tail -n 50 /var/log/cloud-init-output.log; "
                f"sudo journalctl -u {app}.service -u nginx.service -n 100 --no-pager'")
    return f"SSH is closed (adminCidrs is empty): {console}; /var/log/cloud-init-output.log holds the bootstrap's output"


def url(settings: Settings, public_ip: pulumi.Input[str]) -> pulumi.Output[str]:
    """Where the site answers (README: Stack outputs), with the trailing '/' on every provider."""
    if settings.domain:
        return pulumi.Output.from_input(f"{'https' if settings.https else 'http'}://{settings.domain}/")
    return pulumi.Output.concat("http://", public_ip, "/")


def export_outputs(settings: Settings, public_ip: pulumi.Output[str], database_host: pulumi.Input[str | None] | None,
                   access: pulumi.Input[dict] | None = None, operator_policy_arn: pulumi.Input[str] | None = None,
                   hosts: pulumi.Input[list] | None = None) -> None:
    """The stack outputs, the same on every provider (README: Stack outputs). `access` is what the
    day-2 commands read (launchpad/ops/access.py); `operator_policy_arn` the IAM policy they need (AWS)."""
    pulumi.export("url", url(settings, public_ip))
    pulumi.export("public_ip", public_ip)
    if hosts is not None:
        # More than one host: each one's id and address; public_ip is then the balancer's address.
        pulumi.export("hosts", hosts)
    if settings.ssh_open:
        pulumi.export("ssh", pulumi.Output.concat(f"ssh {ADMIN_USER}@", public_ip))
    if database_host is not None:
        pulumi.export("database_host", database_host)
    if access is not None:
        pulumi.export("access", access)
    if operator_policy_arn is not None:
        pulumi.export("operator_policy_arn", operator_policy_arn)
