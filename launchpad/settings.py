"""The one typed model of Launchpad's stack configuration (namespace `launchpad:`).

Every stack key is declared here, once: its type, default, valid values and the
description the README's config reference is generated from. Both entry points
read through it: the Pulumi program (`load_from_pulumi`) and the `launchpad`
command (`load_from_file`, which reads `Pulumi.<stack>.yaml` directly).
Validation collects every problem, each with its key path, the bad value and
what would be valid, and raises once, before any resource is registered.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from launchpad import app_bundle

NAMESPACE = "launchpad"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
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
# renderer checks the real total again (components/bootstrap.py).
USER_DATA_RESERVE = {"aws": 8 * 1024, "digitalocean": 24 * 1024, "local": 24 * 1024}

HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,63}$", re.IGNORECASE)
MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
APP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SSH_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( .*)?$")
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|API_?KEY|ACCESS_?KEY|CREDENTIAL)", re.IGNORECASE)

# Provider credentials that must never sit in plain text in a stack file.
PROVIDER_SECRET_KEYS = ("digitalocean:token", "aws:secretKey", "aws:accessKey", "aws:token")


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


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        # Config keys get their namespace; provider keys and file names stand as they are.
        plain = ":" in self.key or self.key.startswith("Pulumi.")
        return f"{self.key}: {self.message}" if plain else f"{NAMESPACE}:{self.key}: {self.message}"


class ConfigError(ValueError):
    """Every problem in one stack's configuration, reported at once."""

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"Stack '{stack}' configuration has {len(problems)} {noun}:\n{lines}")


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fields(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items() if not f.exclude]


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(err: ValidationError) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = e["loc"]
        key = _key_path(loc)
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            parent: type[BaseModel] = Settings
            if len(loc) > 1 and loc[0] == "app":
                parent = AppSettings
            elif len(loc) > 1 and loc[0] == "database":
                parent = DatabaseSettings
            valid = _fields(parent)
            problems.append(Problem(key, f"unknown key{_suggest(str(loc[-1]), valid)}; valid keys here: {', '.join(valid)}"))
        elif e["type"] == "literal_error" and loc == ("provider",):
            problems.append(Problem(key, f"{value!r} is not a provider{_suggest(str(value), PROVIDERS)}; valid: {', '.join(PROVIDERS)}"))
        else:
            problems.append(Problem(key, f"{value!r}: {e['msg']}"))
    return problems


def _check(s: Settings) -> list[Problem]:
    """Cross-field and provider-specific rules pydantic's field types cannot express."""
    p: list[Problem] = []
    prov = s.provider
    if s.region is not None and s.region not in REGIONS[prov]:
        valid = REGIONS[prov]
        p.append(Problem("region", f"{s.region!r} is not a {prov} region{_suggest(s.region, valid)}; valid: {', '.join(valid)}"))
    if s.size is not None:
        if prov == "aws" and not AWS_SIZE.match(s.size):
            p.append(Problem("size", f"{s.size!r} is not an EC2 instance type; expected like t3.small or m7g.large"))
        elif prov == "digitalocean" and not DO_SIZE.match(s.size):
            p.append(Problem("size", f"{s.size!r} is not a droplet size slug; expected like s-1vcpu-1gb or s-2vcpu-4gb"))
        elif prov == "local" and s.size != "local":
            p.append(Problem("size", f"{s.size!r}: the local provider takes no size; remove the key or set 'local'"))
    if s.domain is not None:
        if s.domain.startswith("www."):
            p.append(Problem("domain", f"{s.domain!r}: give the apex domain ({s.domain[4:]!r}); www. redirects to it"))
        elif not HOSTNAME.match(s.domain):
            p.append(Problem("domain", f"{s.domain!r} is not a valid domain name; expected like example.com"))
    if s.email is not None and not EMAIL.match(s.email):
        p.append(Problem("email", f"{s.email!r} is not an email address; expected like ops@example.com"))
    if s.acme_server is not None and not re.match(r"^https://[^\s/]+(/\S*)?$", s.acme_server):
        p.append(Problem("acmeServer", f"{s.acme_server!r} is not an ACME directory URL; expected like https://acme-staging-v02.api.letsencrypt.org/directory"))
    if s.email is not None and s.domain is None:
        p.append(Problem("email", f"{s.email!r} is set but 'domain' is not; the email is only used for a certificate for the domain"))
    p += _check_app(s)
    p += _check_database(s)
    p += _check_ssh(s)
    return p


