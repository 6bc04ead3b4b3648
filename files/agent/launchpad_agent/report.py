"""Publishes this host's status.json where the deployer reads it, for releases rolled host by host
on a cloud balancer: the deployer has no way into the host (no SSH, no inbound port but the
balancer's) and must still see each host take the release (launchpad/ops/roll_store.py).

agent.json's `status_store` (`s3://<bucket>/<stack>/status`) turns it on; the object is
`<that>/<who>.json`:
- AWS (`host_id: aws`): `<who>` = the role session's `aws:userid`, `<role id>:<instance id>`
  (STS GetCallerIdentity, once per boot). The instance role may PutObject on
  `<stack>/status/${aws:userid}.json` and nothing else in the bucket: a host can write its own
  status, not another host's, and never a release, a pin or the pointer;
- DigitalOcean (`host_id: digitalocean`): `<who>` = the droplet id, in a status bucket of its own,
  with the write key sealed to the droplet next to the store's read key (sealed.py): Spaces keys
  are per bucket, so that key cannot touch the releases.
Called after every status change (state.save_status); a publication that fails is retried on
the next sync pass (state.locked). It never fails a release: the deployer waits, and stops the
roll at its deadline, if it cannot see a host.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from launchpad_agent.rules import Failure

CALLER_CACHE = Path("/run/launchpad-agent/caller-id")
USERID_RE = re.compile(r"^[A-Z0-9]{8,64}:[A-Za-z0-9._-]{1,64}$")


def _call(method: str, host: str, path: str, query: str, body: bytes, headers: dict[str, str], creds: dict,
          region: str, service: str) -> tuple[int, bytes]:
    from launchpad_agent.aws import call  # noqa: PLC0415
    return call(method, host, path, query, body, headers, creds, region, service, timeout=15)


def caller_userid(region: str, creds: dict) -> str:
    """`AROA...:i-...`: what IAM calls this role session (its `aws:userid`)."""
    try:
        cached = CALLER_CACHE.read_text().strip()
    except OSError:
        cached = ""
    if USERID_RE.fullmatch(cached):
        return cached
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    status, answer = _call("POST", f"sts.{region}.amazonaws.com", "/", "", body,
                           {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}, creds, region, "sts")
    found = re.search(rb"<UserId>([^<]+)</UserId>", answer)
    if status != 200 or not found or not USERID_RE.fullmatch(found.group(1).decode()):
        raise Failure("fetch", f"STS GetCallerIdentity: HTTP {status} {answer[:200]!r}")
    userid = found.group(1).decode()
    CALLER_CACHE.parent.mkdir(mode=0o700, exist_ok=True)
    CALLER_CACHE.write_text(userid + "\n")
    return userid


def target(cfg: dict) -> tuple[str, str, dict, str | None] | None:
    """(bucket, key, credentials, endpoint) of this host's status object; None when not published."""
    url = cfg.get("status_store")
    if not url:
        return None
    bucket, _, prefix = str(url).removeprefix("s3://").partition("/")
    region = cfg.get("region") or "us-east-1"
    source = cfg.get("host_id")
    if source == "aws":
        from launchpad_agent.aws import credentials  # noqa: PLC0415
        creds = credentials(cfg.get("credentials_file"))
        who = caller_userid(region, creds)
    elif source == "digitalocean":
        from launchpad_agent import sealed  # noqa: PLC0415
        from launchpad_agent.store import host_id  # noqa: PLC0415
        opened = sealed.spaces_credentials(cfg)
        creds = (opened or {}).get("status") or {}
        if not creds:
            return None  # not enrolled yet, or a deployer that seals no status key: nothing to publish with
        who = host_id(cfg) or ""
    else:
        raise Failure("fetch", f"status_store needs host_id aws or digitalocean in agent.json, not {source!r}")
    return bucket, f"{prefix.strip('/')}/{who}.json", creds, cfg.get("endpoint")


def publish(cfg: dict, data: bytes) -> bool:
    """PUTs status.json; True when published (or nothing to publish to), False to retry later."""
    where = target(cfg)
    if where is None:
        return True
    bucket, key, creds, endpoint = where
    region = cfg.get("region") or "us-east-1"
    if endpoint:
        host, path = urllib.parse.urlsplit(endpoint).netloc, f"/{bucket}/{key}"
    else:
        host, path = f"{bucket}.s3.{region}.amazonaws.com", f"/{key}"
    status, answer = _call("PUT", host, urllib.parse.quote(path, safe="/-_.~"), "", data,
                           {"content-type": "application/json"}, creds, region, "s3")
    if status != 200:
        raise Failure("fetch", f"status to s3://{bucket}/{key}: HTTP {status} {answer[:200]!r}")
    return True
