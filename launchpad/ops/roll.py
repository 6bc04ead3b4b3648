"""Roll a published release over a balanced cloud stack, host by host: one entry point for both
callers, `pulumi up` (a command.local.Command of stacks/aws_balanced.py) and `launchpad rollback`.

    python -m launchpad.ops.roll aws --store s3://BUCKET/STACK --region R --target-group ARN --release ID [--profile P]
    python -m launchpad.ops.roll digitalocean --store s3://BUCKET/STACK --region R --status-bucket B \\
        --balancer LB_ID --host-tag TAG --rotation-tag TAG-lb --release ID
    python -m launchpad.ops.roll aws|digitalocean ... --status     each host's published status, as JSON

`args_from_output` turns the balanced stacks' `rollout` output into these arguments.
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
        what = p.add_mutually_exclusive_group(required=True)
        what.add_argument("--release", help="the release id to roll")
        what.add_argument("--status", action="store_true", help="print each host's published status (JSON) and exit")
        p.add_argument("--timeout", type=float, default=900.0, help="seconds one host may take to serve the release")
    aws = sub.choices["aws"]
    aws.add_argument("--target-group", default="")
    aws.add_argument("--profile")
    do = sub.choices["digitalocean"]
    do.add_argument("--status-bucket", required=True)
    do.add_argument("--balancer", default="")
    do.add_argument("--host-tag", default="")
    do.add_argument("--rotation-tag", default="")
    return parser


def args_from_output(rollout: dict[str, Any]) -> list[str]:
    """The arguments for a stack's `rollout` output (stacks/aws_balanced.py, stacks/digitalocean_balanced.py),
    without --release/--status."""
    provider = str(rollout.get("provider") or "")
    names = {"aws": ("store", "region", "target_group"),
             "digitalocean": ("store", "region", "status_bucket", "balancer", "host_tag", "rotation_tag")}
    if provider not in names:
        raise ValueError(f"rollout output: provider {provider!r}; expected aws or digitalocean")
    missing = [n for n in names[provider] if not rollout.get(n)]
    if missing:
        raise ValueError(f"rollout output: {', '.join(missing)} missing; run `pulumi up` again")
    return [provider, *(a for n in names[provider] for a in (f"--{n.replace('_', '-')}", str(rollout[n])))]


def _spaces_s3(region: str) -> Any:
    import boto3  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: PLC0415

    key, secret = os.environ.get("SPACES_ACCESS_KEY_ID"), os.environ.get("SPACES_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise ValueError("SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY are not set: the roll writes the store's pins")
    return boto3.client("s3", region_name=region, endpoint_url=f"https://{region}.digitaloceanspaces.com",
                        aws_access_key_id=key, aws_secret_access_key=secret)


def store_for(args: argparse.Namespace) -> RollStore:
    bucket, _, prefix = args.store.removeprefix("s3://").partition("/")
    if not args.store.startswith("s3://") or not bucket or not prefix:
        raise ValueError(f"--store {args.store!r}: expected s3://bucket/stack")
    if args.provider == "aws":
        from launchpad.ops.roll_aws import clients  # noqa: PLC0415

        return RollStore(clients(args.region, args.profile)[1], bucket, prefix)
    return RollStore(_spaces_s3(args.region), bucket, prefix, status_bucket=args.status_bucket)


def fleet_for(args: argparse.Namespace, store: RollStore) -> Fleet:
    if args.provider == "aws":
        from launchpad.ops.roll_aws import AwsRollFleet, clients  # noqa: PLC0415

        elbv2, _, ec2 = clients(args.region, args.profile)
        return AwsRollFleet(elbv2, store, args.target_group, ec2=ec2)
    from launchpad.ops.roll_do import DoApi, DoRollFleet  # noqa: PLC0415

    return DoRollFleet(DoApi.from_env(), store, args.balancer, args.host_tag, args.rotation_tag)


def _manifest(store: RollStore, release_id: str | None) -> Manifest | None:
    raw = store.manifest(release_id) if release_id else None
    return Manifest.from_json(raw) if raw else None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    needed = ["target_group"] if args.provider == "aws" else ["balancer", "host_tag", "rotation_tag"]
    if args.release and not all(getattr(args, n) for n in needed):
        say(f"launchpad roll: rolling a release needs {', '.join('--' + n.replace('_', '-') for n in needed)}")
        return 2
    try:
        store = store_for(args)
        if args.status:
            print(json.dumps(store.statuses(), indent=2, sort_keys=True))
            return 0
        manifest = _manifest(store, args.release)
        if manifest is None:
            say(f"release {args.release!r} is not in {args.store}: publish it first (`pulumi up`)")
            return 2
        old = _manifest(store, store.pointer())
        fleet = fleet_for(args, store)
    except (ValueError, ManifestError, RuntimeError) as err:
        say(f"launchpad roll: {err}")
        return 2
    except Exception as err:  # noqa: BLE001 - botocore: no credentials, no such bucket, ...: nothing was touched
        say(f"launchpad roll: {type(err).__name__}: {err}")
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
