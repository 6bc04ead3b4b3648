"""The provider catalog: one frozen ProviderProfile per place a stack can run.

Everything that differs between providers and is a fact rather than code lives
here: regions, size slugs, PostgreSQL versions and sizes, the backup rule, the
user-data limit and how user-data is encoded, and defaults. Validation
(launchpad/settings/checks.py) and the renderer look facts up in the profile
instead of branching on the provider's name. Adding a provider = one profile
in PROFILES + one stack module `stacks/<name>.py`.

Ground floor: no Pulumi, no provider SDK.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Mapping
from dataclasses import dataclass


GUNICORN_REQUIREMENT = "gunicorn~=27.0"
"""What Launchpad adds to an app's dependencies when the app names no gunicorn of its own (its
own always wins), on every provider: the hosts' release agent gets it through agent.json
(launchpad/render/release_host.py), Heroku through the requirements.txt it builds
(launchpad/render/heroku.py). Gunicorn 27 is current; the agent refuses one older than 20.1."""


@dataclass(frozen=True)
class SizeRule:
    """What a size slug (instance type, droplet size, database class) looks like on one provider."""

    default: str
    pattern: re.Pattern[str] | None = None
    """None: the provider has no sizes to choose; only `default` is accepted."""
    label: str = ""
    """What a valid value is called, with its article: 'an EC2 instance type'."""
    example: str = ""
    """Valid values to show in the message: 't3.small or m7g.large'."""

    def problem(self, value: str, provider: str, what: str) -> str | None:
        """Why `value` is not a valid size here (None when it is). `what` names the key: 'size'."""
        if self.pattern is None:
            if value == self.default:
                return None
            return f"{value!r}: the {provider} provider takes no {what}; remove the key or set {self.default!r}"
        if self.pattern.fullmatch(value):
            return None
        return f"{value!r} is not {self.label}; expected like {self.example}"


@dataclass(frozen=True)
class RetentionRule:
    """Days of automated database backups the provider allows."""

    minimum: int
    maximum: int | None
    """None: no upper bound."""
    problem_text: str
    """The message for a value out of range; `{value!r}` is filled in."""

    def problem(self, value: int) -> str | None:
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            return self.problem_text.format(value=value)
        return None


@dataclass(frozen=True)
class UserDataRule:
    """How much user-data a host takes, and in what form the provider's API wants it."""

    limit: int
    """Bytes, as the provider counts them (after gzip when `gzip`)."""
    limit_name: str
    """The limit in the user's words, for messages: "EC2's 16 KiB user-data limit (after gzip)"."""
    gzip: bool = False
    """The host gets gzip+base64 (cloud-init unpacks it), which stretches a small limit."""

    def size(self, user_data: str) -> int:
        """The size the provider's limit counts."""
        raw = user_data.encode()
        return len(_gzip(raw)) if self.gzip else len(raw)

    def encode(self, user_data: str) -> str:
        """What the provider's API takes: gzip+base64 (EC2's `user_data_base64`) or the text as is."""
        return base64.b64encode(_gzip(user_data.encode())).decode() if self.gzip else user_data


def _gzip(data: bytes) -> bytes:
    # mtime=0: the same cloud-config always encodes to the same bytes, so Pulumi sees no diff.
    return gzip.compress(data, compresslevel=9, mtime=0)


@dataclass(frozen=True)
class DatabaseProfile:
    """The provider's PostgreSQL: managed (RDS, DO) or a machine of its own (local)."""

    versions: tuple[str, ...]
    size: SizeRule
    backup_retention: RetentionRule


@dataclass(frozen=True)
class BalancerProfile:
    """The provider's own load balancer, put in front of the hosts when `launchpad:hosts` > 1."""

    title: str
    """What it is, in the user's words: 'an Application Load Balancer'."""
    autoscale: bool = False
    """`launchpad:autoscale` (a target-tracking group between min and max hosts) is offered."""
    zone: str | None = None
    """What `dnsZone` names here ('a Route 53 hosted zone'); None: no managed DNS, so no
    certificate at the balancer and the key is refused."""
    certificate: str = ""
    """How the balancer's certificate is obtained when `dnsZone` is set, for messages and docs."""


