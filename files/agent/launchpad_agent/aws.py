"""S3, Spaces and Secrets Manager over HTTPS with SigV4, standard library only.

Why not boto3: the timer runs the agent every 2 s, and importing boto3 costs about half a
second of CPU each time (a quarter of a small instance's core, forever). Signing a GET
is 30 lines. Credentials: the instance role through IMDSv2 (AWS; cached in /run until
shortly before they expire), or on DigitalOcean the read-only Spaces key sealed to this
host (sealed.py), or a key file named by agent.json's `credentials_file`.
Checked against AWS's published SigV4 examples (tests/agent/test_aws.py).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import time
import urllib.parse
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from launchpad_agent.rules import Failure

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
IMDS = "169.254.169.254"
CREDS_CACHE = Path("/run/launchpad-agent/credentials.json")


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(method: str, host: str, path: str, query: str, headers: dict[str, str], payload_sha256: str,
         creds: dict[str, str], region: str, service: str, amz_date: str) -> dict[str, str]:
    """Headers for one SigV4-signed request: the given ones plus host, x-amz-date,
    the session token if any, and Authorization. `path` is already URI-encoded."""
    all_headers = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    all_headers.update({"host": host, "x-amz-date": amz_date})
    if creds.get("token"):
        all_headers["x-amz-security-token"] = creds["token"]
    names = sorted(all_headers)
    canonical_query = "&".join(sorted(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)))
    canonical = "\n".join([method, path, canonical_query, *(f"{n}:{all_headers[n]}" for n in names), "",
                           ";".join(names), payload_sha256])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(signing_key(creds["secret"], amz_date[:8], region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    all_headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={creds['key']}/{scope}, "
                                    f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return all_headers


def _imds(method: str, path: str, headers: dict[str, str]) -> str:
    conn = http.client.HTTPConnection(IMDS, 80, timeout=3)
    try:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        body = resp.read().decode()
        if resp.status != 200:
            raise Failure("fetch", f"instance metadata {path}: HTTP {resp.status}; does the instance have its role?")
        return body
    finally:
        conn.close()


def credentials(key_file: str | None) -> dict[str, str]:
    """{"key", "secret", "token"?}: from a key file ({"access_key_id", "secret_access_key"}),
    else the instance role (IMDSv2), cached until 5 minutes before expiry."""
    if key_file:
        data = json.loads(Path(key_file).read_text())
        return {"key": data["access_key_id"], "secret": data["secret_access_key"]}
    try:
        cached = json.loads(CREDS_CACHE.read_text())
        if cached["expires"] - time.time() > 300:
            return cached["creds"]
    except (OSError, ValueError, KeyError):
        pass
    token = _imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "300"})
    auth = {"X-aws-ec2-metadata-token": token}
    role = _imds("GET", "/latest/meta-data/iam/security-credentials/", auth).split()[0]
    data = json.loads(_imds("GET", f"/latest/meta-data/iam/security-credentials/{role}", auth))
    creds = {"key": data["AccessKeyId"], "secret": data["SecretAccessKey"], "token": data["Token"]}
    expires = datetime.fromisoformat(data["Expiration"].replace("Z", "+00:00")).timestamp()
    CREDS_CACHE.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(CREDS_CACHE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"creds": creds, "expires": expires}, f)
    return creds


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class S3Store:
    """An s3://bucket/prefix store. AWS: virtual-hosted names in the bucket's region;
    an `endpoint` (Spaces: https://<region>.digitaloceanspaces.com): path-style on it."""

    def __init__(self, url: str, region: str | None, endpoint: str | None,
                 creds: Callable[[], dict[str, str] | None] | None = None):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket, self.prefix, self.region = bucket, prefix.strip("/"), region or "us-east-1"
        self.creds = creds or (lambda: credentials(None))
        if endpoint:
            self.host, self.base = urllib.parse.urlsplit(endpoint).netloc, f"/{bucket}"
        else:
            self.host, self.base = f"{bucket}.s3.{self.region}.amazonaws.com", ""

    def _request(self, key: str) -> http.client.HTTPResponse | None:
        creds = self.creds()
        if creds is None:
            return None  # no read key yet (a droplet not enrolled yet): nothing to see
        full = f"{self.prefix}/{key}" if self.prefix else key
        path = urllib.parse.quote(f"{self.base}/{full}", safe="/-_.~")
        headers = sign("GET", self.host, path, "", {"x-amz-content-sha256": EMPTY_SHA256}, EMPTY_SHA256,
                       creds, self.region, "s3", _now())
        conn = http.client.HTTPSConnection(self.host, timeout=30)
        conn.request("GET", path, headers=headers)
        return conn.getresponse()

    def get(self, key: str) -> bytes | None:
        """The object, or None when it is not there. Without s3:ListBucket (the role may only
        GetObject under its prefix) S3 answers a missing key with 403, so 403 is "not there"."""
        resp = self._request(key)
        if resp is None:
            return None
        body = resp.read()
        if resp.status in (403, 404):
            return None
        if resp.status != 200:
            raise Failure("fetch", f"s3://{self.bucket}/{self.prefix}/{key}: HTTP {resp.status} {body[:200]!r}")
        return body

    def open(self, key: str) -> http.client.HTTPResponse:
        resp = self._request(key)
        if resp is None:
            raise Failure("fetch", f"s3://{self.bucket}/{self.prefix}: no read key for the store yet")
        if resp.status != 200:
            raise Failure("fetch", f"s3://{self.bucket}/{self.prefix}/{key}: HTTP {resp.status} {resp.read()[:200]!r}")
        return resp


def call(method: str, host: str, path: str, query: str, body: bytes, headers: dict[str, str], creds: dict,
         region: str, service: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """One SigV4-signed HTTPS request (payload hash signed, as S3 requires): (status, body)."""
    payload = hashlib.sha256(body).hexdigest()
    signed = sign(method, host, path, query, {**headers, "x-amz-content-sha256": payload}, payload, creds, region,
                  service, _now())
    conn = http.client.HTTPSConnection(host, timeout=timeout)
    try:
        conn.request(method, path + (f"?{query}" if query else ""), body=body or None, headers=signed)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def secretsmanager(action: str, payload: dict, region: str) -> tuple[int, bytes]:
    """One Secrets Manager action through the instance role: (status, body)."""
    return call("POST", f"secretsmanager.{region}.amazonaws.com", "/", "", json.dumps(payload).encode(),
                {"content-type": "application/x-amz-json-1.1", "x-amz-target": f"secretsmanager.{action}"},
                credentials(None), region, "secretsmanager")


def secretsmanager_get(arn: str, region: str) -> dict[str, str]:
    """The JSON map in a Secrets Manager secret (its current version), through the instance role."""
    status, answer = secretsmanager("GetSecretValue", {"SecretId": arn}, region)
    if status != 200:
        raise Failure("fetch", f"Secrets Manager {arn}: HTTP {status} {answer[:200]!r}")
    values = json.loads(json.loads(answer)["SecretString"])
    if not isinstance(values, dict):
        raise Failure("fetch", f"Secrets Manager {arn}: expected a JSON object of NAME: value")
    return values
