"""The one typed model of Launchpad's stack configuration (namespace `launchpad:`).

Every stack key is declared here, once: its type, default and the description the
README's config reference is generated from (settings/reference.py). What pydantic's
field types cannot express (provider rules, cross-field rules) is checked in
settings/checks.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

NAMESPACE = "launchpad"
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE_APP = PROJECT_ROOT / "files" / "app"

Provider = Literal["aws", "digitalocean", "local"]
PROVIDERS: tuple[str, ...] = ("aws", "digitalocean", "local")

# Defaults that depend on the provider: a cloud region or size means nothing elsewhere.
DEFAULT_REGION = {"aws": "us-east-1", "digitalocean": "nyc3", "local": "local"}
DEFAULT_SIZE = {"aws": "t3.small", "digitalocean": "s-1vcpu-1gb", "local": "local"}
DEFAULT_DB_SIZE = {"aws": "db.t4g.micro", "digitalocean": "db-s-1vcpu-1gb", "local": "local"}

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
REGIONS: dict[str, tuple[str, ...]] = {"aws": AWS_REGIONS, "digitalocean": DO_REGIONS, "local": ("local",)}

# Instance type: family (t3, m7g, c6in...) dot size (micro, large, 2xlarge, metal...).
AWS_SIZE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal(-\d+xl)?)$")
DO_SIZE = re.compile(r"^(s|c|c2|g|gd|m|m3|m6|so|so1_5)-[0-9a-z-]+$")
AWS_DB_SIZE = re.compile(r"^db\.[a-z][a-z0-9-]*\.(micro|small|medium|large|\d*xlarge)$")
DO_DB_SIZE = re.compile(r"^(db|gd|so1_5|m|c)-s?-?[0-9a-z-]+$")

# What each provider's managed PostgreSQL offers; Debian 12 ships PostgreSQL 15.
DB_VERSIONS = {"aws": ("13", "14", "15", "16", "17"), "digitalocean": ("13", "14", "15", "16", "17"), "local": ("15",)}

# User-data size limits, as the providers document them. EC2's 16 KiB counts the
# raw bytes (Launchpad gzips the cloud-config for EC2); a droplet takes 64 KiB.
USER_DATA_LIMIT = {"aws": 16 * 1024, "digitalocean": 64 * 1024, "local": 64 * 1024}
USER_DATA_LIMIT_NAME = {"aws": "EC2's 16 KiB user-data limit (after gzip)",
                        "digitalocean": "DigitalOcean's 64 KiB user-data limit",
                        "local": "the 64 KiB user-data limit (kept equal to DigitalOcean's)"}
# What the rest of the cloud-config takes beside the packed app, with margin; the
# renderer checks the real total again (launchpad/render/bootstrap.py).
USER_DATA_RESERVE = {"aws": 8 * 1024, "digitalocean": 24 * 1024, "local": 24 * 1024}

class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class AppSettings(_Model):
    """The Flask app the host serves."""

    path: Path = Field(SAMPLE_APP, description="Folder of the app, relative to the project; packed into user-data. Default: the sample app in files/app.")
    module: str = Field("rocket:app", description="WSGI entry point as `module:variable`, the way gunicorn takes it.")
    name: str | None = Field(None, description="Unix name for the app's user, `/srv/<name>` and its systemd unit. Default: the module name.")
    workers: int | None = Field(None, ge=1, le=64, description="Gunicorn worker processes. Default: derived at boot from the host's CPUs and memory.")
    threads: int | None = Field(None, ge=1, le=64, description="Threads per worker (gthread). Default: derived at boot with the workers.")
    env: dict[str, str] = Field(default_factory=dict, description="Plain environment variables for the app. Never secrets: they would land in user-data.")

    @property
    def unix_name(self) -> str:
        if self.name:
            return self.name
        return self.module.split(":")[0].split(".")[0].replace("_", "-").lower()


class DatabaseSettings(_Model):
    """The optional managed PostgreSQL."""

    enabled: bool = Field(False, description="Create a PostgreSQL database and give the app its `DATABASE_URL`.")
    version: str = Field("15", description="PostgreSQL major version (RDS/DO: 13-17; local: 15, Debian 12's).")
    size: str | None = Field(None, description="RDS instance class or DO database size slug. Default: the provider's smallest (db.t4g.micro / db-s-1vcpu-1gb).")
    storage_gb: int = Field(20, ge=20, le=65536, description="Allocated storage in GiB (RDS only; a DO size includes its storage).")
    backup_retention_days: int = Field(7, description="Days of automated backups (RDS: 1-35; DigitalOcean keeps 7, fixed).")
    name: str = Field("app", description="Database and user name.")


class Settings(_Model):
    """Validated stack settings. Field docs are the README's config reference."""

    stack: str = Field("dev", exclude=True, description="The Pulumi stack (not a config key).")
    provider: Provider = Field("local", description="Where the host runs: `aws` (EC2), `digitalocean` (droplet) or `local` (systemd-nspawn on this Linux machine).")
    region: str | None = Field(None, description="Cloud region. Default: us-east-1 (aws), nyc3 (digitalocean), local (local).")
    size: str | None = Field(None, description="Instance type or droplet size. Default: t3.small (aws), s-1vcpu-1gb (digitalocean).")
    production: bool = Field(False, description="Production stack: the database is protected (Pulumi `protect`, deletion protection, final snapshot).")
    domain: str | None = Field(None, description="Apex domain served by Nginx; `www.<domain>` redirects to it. Unset: the host answers on its address.")
    email: str | None = Field(None, description="Contact for Let's Encrypt; with `domain` on a cloud provider, turns on HTTPS via certbot.")
    acme_server: str | None = Field(None, description="ACME directory for certificates. Default: Let's Encrypt. A staging or private ACME server (e.g. Pebble) is for tests, and allows HTTPS on the local target.")
    app: AppSettings = Field(default_factory=lambda: AppSettings(), description="The app: `path`, `module`, `name`, `workers`, `threads`, `env`.")
    database: DatabaseSettings = Field(default_factory=lambda: DatabaseSettings(), description="PostgreSQL: `enabled`, `version`, `size`, `storageGb`, `backupRetentionDays`, `name`.")
    rate_limit: int = Field(20, ge=0, le=100_000, description="Requests per second Nginx admits per client address (bursts of twice that pass); 0 turns limiting off.")
    admin_cidrs: list[str] = Field(default_factory=list, description="CIDRs allowed to reach SSH (port 22). Empty: SSH is closed.")
    ssh_keys: list[str] = Field(default_factory=list, description="Public SSH keys installed for the admin user (needed when `adminCidrs` opens SSH).")

    @field_validator("domain")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    # Resolved views: the rest of the program reads these, never the raw optionals.
    @property
    def resolved_region(self) -> str:
        return self.region or DEFAULT_REGION[self.provider]

    @property
    def resolved_size(self) -> str:
        return self.size or DEFAULT_SIZE[self.provider]

    @property
    def database_size(self) -> str:
        return self.database.size or DEFAULT_DB_SIZE[self.provider]

    @property
    def ssh_open(self) -> bool:
        return bool(self.admin_cidrs)

    @property
    def tls(self) -> bool:
        """HTTPS needs a domain, a contact, and an ACME server that can reach the host:
        Let's Encrypt reaches cloud hosts; a local machine only a private ACME server."""
        return bool(self.domain) and bool(self.email) and (self.provider != "local" or bool(self.acme_server))

    @property
    def app_path(self) -> Path:
        path = self.app.path
        return path if path.is_absolute() else PROJECT_ROOT / path