@dataclass(frozen=True)
class PlatformProfile:
    """A platform that runs the app itself (Heroku): no host, no cloud-init, no Nginx, no SSH.

    The keys that configure those mean nothing there; validation refuses each one the user
    set, with the reason given here, instead of ignoring it silently."""

    router: str
    """What stands in front of the app instead of Nginx, and spreads requests over `hosts`
    instances (one hop): "Heroku's router"."""
    unused_keys: Mapping[str, str]
    """Config key path (as written in the stack file) -> why it has no meaning on the platform."""
    reserved_env: Mapping[str, str]
    """Environment variables the platform sets itself -> why `app.env` may not."""
    ephemeral_disk: str = ""
    """Why state on the app's own disk does not survive (empty: it does)."""


@dataclass(frozen=True)
class ProviderProfile:
    """Everything Launchpad knows about one provider, as data."""

    name: str
    """The `launchpad:provider` value and the stack module's name (stacks/<name>.py)."""
    title: str
    regions: tuple[str, ...]
    default_region: str
    size: SizeRule
    database: DatabaseProfile
    user_data: UserDataRule | None
    """None: the provider boots no VM from cloud-init (a platform such as Heroku)."""
    public_acme: bool = True
    """Let's Encrypt can reach the host, so `domain` + `email` turn HTTPS on; elsewhere only
    a private ACME server (`acmeServer`) can."""
    ssh_needs_key: bool = True
    """Opening SSH (`adminCidrs`) needs an `sshKeys` entry: password login is off."""
    credential_keys: tuple[str, ...] = ()
    """The provider's own config keys that hold credentials: refused in plain text in a stack file."""
    balancer: BalancerProfile | None = None
    """None: the provider runs no hosts of its own behind a balancer, so `hosts` stays 1."""
    platform: PlatformProfile | None = None
    """Set for a platform that runs the app itself (Heroku); None for providers with hosts."""


AWS_REGIONS = (
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
    "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "il-central-1", "me-central-1", "me-south-1", "sa-east-1", "us-east-1", "us-east-2",
    "us-west-1", "us-west-2",
)
DO_REGIONS = (
    "ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2", "sfo3",
    "sgp1", "syd1", "tor1",
)
# What RDS and DO Managed PostgreSQL offer.
MANAGED_POSTGRES = ("13", "14", "15", "16", "17")

AWS = ProviderProfile(
    name="aws", title="AWS", regions=AWS_REGIONS, default_region="us-east-1",
    # Instance type: family (t3, m7g, c6in...) dot size (micro, large, 2xlarge, metal...).
    size=SizeRule("t3.small", re.compile(r"[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal(-\d+xl)?)"),
                  "an EC2 instance type", "t3.small or m7g.large"),
    database=DatabaseProfile(
        versions=MANAGED_POSTGRES,
        size=SizeRule("db.t4g.micro", re.compile(r"db\.[a-z][a-z0-9-]*\.(micro|small|medium|large|\d*xlarge)"),
                      "an RDS instance class", "db.t4g.micro"),
        backup_retention=RetentionRule(1, 35, "{value!r} is out of range; RDS keeps 1 to 35 days"),
    ),
    # EC2's 16 KiB counts the raw bytes, so Launchpad gzips the cloud-config.
    user_data=UserDataRule(16 * 1024, "EC2's 16 KiB user-data limit (after gzip)", gzip=True),
    credential_keys=("aws:secretKey", "aws:accessKey", "aws:token"),
    balancer=BalancerProfile("an Application Load Balancer", autoscale=True, zone="a Route 53 hosted zone",
                             certificate="an ACM certificate validated through DNS records in the zone"),
)

DIGITALOCEAN = ProviderProfile(
    name="digitalocean", title="DigitalOcean", regions=DO_REGIONS, default_region="nyc3",
    size=SizeRule("s-1vcpu-1gb", re.compile(r"(s|c|c2|g|gd|m|m3|m6|so|so1_5)-[0-9a-z-]+"),
                  "a droplet size slug", "s-1vcpu-1gb or s-2vcpu-4gb"),
    database=DatabaseProfile(
        versions=MANAGED_POSTGRES,
        size=SizeRule("db-s-1vcpu-1gb", re.compile(r"(db|gd|so1_5|m|c)-s?-?[0-9a-z-]+"),
                      "a DO database size slug", "db-s-1vcpu-1gb"),
        backup_retention=RetentionRule(7, 7, "{value!r}: DigitalOcean keeps backups 7 days, fixed; remove the key"),
    ),
    user_data=UserDataRule(64 * 1024, "DigitalOcean's 64 KiB user-data limit"),
    credential_keys=("digitalocean:token",),
    balancer=BalancerProfile("a DigitalOcean Load Balancer", zone="a domain whose DNS DigitalOcean hosts",
                             certificate="a Let's Encrypt certificate DigitalOcean obtains and renews"),
)