def _check_app(s: Settings) -> list[Problem]:
    p: list[Problem] = []
    app = s.app
    if not MODULE.match(app.module):
        p.append(Problem("app.module", f"{app.module!r} is not a WSGI entry point; expected 'module:variable' like 'rocket:app'"))
    if app.name is not None and not APP_NAME.match(app.name):
        p.append(Problem("app.name", f"{app.name!r} is not a unix name; expected lowercase letters, digits and '-', starting with a letter, at most 31"))
    elif app.name is None and not APP_NAME.match(app.unix_name):
        p.append(Problem("app.module", f"{app.module!r} gives no usable unix name ({app.unix_name!r}); set app.name"))
    for name in app.env:
        if not ENV_NAME.match(name):
            p.append(Problem(f"app.env.{name}", f"{name!r} is not an environment variable name; expected like DEBUG_LEVEL"))
        elif SECRET_NAME.search(name):
            p.append(Problem(f"app.env.{name}", f"{name!r} looks like a secret; plain env values land in user-data, so secrets are refused here"))
    path = s.app_path
    if not path.is_dir():
        p.append(Problem("app.path", f"{str(app.path)!r} is not a folder (looked in {path}); point it at the folder holding your app"))
        return p
    if MODULE.match(app.module):
        module = app.module.split(":")[0].replace(".", "/")
        if not (path / f"{module}.py").is_file() and not (path / module / "__init__.py").is_file():
            p.append(Problem("app.module", f"{app.module!r}: no {module}.py or {module}/__init__.py in {path}"))
    size = len(app_bundle.pack_b64(path))
    budget = USER_DATA_LIMIT[s.provider] - USER_DATA_RESERVE[s.provider]
    if s.provider == "aws":
        # The packed app is already compressed; base64 text regains ~25% under gzip.
        size = size * 3 // 4
    if size > budget:
        p.append(Problem("app.path", f"{str(app.path)!r} packs to {size} bytes, over the {budget} bytes left for the app under {USER_DATA_LIMIT_NAME[s.provider]}; "
                                     "trim the folder (tests, assets) or ship the app from a package index or image"))
    return p


def _check_database(s: Settings) -> list[Problem]:
    p: list[Problem] = []
    db = s.database
    versions = DB_VERSIONS[s.provider]
    if db.version not in versions:
        p.append(Problem("database.version", f"{db.version!r} is not offered on {s.provider}; valid: {', '.join(versions)}"))
    if db.size is not None:
        if s.provider == "aws" and not AWS_DB_SIZE.match(db.size):
            p.append(Problem("database.size", f"{db.size!r} is not an RDS instance class; expected like db.t4g.micro"))
        elif s.provider == "digitalocean" and not DO_DB_SIZE.match(db.size):
            p.append(Problem("database.size", f"{db.size!r} is not a DO database size slug; expected like db-s-1vcpu-1gb"))
        elif s.provider == "local" and db.size != "local":
            p.append(Problem("database.size", f"{db.size!r}: the local provider takes no database size; remove the key"))
    if s.provider == "aws" and not 1 <= db.backup_retention_days <= 35:
        p.append(Problem("database.backupRetentionDays", f"{db.backup_retention_days!r} is out of range; RDS keeps 1 to 35 days"))
    elif s.provider == "digitalocean" and db.backup_retention_days != 7:
        p.append(Problem("database.backupRetentionDays", f"{db.backup_retention_days!r}: DigitalOcean keeps backups 7 days, fixed; remove the key"))
    elif s.provider == "local" and db.backup_retention_days < 0:
        p.append(Problem("database.backupRetentionDays", f"{db.backup_retention_days!r} is negative; expected 0 or more days"))
    if not re.match(r"^[a-z][a-z0-9_]{0,30}$", db.name) or db.name in ("postgres", "rdsadmin", "admin"):
        p.append(Problem("database.name", f"{db.name!r} is not a usable database name; expected lowercase letters, digits, '_', not a reserved name"))
    return p


def _check_ssh(s: Settings) -> list[Problem]:
    p: list[Problem] = []
    for i, cidr in enumerate(s.admin_cidrs):
        key = f"adminCidrs[{i}]"
        try:
            net = ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            p.append(Problem(key, f"{cidr!r} is not a CIDR ({exc}); expected like 203.0.113.7/32"))
            continue
        if net.prefixlen == 0:
            p.append(Problem(key, f"{cidr!r} opens SSH to the whole internet; give your own address, like 203.0.113.7/32"))
    for i, key_text in enumerate(s.ssh_keys):
        if not SSH_KEY.match(key_text.strip()):
            p.append(Problem(f"sshKeys[{i}]", f"{key_text[:40]!r} is not an OpenSSH public key; expected 'ssh-ed25519 AAAA... comment'"))
    if s.provider == "digitalocean" and s.database.enabled and not s.admin_cidrs:
        p.append(Problem("adminCidrs", "[]: with provider digitalocean and database.enabled, the database credentials are delivered over SSH "
                                       "from where `pulumi up` runs; add that machine's address (like 203.0.113.7/32) and an sshKeys entry"))
    if s.admin_cidrs and not s.ssh_keys and s.provider != "local":
        p.append(Problem("sshKeys", "[] while adminCidrs opens SSH; password login is off, so add a public key"))
    return p


