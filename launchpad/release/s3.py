"""A cloud release store (S3 or Spaces) as the deployer's commands see it: list, read, point.

`pulumi up` writes the store's objects as Pulumi resources (components/aws/release_store.py,
components/digitalocean/release_store.py); `launchpad releases` reads the manifests and
`launchpad rollback` rewrites `releases/desired.json` to an earlier id, with the deployer's
own credentials from the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
AWS_SESSION_TOKEN; Spaces: SPACES_ACCESS_KEY_ID / SPACES_SECRET_ACCESS_KEY, as the
DigitalOcean provider takes them). SigV4 over HTTPS, standard library only, like the agent.

A rollback rewrites an object Pulumi manages: the host follows it at once, and it stays until
the next `pulumi up` that publishes a different release (or a `pulumi refresh`).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from launchpad.release.artifact import Artifact
from launchpad.release.manifest import DESIRED, ID, Manifest, ManifestError, Pointer, history

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class StoreError(RuntimeError):
    """The store could not be read or written; the message says which object and why."""


@dataclass(frozen=True)
class Creds:
    key: str
    secret: str
    token: str | None = None


def creds_from_env(spaces: bool, environ: Mapping[str, str] | None = None) -> Creds:
    env = os.environ if environ is None else environ
    names = ("SPACES_ACCESS_KEY_ID", "SPACES_SECRET_ACCESS_KEY") if spaces else ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    key, secret = env.get(names[0]), env.get(names[1])
    if not key or not secret:
        hint = "" if spaces else " (with a profile or SSO: eval \"$(aws configure export-credentials --format env)\")"
        raise StoreError(f"{names[0]} and {names[1]} are not set: the store's credentials come from the environment{hint}")
    return Creds(key, secret, None if spaces else env.get("AWS_SESSION_TOKEN"))


def sign(method: str, host: str, path: str, query: str, headers: Mapping[str, str], payload_sha256: str,
         creds: Creds, region: str, amz_date: str, service: str = "s3") -> dict[str, str]:
    """Headers of one SigV4-signed request (the given ones, host, x-amz-date, token, Authorization)."""
    # The release agent signs its own requests the same way (files/agent/launchpad_agent/aws.py): a
    # deliberate copy, since the agent ships to hosts standalone with the standard library only.
    signed = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    signed.update({"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload_sha256})
    if creds.token:
        signed["x-amz-security-token"] = creds.token
    names = sorted(signed)
    canonical_query = "&".join(sorted(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)))
    canonical = "\n".join([method, path, canonical_query, *(f"{n}:{signed[n]}" for n in names), "",
                           ";".join(names), payload_sha256])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + creds.secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = (f"AWS4-HMAC-SHA256 Credential={creds.key}/{scope}, "
                               f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return signed


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


Connect = Callable[[str], http.client.HTTPConnection]


class S3Store:
    """`s3://bucket/prefix` on AWS (virtual-hosted, the bucket's region) or on an S3-compatible
    `endpoint` such as Spaces (path-style)."""

    def __init__(self, url: str, region: str, creds: Creds, endpoint: str | None = None,
                 connect: Connect | None = None):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.url, self.bucket, self.prefix, self.region, self.creds = url, bucket, prefix.strip("/"), region, creds
        if endpoint:
            self.host, self.base = urllib.parse.urlsplit(endpoint).netloc, f"/{bucket}"
        else:
            self.host, self.base = f"{bucket}.s3.{region}.amazonaws.com", ""
        self.connect = connect or (lambda host: http.client.HTTPSConnection(host, timeout=30))

    def _call(self, method: str, key: str = "", query: str = "", body: bytes = b"",
              content_type: str | None = None) -> tuple[int, bytes]:
        full = f"{self.prefix}/{key}" if key else ""
        path = urllib.parse.quote(f"{self.base}/{full}", safe="/-_.~") if full else f"{self.base}/"
        headers = {"content-type": content_type} if content_type else {}
        signed = sign(method, self.host, path, query, headers, hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256,
                      self.creds, self.region, _now())
        conn = self.connect(self.host)
        try:
            conn.request(method, path + (f"?{query}" if query else ""), body=body or None, headers=signed)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except OSError as err:
            raise StoreError(f"{self.url}: {method} {key or '(list)'}: {err}") from None
        finally:
            conn.close()

    def get(self, key: str) -> bytes | None:
        """One object under the prefix; None when it is not there (404)."""
        return self._get(key)

    def _get(self, key: str) -> bytes | None:
        status, body = self._call("GET", key)
        if status == 404:
            return None
        if status != 200:
            raise StoreError(f"{self.url}/{key}: HTTP {status} {body[:200]!r}")
        return body

    def _keys(self, folder: str) -> list[str]:
        keys, token = [], None
        while True:
            query = f"list-type=2&prefix={urllib.parse.quote(f'{self.prefix}/{folder}', safe='')}"
            if token:
                query += f"&continuation-token={urllib.parse.quote(token, safe='')}"
            status, body = self._call("GET", query=query)
            if status != 200:
                raise StoreError(f"{self.url}: listing {folder}: HTTP {status} {body[:200]!r}")
            root = ET.fromstring(body)
            ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            keys += [el.text or "" for el in root.iter(f"{ns}Key")]
            token = root.findtext(f"{ns}NextContinuationToken")
            if not token:
                return keys

    def get_manifest(self, release_id: str) -> Manifest | None:
        if not ID.match(release_id):
            return None
        raw = self._get(f"releases/{release_id}.json")
        return Manifest.from_json(raw) if raw is not None else None

    def list_manifests(self) -> list[Manifest]:
        found = []
        for key in self._keys("releases/"):
            name = key.rsplit("/", 1)[-1]
            if name == DESIRED or not ID.match(name.removesuffix(".json")):
                continue
            try:
                manifest = self.get_manifest(name.removesuffix(".json"))
            except ManifestError:
                continue
            if manifest is not None:
                found.append(manifest)
        return history(found)

    def get_desired(self) -> Pointer | None:
        raw = self._get(f"releases/{DESIRED}")
        return Pointer.from_json(raw) if raw is not None else None

    def set_desired(self, release_id: str) -> Pointer:
        if self.get_manifest(release_id) is None:
            raise StoreError(f"release {release_id!r} is not in {self.url}; `launchpad releases` lists those that are")
        pointer = Pointer.to(release_id)
        status, body = self._call("PUT", f"releases/{DESIRED}", body=pointer.to_json().encode(), content_type="application/json")
        if status != 200:
            raise StoreError(f"{self.url}/releases/{DESIRED}: PUT answered HTTP {status} {body[:200]!r}")
        return pointer

    def put_artifact(self, artifact: Artifact) -> bool:
        raise StoreError("cloud stores get their artifacts from `pulumi up` (a Pulumi resource), not from here")
