"""The one typed model of Launchpad's stack configuration (namespace `launchpad:`).

Every stack key is declared here, once: its type, default and the description the
README's config reference is generated from (settings/reference.py). What pydantic's
field types cannot express (provider rules, cross-field rules) is checked in
settings/checks.py.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

from launchpad.providers import PROFILES, PROVIDERS, ProviderProfile
from launchpad.safety.config_keys import strict_bool, strict_int

NAMESPACE = "launchpad"
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE_APP = PROJECT_ROOT / "files" / "app"


def _defaults(values: dict[str, str]) -> str:
    return ", ".join(f"{value} ({name})" for name, value in values.items())


# Per-provider defaults in the field docs, read from the catalog so the reference cannot drift.
_REGION_DEFAULTS = _defaults({p.name: p.default_region for p in PROFILES.values()})
_SIZE_DEFAULTS = _defaults({p.name: p.size.default for p in PROFILES.values() if p.size.pattern is not None})


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class AppSettings(_Model):
    """The Flask app the host serves."""

    path: Path = Field(SAMPLE_APP, description="Folder of the app, relative to the project; shipped to the host as a release artifact (`.env`, `.git`, caches, `instance/`, keys and `.launchpadignore` patterns left out). Default: the sample app in files/app.")
    module: str = Field("rocket:app", description="WSGI entry point the way gunicorn takes it: `module:variable`, or an app factory `package.module:create_app()` (with arguments).")
    name: str | None = Field(None, description="Unix name for the app's user, `/srv/<name>` and its systemd unit. Default: the module name.")
    workers: int | None = Field(None, ge=1, le=64, description="Gunicorn worker processes. Default: derived at boot from the host's CPUs and memory.")
    threads: int | None = Field(None, ge=1, le=64, description="Threads per worker (gthread). Default: derived at boot with the workers.")
    env: dict[str, str] = Field(default_factory=dict, description="Plain environment variables for the app (stored in the release manifest). Never secrets: use `secrets`.")
    secrets: dict[str, SecretStr] = Field(default_factory=dict, description="Secret environment variables, each a Pulumi secret: `pulumi config set --secret --path 'launchpad:app.secrets.NAME' VALUE`. They reach the host through its provider's secret store (AWS Secrets Manager; DigitalOcean: sealed to the droplet's own key; local: a root-only file), never user-data, manifests or logs; changing one rolls a release. Locally, `LAUNCHPAD_SECRET_<NAME>` variables add to them.")
    release: str | None = Field(None, description="Shell command run once per release, in its folder with its full environment (env, secrets, `DATABASE_URL`), before it takes traffic, e.g. `flask db upgrade`. If it fails the release is abandoned and the previous one keeps serving.")
    health_path: str | None = Field(None, description="Path checked (HTTP 200) before a release takes traffic and by readiness, e.g. `/healthz`. Default: `GET /`, where any answer below 500 counts.")
    static: dict[str, str] | None = Field(None, description="URL prefix -> folder inside the app that Nginx serves directly with cache headers, e.g. `{\"/assets/\": \"dist\"}`. Default: Flask's static folder (`<package>/static` or `static/`) at `/static/`; `{}` turns it off.")
    writable: list[str] = Field(default_factory=list, description="Folders of the app (relative) it may write, kept across releases in its state directory `/var/lib/<app>`; Flask's `instance/` always is.")
    keep_releases: int = Field(5, ge=2, le=50, description="Releases kept on the host, the ones `launchpad rollback` can return to in seconds.")

    # Whole numbers and true/false only: YAML's `true` must not become 1 (launchpad/safety/config_keys.py).
    _whole = field_validator("workers", "threads", "keep_releases", mode="before")(strict_int)

    @property
    def unix_name(self) -> str:
        if self.name:
            return self.name
        return self.module.split(":")[0].split(".")[0].replace("_", "-").lower()


class DatabaseSettings(_Model):
    """The optional managed PostgreSQL."""

    enabled: bool = Field(False, description="Create a PostgreSQL database and give the app its `DATABASE_URL`.")
    _flag = field_validator("enabled", mode="before")(strict_bool)
    _whole = field_validator("storage_gb", "backup_retention_days", mode="before")(strict_int)
    version: str = Field("15", description="PostgreSQL major version (RDS/DO: 13-17; Heroku: 14-17; local: 15, Debian 12's).")
    size: str | None = Field(None, description="RDS instance class, DO database size slug or Heroku Postgres plan. Default: the provider's smallest (db.t4g.micro / db-s-1vcpu-1gb / essential-0).")
    storage_gb: int = Field(20, ge=20, le=65536, description="Allocated storage in GiB (RDS only; a DO size includes its storage).")
    backup_retention_days: int = Field(7, description="Days of automated backups (RDS: 1-35; DigitalOcean keeps 7, fixed).")
    name: str = Field("app", description="Database and user name.")


class AutoscaleSettings(_Model):
    """AWS only: a target-tracking Auto Scaling policy between `min` and `max` hosts."""

    min: int = Field(ge=1, le=20, description="Fewest hosts the group keeps (the balancer always has one to send to).")
    max: int = Field(ge=1, le=20, description="Most hosts the group may grow to.")
    target_cpu: int = Field(50, ge=10, le=90, description="Average CPU % across the hosts that the policy holds by adding or removing hosts.")


class Settings(_Model):
    """Validated stack settings. Field docs are the README's config reference."""

    stack: str = Field("dev", exclude=True, description="The Pulumi stack (not a config key).")
    provider: str = Field("local", description="Where the app runs: `aws` (EC2), `digitalocean` (droplet), `local` (systemd-nspawn on this Linux machine) or `heroku` (dynos on Heroku's Common Runtime).")
    region: str | None = Field(None, description=f"Cloud region. Default: {_REGION_DEFAULTS}.")
    size: str | None = Field(None, description=f"Instance type, droplet size or Heroku dyno size. Default: {_SIZE_DEFAULTS}.")
    production: bool = Field(False, description="Production stack: the database is protected (Pulumi `protect`, deletion protection, final snapshot).")
    domain: str | None = Field(None, description="Apex domain served by Nginx; `www.<domain>` redirects to it. Unset: the host answers on its address.")
    email: str | None = Field(None, description="Contact for Let's Encrypt; with `domain` on a cloud provider, turns on HTTPS via certbot.")
    acme_server: str | None = Field(None, description="ACME directory for certificates. Default: Let's Encrypt. A staging or private ACME server (e.g. Pebble) is for tests, and allows HTTPS on the local target.")
    dns_zone: str | None = Field(None, description="The DNS zone holding `domain` (a Route 53 hosted zone on AWS, a domain whose DNS DigitalOcean hosts there; locally the zone of `dnsChallengeServer`). With one host: the stack manages the apex and `www` A records (pointing at the host's stable address) and the host gets its certificate by DNS-01 before it takes the address. With `hosts` > 1: the balancer's certificate is validated through it, and HTTPS is served. Unset: HTTP-01 for one host (a stored certificate is reused by a replacement), plain HTTP behind a balancer.")
    dns_token: SecretStr | None = Field(None, description="DigitalOcean with `dnsZone`, one host: an API token for DNS-01 (a Pulumi secret: `pulumi config set --secret launchpad:dnsToken <token>`; make it a custom-scoped token with the domain read/create/update/delete scopes only). Sealed to each droplet's own key (never in user-data), so a droplet obtains its certificate before it takes the reserved IP. Unset: HTTP-01 once the address is there (a stored certificate is still reused).")
    dns_challenge_server: str | None = Field(None, description="Tests only, `local` provider: the management API of a DNS-01 challenge test server (Pebble's `pebble-challtestsrv`, `http://<ipv4>:<port>`) that the host's certbot sets its `_acme-challenge` TXT records through, in place of Route 53 / DigitalOcean DNS. Needs `dnsZone` and `acmeServer`.")
    app: AppSettings = Field(default_factory=lambda: AppSettings(), description="The app: `path`, `module`, `name`, `workers`, `threads`, `env`, `secrets`, `release`, `healthPath`, `static`, `writable`, `keepReleases`.")
    database: DatabaseSettings = Field(default_factory=lambda: DatabaseSettings(), description="PostgreSQL: `enabled`, `version`, `size`, `storageGb`, `backupRetentionDays`, `name`.")
    hosts: int = Field(1, ge=1, le=20, description="Hosts serving the app. 1: one host on its own address. More: that many behind the provider's load balancer (AWS: ALB + Auto Scaling group; DigitalOcean: Load Balancer; local: HAProxy), releases rolled host by host.")
    autoscale: AutoscaleSettings | None = Field(None, description="AWS only: `min`, `max`, `targetCpu`; the group grows and shrinks between min and max hosts to hold the average CPU at targetCpu %.")
    rate_limit: int = Field(20, ge=0, le=100_000, description="Requests per second Nginx admits per client address (bursts of twice that pass); 0 turns limiting off.")
    admin_cidrs: list[str] = Field(default_factory=list, description="CIDRs allowed to reach SSH (port 22). Empty: SSH is closed.")
    ssh_keys: list[str] = Field(default_factory=list, description="Public SSH keys installed for the admin user (needed when `adminCidrs` opens SSH).")

    _flag = field_validator("production", mode="before")(strict_bool)
    _whole = field_validator("rate_limit", mode="before")(strict_int)

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        # The catalog, not a Literal, lists the providers: adding one is adding a profile.
        if value not in PROFILES:
            raise ValueError(f"not a provider; valid: {', '.join(PROVIDERS)}")
        return value

    @field_validator("domain")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    # Resolved views: the rest of the program reads these, never the raw optionals.
    @property
    def profile(self) -> ProviderProfile:
        """The provider's facts (launchpad/providers.py)."""
        return PROFILES[self.provider]

    @property
    def resolved_region(self) -> str:
        return self.region or self.profile.default_region

    @property
    def resolved_size(self) -> str:
        return self.size or self.profile.size.default

    @property
    def database_size(self) -> str:
        return self.database.size or self.profile.database.size.default

    @property
    def ssh_open(self) -> bool:
        return bool(self.admin_cidrs)

    @property
    def tls(self) -> bool:
        """The host itself terminates TLS (certbot + nginx): a single host with a domain, a contact,
        and an ACME server that can reach it: Let's Encrypt reaches cloud hosts (`public_acme`); a
        local machine only a private ACME server. Behind a balancer, the balancer does (`balancer_tls`)."""
        if self.balanced:
            return False
        return bool(self.domain) and bool(self.email) and (self.profile.public_acme or bool(self.acme_server))

    @property
    def dns01(self) -> bool:
        """The host gets its certificate by DNS-01 through `dnsZone` (no traffic needed, so
        before it takes the address), not HTTP-01."""
        from launchpad.settings.tls import DNS01_METHOD  # noqa: PLC0415 - tls.py types against this module

        if not (self.tls and self.dns_zone):
            return False
        return self.provider in DNS01_METHOD or (self.provider == "digitalocean" and self.dns_token is not None)

    @property
    def host_dns(self) -> bool:
        """The stack manages the apex and www records of a single host's domain in `dnsZone`."""
        return not self.balanced and bool(self.domain) and bool(self.dns_zone) and self.profile.platform is None

    @property
    def balanced(self) -> bool:
        """The hosts stand behind the provider's load balancer: more than one, or an autoscaled group."""
        return self.hosts > 1 or self.autoscale is not None

    @property
    def balancer_tls(self) -> bool:
        """The balancer terminates TLS with a certificate validated through `dnsZone`."""
        balancer = self.profile.balancer
        return self.balanced and bool(self.domain) and bool(self.dns_zone) and balancer is not None and balancer.zone is not None

    @property
    def https(self) -> bool:
        """Users reach the site over HTTPS (the host's certificate, or the balancer's)."""
        return self.tls or self.balancer_tls

    @property
    def trusted_proxies(self) -> int:
        """Proxies in front of the app that append to X-Forwarded-*: Nginx, plus the balancer.
        The app's ProxyFix trusts exactly this many (LAUNCHPAD_TRUSTED_PROXIES). On a platform
        (Heroku) its router alone, however many instances it spreads requests over."""
        return 2 if self.balanced and self.profile.platform is None else 1

    @property
    def app_path(self) -> Path:
        path = self.app.path
        return path if path.is_absolute() else PROJECT_ROOT / path
