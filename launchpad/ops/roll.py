"""Roll a published release over a balanced cloud stack, host by host: one entry point for both
callers, `pulumi up` (a command.local.Command of stacks/aws_balanced.py) and `launchpad rollback`.

    python -m launchpad.ops.roll aws --store s3://BUCKET/STACK --region R --target-group ARN --release ID [--profile P]
    python -m launchpad.ops.roll digitalocean --store s3://BUCKET/STACK --region R --status-bucket B \\
        --balancer LB_ID --host-tag TAG --rotation-tag TAG-lb --release ID

Exit 0 when every host serves the release (stdout: {"release", "seconds", "hosts": [...]}); exit 1
when the roll stopped (stderr: at which host, why, what every host serves); 2 for bad arguments
or missing credentials. Progress goes to stderr. A separate process on purpose: it is the one
place that loads boto3 for a release (the CLI and the local runtime never do: tests/test_layering.py).
Credentials: AWS's standard chain (environment, `--profile`, SSO); DigitalOcean: DIGITALOCEAN_TOKEN
for the API, SPACES_ACCESS_KEY_ID / SPACES_SECRET_ACCESS_KEY for the store, as Pulumi takes them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from launchpad.ops.roll_store import RollStore
from launchpad.release.manifest import Manifest, ManifestError
from launchpad.release.rolling import Fleet, RollStopped, roll


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m launchpad.ops.roll", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="provider", required=True)
    for name in ("aws", "digitalocean"):
        p = sub.add_parser(name)
        p.add_argument("--store", required=True, help="s3://bucket/stack")
        p.add_argument("--region", required=True)
        p.add_argument("--release", required=True)
        p.add_argument("--timeout", type=float, default=900.0, help="seconds one host may take to serve the release")
    aws = sub.choices["aws"]
    aws.add_argument("--target-group", required=True)
    aws.add_argument("--profile")
    do = sub.choices["digitalocean"]
    do.add_argument("--status-bucket", required=True)
    do.add_argument("--balancer", required=True)
    do.add_argument("--host-tag", required=True)
    do.add_argument("--rotation-tag", required=True)
    return parser


def _spaces_s3(region: str) -> Any:
    import boto3  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: PLC0415

    key, secret = os.environ.get("SPACES_ACCESS_KEY_ID"), os.environ.get("SPACES_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise ValueError("SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY are not set: the roll writes the store's pins")
    return boto3.client("s3", region_name=region, endpoint_url=f"https://{region}.digitaloceanspaces.com",
                        aws_access_key_id=key, aws_secret_access_key=secret)


def fleet_for(args: argparse.Namespace) -> tuple[Fleet, RollStore]:
    bucket, _, prefix = args.store.removeprefix("s3://").partition("/")
    if not args.store.startswith("s3://") or not bucket or not prefix:
        raise ValueError(f"--store {args.store!r}: expected s3://bucket/stack")
    if args.provider == "aws":
        from launchpad.ops.roll_aws import AwsRollFleet, clients  # noqa: PLC0415

        elbv2, s3 = clients(args.region, args.profile)
        store = RollStore(s3, bucket, prefix)
        return AwsRollFleet(elbv2, store, args.target_group), store
    from launchpad.ops.roll_do import DoApi, DoRollFleet  # noqa: PLC0415

    store = RollStore(_spaces_s3(args.region), bucket, prefix, status_bucket=args.status_bucket)
    return DoRollFleet(DoApi.from_env(), store, args.balancer, args.host_tag, args.rotation_tag), store


def _manifest(store: RollStore, release_id: str | None) -> Manifest | None:
    raw = store.manifest(release_id) if release_id else None
    return Manifest.from_json(raw) if raw else None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        fleet, store = fleet_for(args)
        manifest = _manifest(store, args.release)
        if manifest is None:
            say(f"release {args.release!r} is not in {args.store}: publish it first (`pulumi up`)")
            return 2
        old = _manifest(store, store.pointer())
    except (ValueError, ManifestError) as err:
        say(f"launchpad roll: {err}")
        return 2
    say(f"rolling release {manifest.id} over {args.provider} stack {args.store}, host by host")
    try:
        rolled = roll(fleet, manifest, old if old and old.id != manifest.id else None, args.timeout, progress=say)
    except RollStopped as err:
        say(str(err))
        return 1
    except Exception as err:  # noqa: BLE001 - the API or the store failed outside one host's step: say what, exit 1
        say(f"launchpad roll: {type(err).__name__}: {err}")
        return 1
    print(json.dumps({"release": rolled.release, "seconds": round(rolled.seconds, 2), "hosts": rolled.hosts}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
