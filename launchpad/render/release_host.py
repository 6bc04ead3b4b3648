"""The host side of releases, as files: the release agent, its config and timer, the
blue/green slot units, the slot gunicorn config, the nginx snippets the agent switches,
and the bootstrap script that brings it all up.

Pure: plain values in, `HostFile`s out, no Pulumi and no app bytes (those come from the
release store, never from user-data). The bootstrap renderer adds these files to the
cloud-config; `launchpad render`, the local target and the tests read the very same list.

On the host (the release contract in the README):
- /usr/local/sbin/launchpad-agent: the agent package (files/agent/launchpad_agent) as one
  executable zip, fetched by the bootstrap from the store's `agent/<sha256>.pyz` and run only
  if its sha256 is the one pinned in user-data (AWS: through the instance role, python3-boto3;
  Spaces: a public-read object, plain HTTPS, since the droplet holds no key before enrolling;
  local: a copy from the read-only store folder, put there before the machine boots).
  User-data does not carry it on any provider: 16 KiB on EC2, and its ~44 KB of base64 would
  leave a droplet's (or a local machine's) 64 KiB nearly full.
- /etc/launchpad/agent.json: app, store URL, secrets source, health host, releases kept, the
  gunicorn requirement added to an app that names none
- <app>@.socket / <app>@.service: slots a and b, /run/<app>-<slot>.sock
- launchpad-agent.service (oneshot `sync`) + launchpad-agent.timer (every 2 s)
- /etc/<app>/gunicorn.conf.py (one config for every release and slot)
- /etc/nginx/launchpad/<app>-headers.conf (the headers every app answer carries) and
  initial/<app>-{live,static}.conf, copied into place by the bootstrap before the first
  release so nginx starts (the agent owns the real ones)
- /usr/local/sbin/launchpad-bootstrap, which cloud-init runs last
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

from launchpad.providers import GUNICORN_REQUIREMENT
from launchpad.render.host_file import HostFile
from launchpad.render.templates import FILES, render_template

AGENT = "/usr/local/sbin/launchpad-agent"
AGENT_CONFIG = "/etc/launchpad/agent.json"
BOOTSTRAP = "/usr/local/sbin/launchpad-bootstrap"
NGINX_DIR = "/etc/nginx/launchpad"
LOCAL_STORE = "file:///var/lib/launchpad/store"
GRACEFUL_TIMEOUT = 30
SECRET_KINDS = ("file", "aws-secretsmanager", "spaces-sealed")
HOST_ID_SOURCES = ("hostname", "aws", "digitalocean")


def agent_config(app: str, store: str, *, health_host: str, keep: int = 5, secrets: Mapping[str, Any] | None = None,
                 region: str | None = None, endpoint: str | None = None, host_id: str | None = None,
                 status_store: str | None = None) -> dict[str, Any]:
    """/etc/launchpad/agent.json. No secrets in it: it names where they are. `host_id`: where the
    agent learns its own name for the per-host pointers of a rolling release (`hostname`, `aws`,
    `digitalocean`: files/agent/launchpad_agent/store.py); None with one host. `status_store`:
    `s3://<bucket>/<stack>/status`, where a cloud host behind a balancer publishes its status.json
    for the deployer's roll (files/agent/launchpad_agent/report.py). `gunicorn`: what
    the agent adds to a release's venv when the app names no gunicorn (the one pin, providers.py)."""
    if not (store.startswith("file:///") or store.startswith("s3://")):
        raise ValueError(f"store {store!r}: expected file:///path or s3://bucket/prefix")
    secrets = dict(secrets or {"kind": "file"})
    if secrets.get("kind") not in SECRET_KINDS:
        raise ValueError(f"secrets.kind {secrets.get('kind')!r}: expected one of {', '.join(SECRET_KINDS)}")
    config: dict[str, Any] = {"app": app, "store": store, "secrets": secrets, "health_host": health_host, "keep": keep,
                              "gunicorn": GUNICORN_REQUIREMENT}
    if region:
        config["region"] = region
    if endpoint:
        config["endpoint"] = endpoint
    if host_id is not None:
        if host_id not in HOST_ID_SOURCES:
            raise ValueError(f"host_id {host_id!r}: expected one of {', '.join(HOST_ID_SOURCES)}")
        config["host_id"] = host_id
    if status_store is not None:
        if not status_store.startswith("s3://") or host_id not in ("aws", "digitalocean"):
            raise ValueError(f"status_store {status_store!r}: expected s3://bucket/prefix, with host_id aws or digitalocean")
        config["status_store"] = status_store
    return config


def status_bucket_name(release_bucket: str) -> str:
    """DigitalOcean behind a balancer: the bucket the droplets publish their status to, named after
    the release bucket, so agent.json names it from that name alone (components/digitalocean/status_bucket.py)."""
    return f"{release_bucket}-status"


def enroll_bucket_name(release_bucket: str) -> str:
    """DigitalOcean: the bucket each droplet announces its own key in (agent.json's secrets.enrollment),
    named after the release bucket (components/digitalocean/enroll_bucket.py)."""
    return f"{release_bucket}-enroll"