LOCAL = ProviderProfile(
    name="local", title="local", regions=("local",), default_region="local",
    size=SizeRule("local"),
    database=DatabaseProfile(
        # A PostgreSQL machine of its own; Debian 12 ships PostgreSQL 15.
        versions=("15",),
        size=SizeRule("local"),
        backup_retention=RetentionRule(0, None, "{value!r} is negative; expected 0 or more days"),
    ),
    # Kept equal to DigitalOcean's: what boots here boots on a droplet. Like the clouds, the machine
    # fetches the release agent from its store (the store folder), so user-data never carries it.
    user_data=UserDataRule(64 * 1024, "the 64 KiB user-data limit (kept equal to DigitalOcean's)"),
    # Let's Encrypt cannot reach a machine on this host; a private ACME server (Pebble) can.
    public_acme=False,
    # The machine is reachable from this host only, as root through nsenter.
    ssh_needs_key=False,
    # HAProxy from Debian on a machine of its own, health-checking each web machine; plain HTTP.
    balancer=BalancerProfile("HAProxy on a local machine of its own"),
)

_NO_SSH = "dynos take no SSH; use `launchpad run`, `launchpad logs` and `launchpad status`, which call Heroku's API"
_ACM = "Heroku's ACM obtains and renews the certificate for `domain` itself"
_PLAN = "a Heroku Postgres plan decides it; choose the plan with database.size"

HEROKU = ProviderProfile(
    name="heroku", title="Heroku", regions=("us", "eu"), default_region="us",
    # Dyno sizes (Common Runtime); Heroku's API takes them in any case.
    size=SizeRule("basic", re.compile(r"basic|standard-1x|standard-2x|performance-m|performance-l"),
                  "a Heroku dyno size", "basic, standard-1x, standard-2x, performance-m or performance-l"),
    database=DatabaseProfile(
        # Heroku Postgres versions offered for new databases.
        versions=("14", "15", "16", "17"),
        size=SizeRule("essential-0", re.compile(r"essential-[0-2]|(standard|premium|private|shield)-[0-9]|"
                                                r"(premium|private|shield)-(l|xl|2xl)"),
                      "a Heroku Postgres plan", "essential-0, essential-1 or standard-0"),
        # Never judged by number: the key itself is refused (platform.unused_keys below).
        backup_retention=RetentionRule(0, None, "{value!r}: " + _PLAN + "; remove the key"),
    ),
    user_data=None,
    # No SSH at all: adminCidrs and sshKeys are refused as unused keys, not as a pair.
    ssh_needs_key=False,
    credential_keys=("heroku:apiKey",),
    platform=PlatformProfile(
        router="Heroku's router",
        unused_keys={
            "adminCidrs": _NO_SSH,
            "sshKeys": _NO_SSH,
            "email": f"{_ACM}; no contact address is needed",
            "acmeServer": f"{_ACM}, from Let's Encrypt",
            "rateLimit": "Nginx's per-client limit has no equivalent in Heroku's router; limit in the app (e.g. Flask-Limiter)",
            "app.static": "there is no Nginx on Heroku: the app serves its static files itself (Flask's static route, or WhiteNoise)",
            "app.writable": "a dyno's disk is reset on every deploy and restart (at least daily); keep state in the database or object storage",
            "app.keepReleases": "Heroku keeps every release itself; `launchpad releases` and `launchpad rollback` use them",
            "database.storageGb": _PLAN,
            "database.backupRetentionDays": _PLAN,
            "database.name": "Heroku Postgres names the database and its user itself; the app reads both from DATABASE_URL",
        },
        reserved_env={
            "PORT": "Heroku sets it for each dyno (gunicorn binds to it)",
            "DYNO": "Heroku sets it to the dyno's name",
        },
        ephemeral_disk="a dyno's disk is reset on every deploy and restart (at least daily)",
    ),
)

PROFILES: Mapping[str, ProviderProfile] = {p.name: p for p in (AWS, DIGITALOCEAN, LOCAL, HEROKU)}
PROVIDERS: tuple[str, ...] = tuple(PROFILES)


def profile(name: str) -> ProviderProfile:
    """The profile of a provider validated settings name (KeyError names the valid ones otherwise)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a provider; valid: {', '.join(PROVIDERS)}") from None
