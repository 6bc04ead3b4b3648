"""A single host's HTTPS across host replacements (issue 12), for the provider stacks.

The stacks call these at four points, so their own order stays as it is:
1. `aws_store` before rendering user-data: the stack's certificate secret, named in the
   host's certificate config (the agent dict's "certificates", which bootstrap.py moves to
   /etc/launchpad/certificate.json);
2. `aws_access` once the host role exists: its permission on that secret (and DNS-01 in the
   zone); the returned user-data waits for it, so a host never boots without it;
3. `readiness`: HTTPS with SNI = the domain on the host's own address before the address moves;
4. `aws_dns` / `do_dns` after the address: the apex and www records in `dnsZone`.
DigitalOcean: `do_store` (the stack's certificate bucket and its key) before user-data, and
`do_delivery` once the droplet is enrolled: that key sealed to the droplet's own key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from launchpad.settings import Settings


def aws_store(settings: Settings, agent: pulumi.Output[dict[str, Any]], tags: Mapping[str, str],
              opts: pulumi.ResourceOptions) -> tuple[pulumi.Output[dict[str, Any]], Any]:
    """(agent with the certificate store, the store or None) for a host that terminates TLS."""
    if not settings.tls or settings.domain is None:
        return agent, None
    from components.aws.certificate_store import AwsCertificateStore, AwsCertificateStoreArgs

    store = AwsCertificateStore(settings.stack, AwsCertificateStoreArgs(
        stack=settings.stack, domain=settings.domain, region=settings.resolved_region, production=settings.production,
        tags=tags), opts=opts)
    return pulumi.Output.all(agent, store.spec).apply(lambda v: {**v[0], "certificates": v[1]}), store


def aws_access(settings: Settings, store: Any, role_name: pulumi.Input[str], user_data: pulumi.Output[str],
               opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    """The host role's certificate permission; the user-data, resolved only once it exists."""
    if store is None:
        return user_data
    from components.aws.certificate_access import AwsCertificateAccess, AwsCertificateAccessArgs

    assert settings.domain
    access = AwsCertificateAccess(settings.stack, AwsCertificateAccessArgs(
        role_name=role_name, secret_arn=store.secret_arn, domain=settings.domain,
        dns_zone=settings.dns_zone if settings.dns01 else None), opts=opts)
    return pulumi.Output.all(user_data, access.ready).apply(lambda v: str(v[0]))


def readiness(settings: Settings) -> dict[str, Any]:
    """ReadinessArgs' TLS fields: HTTPS required where the host gets its certificate before the
    address (DNS-01); else HTTPS whenever the host holds one (a stored certificate)."""
    if not settings.tls:
        return {}
    return {"tls_name": settings.domain, "tls_mode": "required" if settings.dns01 else "auto"}


def aws_dns(settings: Settings, address: pulumi.Input[str], opts: pulumi.ResourceOptions) -> None:
    if settings.host_dns and settings.dns_zone and settings.domain:
        from components.aws.dns import AwsHostDns, AwsHostDnsArgs

        AwsHostDns(settings.stack, AwsHostDnsArgs(zone=settings.dns_zone, domain=settings.domain, address=address), opts=opts)


def do_dns(settings: Settings, address: pulumi.Input[str]) -> None:
    if settings.host_dns and settings.dns_zone and settings.domain:
        from components.digitalocean.dns import DoHostDns, DoHostDnsArgs

        DoHostDns(settings.stack, DoHostDnsArgs(zone=settings.dns_zone, domain=settings.domain, address=address))


def do_store(settings: Settings, agent: pulumi.Output[dict[str, Any]], release_bucket: pulumi.Input[str],
             region: str) -> tuple[pulumi.Output[dict[str, Any]], Any]:
    """(agent with the certificate store, the store or None) for a droplet that terminates TLS."""
    if not settings.tls or settings.domain is None:
        return agent, None
    from components.digitalocean.certificate_store import DoCertificateStore, DoCertificateStoreArgs

    store = DoCertificateStore(settings.stack, DoCertificateStoreArgs(stack=settings.stack, domain=settings.domain, region=region))
    stack = settings.stack
    spec = pulumi.Output.all(store.spec, release_bucket).apply(lambda v: {**v[0], "sealed": {
        "credentials": f"https://{v[1]}.{region}.digitaloceanspaces.com/{stack}/hosts/", "stack": stack}})
    return pulumi.Output.all(agent, spec).apply(lambda v: {**v[0], "certificates": v[1]}), store


def do_delivery(store: Any, release_store: Any, host_key: pulumi.Input[str], name: str, settings: Settings | None = None) -> None:
    """The certificate bucket's key (and with DNS-01 the `dnsToken`, read from Pulumi's config as a
    secret: Settings hold only a mask), sealed to the droplet after its enrollment."""
    if store is None:
        return
    from components.digitalocean.certificate_delivery import DoCertificateDelivery, DoCertificateDeliveryArgs

    token = pulumi.Config("launchpad").require_secret("dnsToken") if settings is not None and settings.dns01 else None
    DoCertificateDelivery(name, DoCertificateDeliveryArgs(store=release_store, certificates=store, host_key=host_key,
                                                          dns_token=token))