def agent_pyz() -> bytes:
    """The agent as one executable zip (python3 runs a zip's __main__.py): deterministic
    (sorted members, fixed timestamps), so its sha256 changes only with the agent's code."""
    root = FILES / "agent" / "launchpad_agent"
    buf = io.BytesIO()
    buf.write(b"#!/usr/bin/python3\n")
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as pyz:
        members = [(f"launchpad_agent/{p.name}", p.read_bytes()) for p in sorted(root.glob("*.py"))]
        members.append(("__main__.py", b"import sys\nfrom launchpad_agent.cli import main\nsys.exit(main())\n"))
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            pyz.writestr(info, data)
    return buf.getvalue()


def agent_sha256() -> str:
    return hashlib.sha256(agent_pyz()).hexdigest()


def agent_key() -> str:
    """Where the deployer puts the agent in every store, relative to its root (the bootstrap
    fetches it from there: user-data is too small for it)."""
    return f"agent/{agent_sha256()}.pyz"


def agent_path(store: str) -> str:
    """The agent's path in a file:// store (the local target's store folder)."""
    if not store.startswith("file:///"):
        raise ValueError(f"store {store!r}: expected file:///path")
    return f"{store.removeprefix('file://').rstrip('/')}/{agent_key()}"


def fetch_source(agent: Mapping[str, Any]) -> str:
    """How the bootstrap gets the agent: `role` (S3 through the instance role, AWS), `public`
    (a public-read Spaces object, plain HTTPS) or `file` (the local store folder). Always
    pinned by the sha256 in user-data."""
    store = str(agent.get("store", ""))
    if store.startswith("file:///"):
        return "file"
    return "public" if agent.get("endpoint") else "role"


def agent_url(agent: Mapping[str, Any]) -> str:
    """The agent's public URL in a Spaces store (virtual-hosted), "" for AWS (read through the role)."""
    endpoint = str(agent.get("endpoint") or "")
    if not endpoint:
        return ""
    bucket, _, prefix = str(agent["store"]).removeprefix("s3://").partition("/")
    host = endpoint.removeprefix("https://").strip("/")
    return f"https://{bucket}.{host}/" + "/".join(p for p in (prefix.strip("/"), agent_key()) if p)


def release_host_files(app: str, agent: Mapping[str, Any], *, tls: bool = False, cert_dir: str = "",
                       firewall: bool = True, trusted_proxies: int = 1, hsts: bool | None = None) -> list[HostFile]:
    """Every release-related file the host needs, in the order cloud-init writes them.

    `agent` is agent_config()'s dict; `cert_dir` the certificate folder the bootstrap checks
    when `tls`; `trusted_proxies` the slots' LAUNCHPAD_TRUSTED_PROXIES (2 behind a load
    balancer); `hsts` the HSTS header when the balancer, not the host, serves TLS."""
    if agent.get("app") != app:
        raise ValueError(f"agent config app {agent.get('app')!r} differs from the app {app!r}")
    values = {"app": app, "graceful_timeout": GRACEFUL_TIMEOUT, "trusted_proxies": trusted_proxies}
    source = fetch_source(agent)
    store = str(agent["store"]).removeprefix("s3://").partition("/")
    fetch_values = {"agent_source": source, "agent_sha256": agent_sha256(), "region": agent.get("region") or "",
                    "bucket": store[0], "agent_key": f"{store[2].strip('/')}/{agent_key()}".lstrip("/"),
                    "agent_url": agent_url(agent), "agent_path": agent_path(str(agent["store"])) if source == "file" else ""}
    return [
        HostFile(AGENT_CONFIG, json.dumps(dict(agent), indent=2, sort_keys=True) + "\n", "0600"),
        HostFile(f"/etc/{app}/gunicorn.conf.py", render_template("gunicorn-release.conf.py.j2", **values)),
        HostFile(f"/etc/systemd/system/{app}@.socket", render_template("app@.socket.j2", **values)),
        HostFile(f"/etc/systemd/system/{app}@.service", render_template("app@.service.j2", **values)),
        HostFile("/etc/systemd/system/launchpad-agent.service", render_template("launchpad-agent.service.j2", **values)),
        HostFile("/etc/systemd/system/launchpad-agent.timer", render_template("launchpad-agent.timer.j2", **values)),
        HostFile(f"{NGINX_DIR}/{app}-headers.conf", render_template("nginx-headers.conf.j2", app=app, tls=tls if hsts is None else hsts)),
        HostFile(f"{NGINX_DIR}/initial/{app}-live.conf", render_template("nginx-live.conf.j2", app=app)),
        HostFile(f"{NGINX_DIR}/initial/{app}-static.conf", render_template("nginx-static.conf.j2", app=app)),
        HostFile(BOOTSTRAP, render_template("bootstrap.sh.j2", app=app, tls=tls, cert_dir=cert_dir, firewall=firewall,
                                            **fetch_values), "0755"),
    ]

