"""Renders the host's bootstrap: one #cloud-config for every provider.

Pure functions of plain values (validated Settings and the release agent's
config, whose Outputs the stacks resolve first). Nothing here touches Pulumi,
so the local target, `launchpad render` and the tests call the very same code
the cloud stacks do. The app's database credentials are the release agent's job
(agent.json's `database` section, render/database_agent.py); user-data carries
no credential.

What the cloud-config does on the host:
- creates an admin user (sudo, SSH keys only) and an unprivileged app user;
- installs nginx, python3-venv, nftables, unattended-upgrades (and certbot with TLS);
- writes the nginx site (sites-available) and http-level settings, a host firewall,
  SSH hardening, and the release host (release_host.py): the release agent and its
  timer, the blue/green slot units, the gunicorn config, and the bootstrap script that
  cloud-init runs last. No app bytes: releases come from the stack's store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from launchpad.render import balanced, certificate, release_host
from launchpad.render.host_file import HostFile
from launchpad.render.templates import render_template
from launchpad.settings import ConfigError, Problem, Settings

ADMIN_USER = "ops"
GRACEFUL_TIMEOUT = release_host.GRACEFUL_TIMEOUT
__all__ = ["HostFile"]


@dataclass(frozen=True)
class Rendered:
    """Everything that will run on the host, as text, for review and for tests."""

    user_data: str
    nginx_main: str
    nginx_http: str
    nginx_site: str
    app_socket: str
    app_service: str
    gunicorn_conf: str
    deploy_script: str
    extra: dict[str, str] = field(default_factory=dict)


def certificate_dir(domain: str) -> str:
    """Where nginx reads the host's certificate (launchpad/render/certificate.py)."""
    return certificate.live_dir(domain)


def render_nginx_http(settings: Settings) -> str:
    return render_template("nginx-http.conf.j2", app=settings.app.unix_name, max_body="10m", rate_limit=settings.rate_limit, tls=settings.tls)


def render_nginx_site(settings: Settings, cert_ready: bool = False, cert_dir: str | None = None) -> str:
    """The site. With TLS it comes in two states: before the certificate exists
    (HTTP for challenges and health, redirects) and after (`cert_ready`)."""
    domain = settings.domain
    tls_settings = ""
    if settings.tls and domain:
        tls_settings = render_template("tls.conf.j2", cert_dir=cert_dir or certificate_dir(domain)).rstrip("\n")
    return render_template(
        "nginx-site.conf.j2", stack=settings.stack, app=settings.app.unix_name, domain=domain,
        tls=settings.tls, cert_ready=cert_ready, tls_settings=tls_settings, rate_limit=settings.rate_limit,
        balanced=settings.balanced, health_path=balanced.health_path(settings),
        scheme="https" if settings.https else "http",
    )


def default_agent(settings: Settings) -> dict[str, Any]:
    """agent.json when the stack passes none: the local store folder bind-mounted into the
    machine; for the clouds (`launchpad render` previews) the shape their stacks fill in
    with the real bucket, secret and enrollment value. With a database, its `database`
    section (render/database_agent.py)."""
    from launchpad.render import database_agent  # noqa: PLC0415 - one hunk of a shared file

    config = _default_agent(settings)
    if settings.database.enabled:
        name = settings.database.name
        config["database"] = (database_agent.local(name) if settings.provider == "local" else database_agent.digitalocean()
                              if settings.provider == "digitalocean" else database_agent.aws(
                                  "<rds-master-secret-arn>", "<app-password-secret-arn>", settings.resolved_region,
                                  "<rds-endpoint>", 5432, name))
    return config


def _default_agent(settings: Settings) -> dict[str, Any]:
    app, stack, host = settings.app.unix_name, settings.stack, settings.domain or "localhost"
    keep = getattr(settings.app, "keep_releases", 5)
    if settings.provider == "aws":
        return release_host.agent_config(app, f"s3://{stack}-releases/{stack}", health_host=host, keep=keep, region=settings.region,
                                         secrets={"kind": "aws-secretsmanager", "arn": f"<{stack} app secrets>"})
    if settings.provider == "digitalocean":
        region = settings.region or "nyc3"
        return release_host.agent_config(app, f"s3://{stack}-releases/{stack}", health_host=host, keep=keep, region=region,
                                         endpoint=f"https://{region}.digitaloceanspaces.com",
                                         secrets={"kind": "spaces-sealed", "enroll": "0" * 64,
                                                  "credentials": f"https://{stack}-releases.{region}.digitaloceanspaces.com/{stack}/hosts/",
                                                  "enrollment": {"store": f"s3://{stack}-releases-enroll/{stack}/enroll",
                                                                 "enrollment_key_id": "<enrollment key>",
                                                                 "enrollment_key_secret": "<enrollment key secret>"}})
    # Several local machines roll releases one by one through per-host pointers named by machine.
    return release_host.agent_config(app, release_host.LOCAL_STORE, health_host=host, keep=keep,
                                     host_id="hostname" if settings.balanced else None)


METADATA_NOBODY = ("digitalocean",)
"""Providers whose own agent needs the instance metadata service as `nobody` besides root
(files/nftables.conf.j2): DigitalOcean's monitoring agent (do-agent, the droplet's `monitoring`)
reads its droplet id and auth token there as nobody (65534, fixed in Debian)."""


def render_firewall(settings: Settings, balancer_cidrs: Sequence[str] = ()) -> str:
    from launchpad.render import access  # noqa: PLC0415 - access builds on this module's HostFile

    return render_template("nftables.conf.j2", admin_cidrs=[*settings.admin_cidrs, *access.ssh_sources(settings.provider)],
                           tls=settings.tls, web_sources=balanced.web_sources(settings, balancer_cidrs),
                           metadata_nobody=settings.provider in METADATA_NOBODY)


