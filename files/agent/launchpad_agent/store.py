"""Where releases come from: the store (a folder, or S3/Spaces: aws.py), the
release's secrets, and the artifact's safe, hash-verified streaming extraction."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath

from launchpad_agent.rules import HEX_RE, MAX_EXTRACT_BYTES, Failure, member_problem


POINTER = "releases/desired.json"
HOST_POINTERS = "releases/desired"
HOST_ID_CACHE = Path("/run/launchpad-agent/host-id")
HOST_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
METADATA = "169.254.169.254"


def host_id(cfg: dict) -> str | None:
    """This host's name among the stack's per-host pointers, or None when agent.json names no
    `host_id` source (one host: the stack's pointer alone). Sources: `hostname` (local machines:
    the machine's name), `aws` (the instance id, IMDSv2), `digitalocean` (the droplet id, from
    the metadata service). Read once per boot, then from /run (the idle pass stays cheap)."""
    source = cfg.get("host_id")
    if not source:
        return None
    try:
        cached = HOST_ID_CACHE.read_text().strip()
    except OSError:
        cached = ""
    if HOST_ID_RE.fullmatch(cached):
        return cached
    if source == "hostname":
        value = os.uname().nodename
    elif source == "aws":
        from launchpad_agent.aws import _imds  # noqa: PLC0415 (lazy: once per boot)
        token = _imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        value = _imds("GET", "/latest/meta-data/instance-id", {"X-aws-ec2-metadata-token": token})
    elif source == "digitalocean":
        value = _metadata("/metadata/v1/id")
    else:
        raise Failure("fetch", f"host_id {source!r} in agent.json: expected hostname, aws or digitalocean")
    value = value.strip()
    if not HOST_ID_RE.fullmatch(value):
        raise Failure("fetch", f"host_id from {source}: {value[:80]!r} is not a host name or id")
    HOST_ID_CACHE.parent.mkdir(mode=0o700, exist_ok=True)
    HOST_ID_CACHE.write_text(value + "\n")
    return value


def _metadata(path: str) -> str:
    import http.client  # noqa: PLC0415
    conn = http.client.HTTPConnection(METADATA, 80, timeout=3)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read().decode()
    finally:
        conn.close()
    if resp.status != 200:
        raise Failure("fetch", f"droplet metadata {path}: HTTP {resp.status}")
    return body


def desired_pointer(cfg: dict, store) -> bytes | None:
    """The pointer this host follows: its own `releases/desired/<host-id>.json` while the
    deployer rolls a release host by host (drained, pointed, healthy, rejoined), else the
    stack's `releases/desired.json` (every host, and any host the deployer has not pinned)."""
    hid = host_id(cfg)
    if hid is not None:
        raw = store.get(f"{HOST_POINTERS}/{hid}.json")
        if raw is not None:
            return raw
    return store.get(POINTER)


class FileStore:
    """A file:///path store: the local target's host folder, bind-mounted read-only."""

    def __init__(self, root: str):
        self.root = Path(root)

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def open(self, key: str):
        return open(self.root / key, "rb")


def open_store(cfg: dict):
    url = cfg["store"]
    if url.startswith("file://"):
        return FileStore(url.removeprefix("file://"))
    if url.startswith("s3://"):
        from launchpad_agent import aws  # noqa: PLC0415 (lazy: file stores need none of it)
        kind = (cfg.get("secrets") or {}).get("kind")
        if kind == "spaces-sealed":
            from launchpad_agent import sealed  # noqa: PLC0415
            return aws.S3Store(url, cfg.get("region"), cfg.get("endpoint"), lambda: sealed.spaces_credentials(cfg))
        key_file = cfg.get("credentials_file")
        return aws.S3Store(url, cfg.get("region"), cfg.get("endpoint"), lambda: aws.credentials(key_file))
    raise Failure("fetch", f"store {url!r}: expected file:///path or s3://bucket/prefix")


def fetch_secrets(cfg: dict, store, manifest: dict) -> list[tuple[str, str]]:
    spec = manifest.get("secrets") or {}
    names, version = spec.get("names") or [], spec.get("version") or ""
    if not names:
        return []
    kind = (cfg.get("secrets") or {}).get("kind", "file")
    if kind == "file":
        raw = store.get(f"secrets/{version}.json") if HEX_RE.fullmatch(version) else None
        values = json.loads(raw) if raw else {}
    elif kind == "aws-secretsmanager":
        from launchpad_agent.aws import secretsmanager_get  # noqa: PLC0415
        sec = cfg["secrets"]
        values = secretsmanager_get(sec["arn"], sec.get("region") or cfg.get("region") or "us-east-1")
    elif kind == "spaces-sealed":
        from launchpad_agent.sealed import sealed_secrets  # noqa: PLC0415
        values = sealed_secrets(cfg, store, version)
    else:
        raise Failure("fetch", f"secrets kind {kind!r}: this agent reads file, aws-secretsmanager and spaces-sealed")
    missing = [n for n in names if n not in values]
    if missing:
        raise Failure("fetch", f"secrets {', '.join(missing)} are named by the release but not in the {kind} secret store")
    return [(n, str(values[n])) for n in sorted(names)]



class Hashing:
    def __init__(self, raw, digest):
        self.raw, self.digest = raw, digest

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        return data


def safe_extract(fileobj, dest: Path) -> None:
    """Streams a tar.gz into dest: members checked before anything is written, files opened
    with O_NOFOLLOW|O_EXCL, symlinks created last so no write can go through one."""
    import shutil  # noqa: PLC0415 (lazy: only a release unpacks)
    import tarfile  # noqa: PLC0415
    links: list[tuple[Path, str]] = []
    link_names: set[str] = set()
    total = 0
    with tarfile.open(fileobj=fileobj, mode="r|gz") as tar:
        for m in tar:
            kind = "file" if m.isreg() else "dir" if m.isdir() else "link" if m.issym() else "hardlink" if m.islnk() else "special"
            name = m.name.removeprefix("./").rstrip("/")
            if not name:
                continue
            problem = member_problem(name, kind, m.linkname)
            parts = PurePosixPath(name).parts
            if problem is None and any("/".join(parts[:i]) in link_names for i in range(1, len(parts) + 1)):
                problem = f"{name!r}: inside or over a symlink member"
            if problem:
                raise Failure("fetch", f"artifact refused: {problem}")
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            if kind == "dir":
                target.mkdir(exist_ok=True, mode=0o750)
            elif kind == "link":
                links.append((target, m.linkname))
                link_names.add(name)
            else:
                total += m.size
                if total > MAX_EXTRACT_BYTES:
                    raise Failure("fetch", f"artifact refused: more than {MAX_EXTRACT_BYTES >> 30} GiB unpacked")
                src = tar.extractfile(m)
                assert src is not None  # a regular file always has a reader
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640 | (0o110 if m.mode & 0o100 else 0))
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
    for target, linkname in links:
        if target.exists() or target.is_symlink():
            raise Failure("fetch", f"artifact refused: {target.relative_to(dest)} is a symlink and something else")
        target.symlink_to(linkname)