def validate(raw: Mapping[str, Any], stack: str, secret_keys: frozenset[str] = frozenset()) -> Settings:
    """Validates raw config (keys with or without the `launchpad:` prefix) into Settings.

    `secret_keys` names the config keys held as Pulumi secrets; plaintext values of
    provider credentials are refused.
    """
    problems: list[Problem] = []
    ours: dict[str, Any] = {}
    for key, value in raw.items():
        ns, _, name = key.rpartition(":")
        if key in PROVIDER_SECRET_KEYS and key not in secret_keys and not _is_secure(value):
            problems.append(Problem(key, f"is stored in plain text; set it with `pulumi config set --secret {key}` (or the provider's environment variable)"))
        if ns in ("", NAMESPACE):
            ours[name] = value
    for key, value in ours.items():
        if _is_secure(value) or f"{NAMESPACE}:{key}" in secret_keys:
            problems.append(Problem(key, "is a secret, but no Launchpad key takes a secret: they would be rendered into user-data; "
                                         "the database password is generated and delivered out of band"))
    data: dict[str, Any] = {**ours, "stack": stack}
    # Drop what pydantic rejects and validate again, so the cross-field checks
    # still run on the rest and every problem is reported in one go.
    settings: Settings | None = None
    for _ in range(10):
        try:
            settings = Settings.model_validate(data)
            break
        except ValidationError as err:
            problems += _pydantic_problems(err)
            for e in err.errors():
                _drop(data, e["loc"])
    if settings is not None:
        problems += _check(settings)
    if problems:
        raise ConfigError(stack, problems)
    assert settings is not None
    return settings


def _drop(data: dict[str, Any], loc: tuple[int | str, ...]) -> None:
    """Removes the top-level or nested key a validation error points at."""
    node: Any = data
    for part in loc[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return
    last = loc[-1]
    if isinstance(node, dict):
        node.pop(last, None)
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        # A bad list item: drop the whole list so indexes in messages stay true.
        data.pop(loc[0], None) if len(loc) == 2 and isinstance(loc[0], str) else None


def _is_secure(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def _decode(value: Any) -> Any:
    """Pulumi hands the program every value as a string; structured ones are JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def load_from_pulumi() -> Settings:
    """Reads the running Pulumi program's config (all of it, to catch unknown keys)."""
    import pulumi
    from pulumi.runtime import config as rc

    merged = {**rc.get_config_env(), **rc.CONFIG.get()}
    secrets = frozenset(k for k in merged if rc.is_config_secret(k)) | frozenset(rc.get_config_secret_keys_env())
    raw = {k: _decode(v) for k, v in merged.items() if k.startswith(f"{NAMESPACE}:") or k in PROVIDER_SECRET_KEYS}
    return validate(raw, pulumi.get_stack(), secrets)


def stack_file(stack: str, root: Path = PROJECT_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def load_from_file(stack: str, root: Path = PROJECT_ROOT) -> Settings:
    """Reads `Pulumi.<stack>.yaml` the way Pulumi would hand it to the program."""
    path = stack_file(stack, root)
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise ConfigError(stack, [Problem(path.name, f"no such file for stack {stack!r}{_suggest(stack, known)}; stacks here: {', '.join(known) or 'none'}")])
    data = yaml.safe_load(path.read_text()) or {}
    raw = data.get("config") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(stack, [Problem("config", f"{path.name}: 'config' must be a mapping of keys to values")])
    return validate(raw, stack)


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    for junk in ("typing.", "pathlib.", "launchpad.settings."):
        text = text.replace(junk, "")
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text)
    text = re.sub(r"Literal\[(.*)\]", lambda m: " / ".join(v.strip().strip("'") for v in m.group(1).split(",")), text)
    text = text.replace(" | None", ", optional").replace("AppSettings", "object").replace("DatabaseSettings", "object")
    return text.replace("Path", "path")


def reference_markdown() -> str:
    """The README's config reference, generated from the model so the two cannot drift."""
    rows = ["| key | type | default | description |", "|---|---|---|---|"]

    def add(prefix: str, model: type[BaseModel]) -> None:
        for name, f in model.model_fields.items():
            if f.exclude:
                continue
            key = f"{prefix}{f.alias or name}"
            ann = _type_name(f.annotation)
            default = f.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                default_text = "see below"
            elif isinstance(default, Path):
                default_text = f"`{default.relative_to(PROJECT_ROOT)}`"
            else:
                default_text = f"`{json.dumps(default)}`"
            rows.append(f"| `{NAMESPACE}:{key}` | {ann} | {default_text} | {f.description} |")

    add("", Settings)
    add("app.", AppSettings)
    add("database.", DatabaseSettings)
    return "\n".join(rows)