def _packages(settings: Settings, agent: Mapping[str, Any]) -> list[str]:
    # netbase: /etc/protocols, which the nftables rules name (cloud images have it, minbase does not).
    pkgs = ["nginx", "python3-venv", "nftables", "netbase", "unattended-upgrades"]
    pkgs += certificate.packages(settings)
    # boto3: fetching the agent through the role (AWS; Spaces is a plain GET).
    if release_host.fetch_source(agent) == "role":
        pkgs.append("python3-boto3")
    return pkgs


def host_files(settings: Settings, agent: Mapping[str, Any] | None = None,
               balancer_cidrs: Sequence[str] = ()) -> list[HostFile]:
    """Every file the cloud-config writes, in order. `agent`: the release agent's config
    (release_host.agent_config: the stack's store and secrets source); default local.
    `balancer_cidrs`: with more than one host, the balancer's address range (render/balanced.py)."""
    app = settings.app.unix_name
    agent = agent or default_agent(settings)
    files = [
        HostFile("/etc/nginx/nginx.conf", render_template("nginx.conf.j2")),
        # Deferred: it includes the live release's file, which exists only once the bootstrap
        # runs; nginx's postinst (during the package install) must not read it before.
        HostFile("/etc/nginx/conf.d/launchpad.conf", render_nginx_http(settings), defer=True),
        HostFile(f"/etc/nginx/sites-available/{app}", render_nginx_site(settings)),
        HostFile("/etc/systemd/system/nginx.service.d/launchpad.conf", render_template("nginx-reload.conf.j2")),
        HostFile("/etc/nftables.conf", render_firewall(settings, balancer_cidrs), "0755"),
        HostFile("/etc/ssh/sshd_config.d/launchpad.conf", render_template("sshd.conf.j2", admin_user=ADMIN_USER)),
        HostFile("/etc/apt/apt.conf.d/20auto-upgrades", render_template("auto-upgrades.j2")),
    ]
    if settings.balanced:
        cidrs = tuple(balancer_cidrs) or balanced.default_cidrs(settings)
        files.append(HostFile(balanced.CONF_PATH, balanced.nginx_balancer_conf(settings, cidrs)))
    if settings.tls and settings.domain:
        files += [
            HostFile(f"/etc/nginx/sites-available/{app}.tls", render_nginx_site(settings, cert_ready=True)),
        ]
        # The certificate step: the stack's stored certificate, or certbot (render/certificate.py).
        files += certificate.host_files(settings, agent.get("certificates") or certificate.store_spec(settings))
    from launchpad.render import access  # noqa: PLC0415 - day-2 access (launchpad ssh/run/logs) on AWS
    files += access.host_files(settings.provider)
    # Last: the bootstrap script it carries runs after every other file is in place.
    # agent.json leaves out the certificate store: /etc/launchpad/certificate.json names it.
    return files + release_host.release_host_files(
        app, {k: v for k, v in agent.items() if k != "certificates"}, tls=settings.tls, cert_dir=certificate_dir(settings.domain) if settings.domain else "",
        trusted_proxies=settings.trusted_proxies, hsts=settings.https if settings.balanced else None)


def render(settings: Settings, agent: Mapping[str, Any] | None = None, balancer_cidrs: Sequence[str] = ()) -> Rendered:
    agent = agent or default_agent(settings)
    files = host_files(settings, agent, balancer_cidrs)
    user_data = render_template(
        "cloud-config.yaml.j2", stack=settings.stack, packages=_packages(settings, agent),
        admin_user=ADMIN_USER, ssh_keys=[k.strip() for k in settings.ssh_keys], app=settings.app.unix_name,
        files=files,
    )
    by_path = {f.path: f.content for f in files}
    app = settings.app.unix_name
    main_paths = {"/etc/nginx/nginx.conf", "/etc/nginx/conf.d/launchpad.conf", f"/etc/nginx/sites-available/{app}", f"/etc/systemd/system/{app}@.socket",
                  f"/etc/systemd/system/{app}@.service", f"/etc/{app}/gunicorn.conf.py", release_host.BOOTSTRAP}
    return Rendered(
        user_data=user_data,
        nginx_main=by_path["/etc/nginx/nginx.conf"],
        nginx_http=by_path["/etc/nginx/conf.d/launchpad.conf"],
        nginx_site=by_path[f"/etc/nginx/sites-available/{app}"],
        app_socket=by_path[f"/etc/systemd/system/{app}@.socket"],
        app_service=by_path[f"/etc/systemd/system/{app}@.service"],
        gunicorn_conf=by_path[f"/etc/{app}/gunicorn.conf.py"],
        deploy_script=by_path[release_host.BOOTSTRAP],
        extra={p: c for p, c in by_path.items() if p not in main_paths},
    )


def render_user_data(settings: Settings, agent: Mapping[str, Any] | None = None,
                     balancer_cidrs: Sequence[str] = ()) -> str:
    """The #cloud-config text, checked against the provider's user-data limit
    (as the provider counts it: EC2 after gzip). The stack's host encodes it for
    its API with `settings.profile.user_data.encode`."""
    text = render(settings, agent, balancer_cidrs).user_data
    rule = settings.profile.user_data
    if rule is None:
        raise ValueError(f"provider {settings.provider!r} boots no host from user-data")
    size = rule.size(text)
    if size > rule.limit:
        raise ConfigError(settings.stack, [Problem("sshKeys", f"the rendered user-data is {size} bytes, over {rule.limit_name} "
                                                              f"({rule.limit}); it carries no app, so fewer or shorter SSH keys")])
    return text
