"""What every stack does with the app's release: build it where `pulumi up` runs, and tell the
host's agent where its store is.

The release is built before any resource is registered (launchpad/release/publish.py): the
artifact under `.launchpad/build/<stack>/` (content-addressed, rebuilt only when the app
changes), the manifest in memory. Its id is known to the program, so readiness waits for
exactly that release. The host's user-data only names the store (`agent.json`): an app
change changes release objects and readiness, never a host input.
"""

from __future__ import annotations

from typing import Any

import pulumi

from launchpad.release.publish import Prepared, build_dir, prepare
from launchpad.render import release_host
from launchpad.settings import Settings


def secret_values(settings: Settings) -> dict[str, str]:
    """`app.secrets` as the program holds them (Pulumi decrypted them); keep them in Outputs marked secret."""
    return {name: value.get_secret_value() for name, value in settings.app.secrets.items()}


def build(settings: Settings) -> Prepared:
    return prepare(settings, build_dir(settings.stack), secret_values(settings))


def health_host(settings: Settings) -> str:
    return settings.domain or "localhost"


def aws_agent(settings: Settings, bucket: str, secret_arn: str) -> dict[str, Any]:
    """Behind a balancer the host follows its own pin (`host_id`: the instance id, IMDSv2) and
    publishes its status for the roll (launchpad/ops/roll_aws.py) in the same bucket."""
    region = settings.resolved_region
    rolled = {"host_id": "aws", "status_store": f"s3://{bucket}/{settings.stack}/status"} if settings.balanced else {}
    return release_host.agent_config(
        settings.app.unix_name, f"s3://{bucket}/{settings.stack}", health_host=health_host(settings),
        keep=settings.app.keep_releases, region=region,
        secrets={"kind": "aws-secretsmanager", "arn": secret_arn, "region": region}, **rolled)


def do_agent(settings: Settings, bucket: str, endpoint: str, enroll_hex: str,
             enrollment: dict[str, str] | None = None) -> dict[str, Any]:
    """`enrollment`: where and with which key the droplet announces its own key (DoEnrollBucket.agent_spec).
    Behind a balancer the droplet follows its own pin (`host_id`: the droplet id, from the metadata
    service) and publishes its status for the roll in the status bucket, `<release bucket>-status`
    (components/digitalocean/status_bucket.py), with the write key sealed to it."""
    region = settings.resolved_region
    rolled = ({"host_id": "digitalocean", "status_store": f"s3://{release_host.status_bucket_name(bucket)}/{settings.stack}/status"}
              if settings.balanced else {})
    return release_host.agent_config(
        settings.app.unix_name, f"s3://{bucket}/{settings.stack}", health_host=health_host(settings),
        keep=settings.app.keep_releases, region=region, endpoint=endpoint,
        secrets={"kind": "spaces-sealed", "enroll": enroll_hex,
                 "credentials": f"https://{bucket}.{region}.digitaloceanspaces.com/{settings.stack}/hosts/",
                 **({"enrollment": dict(enrollment)} if enrollment else {})}, **rolled)


def export_store(url: pulumi.Input[str], region: str, endpoint: str | None = None) -> None:
    """The `release_store` output: where `launchpad releases` / `rollback` find the store (no credentials)."""
    value: dict[str, Any] = {"store": url, "region": region}
    if endpoint:
        value["endpoint"] = endpoint
    pulumi.export("release_store", value)
