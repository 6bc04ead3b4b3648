"""The release store as a cloud roll writes and reads it: per-host pins, the stack's pointer,
and the status each host's agent publishes. One boto3 S3 client (AWS, or Spaces with its
endpoint), injected, so tests use botocore's Stubber.

    <stack>/releases/desired/<host>.json   the pin the deployer writes for one host
    <stack>/releases/desired.json          the stack's pointer, moved once every host serves
    <status bucket>/<stack>/status/<who>.json
        what each host's agent publishes after every change of its status.json
        (files/agent/launchpad_agent/report.py). AWS: in the store bucket, `<who>` = the role
        session's `aws:userid`, `<role id>:<instance id>`, the one key the instance's role may
        put (IAM: PutObject on `<stack>/status/${aws:userid}.json` only); DigitalOcean: in a
        separate status bucket (Spaces keys are per bucket: the droplets' write key cannot touch
        the releases), `<who>` = the droplet id.
A host reads every pin and the pointer but can write none of them, so it can neither move
itself nor another host; a status it forges only misleads the deployer about itself, and the
balancer's health check on rejoin is checked as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from launchpad.release.manifest import ID, Pointer
from launchpad.release.rolling import StatusWait

PINS = "releases/desired"
POINTER = "releases/desired.json"
STATUS = "status"


def host_of(key: str) -> str:
    """`.../status/AROAEXAMPLE:i-0abc.json` -> `i-0abc`; `.../status/123456.json` -> `123456`."""
    name = key.rsplit("/", 1)[-1].removesuffix(".json")
    return name.rsplit(":", 1)[-1]


class RollStore:
    def __init__(self, s3: Any, bucket: str, prefix: str, status_bucket: str | None = None) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix.strip("/")
        self.status_bucket = status_bucket or bucket
        self.status_keys: dict[str, str] = {}
        """host id -> its status object's key, as the last listing found it."""

    def _key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}"

    def _put(self, rel: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self._key(rel), Body=body, ContentType="application/json",
                           CacheControl="no-store")

    def has_release(self, release_id: str) -> bool:
        if not ID.match(release_id):
            return False
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self._key(f"releases/{release_id}.json"))
        except Exception as err:  # noqa: BLE001 - botocore's ClientError; 404 = not there
            if _code(err) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def manifest(self, release_id: str) -> bytes | None:
        return self._get(self.bucket, self._key(f"releases/{release_id}.json"))

    def pin(self, host: str, release_id: str) -> None:
        self._put(f"{PINS}/{host}.json", Pointer.to(release_id).to_json().encode())

    def unpin(self, host: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._key(f"{PINS}/{host}.json"))

    def set_pointer(self, release_id: str) -> None:
        if not self.has_release(release_id):
            raise ValueError(f"release {release_id!r} is not in s3://{self.bucket}/{self.prefix}; publish it first")
        self._put(POINTER, Pointer.to(release_id).to_json().encode())

    def pointer(self) -> str | None:
        raw = self._get(self.bucket, self._key(POINTER))
        return Pointer.from_json(raw).id if raw else None

    def statuses(self) -> dict[str, dict[str, Any]]:
        """host id -> its last published status (the newest object per host)."""
        found: dict[str, tuple[Any, dict[str, Any]]] = {}
        token: str | None = None
        while True:
            page = self.s3.list_objects_v2(Bucket=self.status_bucket, Prefix=self._key(f"{STATUS}/"),
                                           **({"ContinuationToken": token} if token else {}))
            for item in page.get("Contents", []):
                key = str(item["Key"])
                if not key.endswith(".json"):
                    continue
                host = host_of(key)
                if host in found and found[host][0] >= item.get("LastModified"):
                    continue
                raw = self._get(self.status_bucket, key)
                try:
                    data = json.loads(raw) if raw else {}
                except ValueError:
                    data = {}
                found[host] = (item.get("LastModified"), dict(data) if isinstance(data, Mapping) else {})
                self.status_keys[host] = key
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return {host: dict(data) for host, (_, data) in found.items()}

    def forget(self, host: str) -> None:
        """Deletes a host's status object (an instance that no longer runs)."""
        key = self.status_keys.pop(host, None)
        if key is not None:
            self.s3.delete_object(Bucket=self.status_bucket, Key=key)

    def status(self, host: str) -> dict[str, Any]:
        """One host's status: one GET once its key is known, a listing until then."""
        key = self.status_keys.get(host)
        if key is None:
            return self.statuses().get(host, {})
        raw = self._get(self.status_bucket, key)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return dict(data) if isinstance(data, Mapping) else {}

    def _get(self, bucket: str, key: str) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except Exception as err:  # noqa: BLE001 - botocore's ClientError
            if _code(err) in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
                return None
            raise


def _code(err: Exception) -> str:
    response = getattr(err, "response", None)
    return str(((response or {}).get("Error") or {}).get("Code", "")) if isinstance(response, dict) else ""


class StoreFleet(StatusWait):
    """What a cloud fleet does through the store (pins, the pointer, the published statuses);
    the balancer steps (hosts, drain, rejoin) are the provider's."""

    store: RollStore

    def status(self, host: str) -> dict[str, Any]:
        return self.store.status(host)

    def pin(self, host: str, release_id: str) -> None:
        self.store.pin(host, release_id)

    def unpin(self, host: str) -> None:
        self.store.unpin(host)

    def poke(self, host: str) -> None:
        """Nothing to poke from outside: the agent's timer reads the pin within 2 s."""

    def set_pointer(self, release_id: str) -> None:
        self.store.set_pointer(release_id)
