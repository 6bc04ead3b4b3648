"""The hostile-case table: named bad or tricky stack configs and what must happen to each.

Each case is a config fragment (keys as in `Pulumi.<stack>.yaml`'s `config:`) and one outcome:
- "rejected: <key>": validation refuses it with a problem naming <key> (a prefix: `adminCidrs`
  matches `adminCidrs[1]`);
- "rendered-escaped": it is accepted, the rendered tree passes every validator
  (tests/render_checks.py), and the hostile `payload` appears in the rendered files only as
  `escaped` (the exact text the escaping filter makes of it).

`since` says when a case holds: "now" (holds on main), "issue13" (fixed by the issue-13
integration; xfail until then), "releases" (needs issue 10's keys: skipped until the model
has them). The run prints the counts (tests/test_hostile_cases.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from launchpad.safety.escape import nft, sh, yaml_scalar

NS = "launchpad:"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 ops@laptop"
TLS = {NS + "domain": "example.com", NS + "email": "ops@example.com", NS + "acmeServer": "https://acme.test/dir"}
SECURE = {"secure": "AAABAHdlaXJkIGNpcGhlcnRleHQ="}


def _c(**keys: Any) -> dict[str, Any]:
    """Config keys without the namespace: `_c(domain="x")` -> {"launchpad:domain": "x"}."""
    return {NS + k: v for k, v in keys.items()}


def _app(**keys: Any) -> dict[str, Any]:
    return {NS + "app": keys}


def _env(name: str, value: str) -> dict[str, Any]:
    return {NS + "app": {"env": {name: value}}}


def _ssh(*cidrs: str) -> dict[str, Any]:
    return {NS + "adminCidrs": list(cidrs), NS + "sshKeys": [KEY]}


@dataclass(frozen=True)
class Case:
    name: str
    config: dict[str, Any]
    expected: str
    since: str = "now"
    payload: str | None = None
    escaped: str | None = None
    needs_keys: tuple[str, ...] = field(default=())

    @property
    def rejected_key(self) -> str | None:
        return self.expected.removeprefix("rejected: ") if self.expected.startswith("rejected: ") else None


def R(name: str, config: dict[str, Any], key: str, since: str = "now", needs: tuple[str, ...] = ()) -> Case:
    return Case(name, config, f"rejected: {key}", since, needs_keys=needs)


def E(name: str, config: dict[str, Any], payload: str, escaped: str | None, since: str = "now") -> Case:
    """`escaped` None: the value must not appear in the host tree at all (it travels elsewhere)."""
    return Case(name, config, "rendered-escaped", since, payload, escaped)


def _env_escaped(name: str, value: str, since: str = "issue13") -> Case:
    """app.env travels in the release manifest (JSON), not in user-data; the agent writes it into an
    EnvironmentFile, whose quoting tests/launchpad/safety/test_escape.py reads back through systemd."""
    return E(f"env value {value!r}", _env(name, value), value, None, since)


CASES: list[Case] = [
    # 1. Root shell injection through the certificate script (issue 13, #1).
    R("email: command substitution", {**TLS, NS + "email": "x$(id>/tmp/f)@example.com"}, "email", "issue13"),
    R("email: semicolons", {**TLS, NS + "email": "a;id>/tmp/f;b@example.com"}, "email", "issue13"),
    R("email: backticks", {**TLS, NS + "email": "`id`@example.com"}, "email", "issue13"),
    R("email: pipe", {**TLS, NS + "email": "a|id@example.com"}, "email", "issue13"),
    R("email: quote", {**TLS, NS + "email": "a'b@example.com"}, "email", "issue13"),
    R("email: trailing newline", {**TLS, NS + "email": "ops@example.com\n"}, "email", "issue13"),
    R("email: space", {**TLS, NS + "email": "ops @example.com"}, "email"),
    R("email: no domain set", _c(email="ops@example.com"), "email"),
    E("email: plus address", {**TLS, NS + "email": "ops+certs@example.com"}, "ops+certs@example.com", sh("ops+certs@example.com")),
    R("acmeServer: shell injection", {**TLS, NS + "acmeServer": "https://acme.test/dir;id>/tmp/f;#"}, "acmeServer", "issue13"),
    R("acmeServer: plain http", {**TLS, NS + "acmeServer": "http://acme.test/dir"}, "acmeServer"),
    R("acmeServer: trailing newline", {**TLS, NS + "acmeServer": "https://acme.test/dir\n"}, "acmeServer", "issue13"),
    R("acmeServer: credentials in URL", {**TLS, NS + "acmeServer": "https://u:p@acme.test/dir"}, "acmeServer", "issue13"),
    R("acmeServer: quote", {**TLS, NS + "acmeServer": "https://acme.test/d'ir"}, "acmeServer", "issue13"),
    R("acmeServer: command substitution", {**TLS, NS + "acmeServer": "https://acme.test/$(id)"}, "acmeServer", "issue13"),
    E("acmeServer: query with &", {**TLS, NS + "acmeServer": "https://acme.test/dir?a=1&b=2"},
      "https://acme.test/dir?a=1&b=2", sh("https://acme.test/dir?a=1&b=2"), "issue13"),
    # 2. SSH open to the world in pieces (issue 13, #2, #3).
    R("adminCidrs: world", _ssh("0.0.0.0/0"), "adminCidrs"),
    R("adminCidrs: IPv4 halves", _ssh("0.0.0.0/1", "128.0.0.0/1"), "adminCidrs", "issue13"),
    R("adminCidrs: IPv6 halves", _ssh("::/1", "8000::/1"), "adminCidrs", "issue13"),
    R("adminCidrs: IPv4 quarters", _ssh("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"), "adminCidrs", "issue13"),
    R("adminCidrs: a public /8", _ssh("11.0.0.0/8"), "adminCidrs", "issue13"),
    R("adminCidrs: IPv4-mapped IPv6", _ssh("::ffff:0:0/96"), "adminCidrs", "issue13"),
    R("adminCidrs: 6to4", _ssh("2002::/16"), "adminCidrs", "issue13"),
    R("adminCidrs: zone id with nft rule", _ssh("::1%lo\n tcp dport 1-65535 accept"), "adminCidrs", "issue13"),
    R("adminCidrs: zone id", _ssh("fe80::1%eth0/128"), "adminCidrs", "issue13"),
    R("adminCidrs: host bits", _ssh("10.0.0.1/8"), "adminCidrs"),
    R("adminCidrs: not a CIDR", _ssh("my-office"), "adminCidrs"),
    R("adminCidrs: trailing newline", _ssh("203.0.113.7/32\n"), "adminCidrs"),
    E("adminCidrs: uppercase IPv6", _ssh("2001:DB8::/48"), "2001:DB8::/48", nft("2001:DB8::/48"), "issue13"),
    E("adminCidrs: bare address", _ssh("203.0.113.7"), "saddr 203.0.113.7 ", "saddr " + nft("203.0.113.7") + " ", "issue13"),
    R("sshKeys: two keys in one", _c(sshKeys=[KEY + "\nssh-rsa AAAAB3 evil"]), "sshKeys"),
    R("sshKeys: forced command option", _c(sshKeys=['command="id" ' + KEY]), "sshKeys"),
    E("sshKeys: YAML in the comment", _c(sshKeys=[KEY + ' x": y, #z']), KEY + ' x": y, #z', yaml_scalar(KEY + ' x": y, #z'), "issue13"),
    # 3. app.name collisions (issue 13, #4) and full matches (#9).
    *[R(f"app.name: reserved {n!r}", _app(name=n), "app.name", "issue13")
      for n in ("nftables", "ssh", "nginx", "root", "ops", "www-data", "sshd", "systemd-journald", "cloud-init",
                "postgresql", "launchpad-agent", "daemon", "letsencrypt")],
    R("app.name: trailing newline", _app(name="rocket\n"), "app.name", "issue13"),
    R("app.name: uppercase", _app(name="Rocket"), "app.name"),
    R("app.name: path", _app(name="../etc"), "app.name"),
    R("app.module: trailing newline", _app(module="rocket:app\n"), "app.module", "issue13"),
    R("app.module: extra gunicorn flags", _app(module="rocket:app --bind 0.0.0.0:80"), "app.module"),
    R("app.module: shell", _app(module="rocket:app;id"), "app.module"),
    R("domain: trailing newline", _c(domain="example.com\n"), "domain", "issue13"),
    R("domain: nginx directive", _c(domain="example.com; return 200"), "domain"),
    R("domain: nginx variable", _c(domain="$host.example.com"), "domain"),
    R("domain: unicode", _c(domain="exämple.com"), "domain"),
    R("domain: www", _c(domain="www.example.com"), "domain"),
    R("database.name: trailing newline", {NS + "database": {"enabled": True, "name": "app\n"}}, "database.name", "issue13"),
    R("database.name: SQL quote", {NS + "database": {"enabled": True, "name": "app'; DROP"}}, "database.name"),
    R("database.name: reserved", {NS + "database": {"enabled": True, "name": "postgres"}}, "database.name"),
    R("database.name: template1", {NS + "database": {"enabled": True, "name": "template1"}}, "database.name", "issue13"),
    R("size: trailing newline", _c(provider="aws", size="t3.small\n"), "size", "issue13"),
    R("database.size: trailing newline", {**_c(provider="aws"), NS + "database": {"enabled": True, "size": "db.t4g.micro\n"}},
      "database.size", "issue13"),
    R("region: trailing newline", _c(provider="aws", region="us-east-1\n"), "region"),
    # 4. Secrets in plain config (issue 13, #5, #10).
    *[R(f"app.env: secret name {n}", _env(n, "x"), f"app.env.{n}", "issue13")
      for n in ("DB_PASS", "STRIPE_KEY", "SENTRY_DSN", "BASIC_AUTH", "HASH_SALT", "SMTP_PWD")],
    R("app.env: secret name AWS_ACCESS_KEY_ID", _env("AWS_ACCESS_KEY_ID", "x"), "app.env.AWS_ACCESS_KEY_ID"),
    R("app.env: SECRET_KEY", _env("SECRET_KEY", "x"), "app.env.SECRET_KEY"),
    R("app.env: URL with a password", _env("DATABASE_URL", "postgresql://app:hunter2@db/app"), "app.env.DATABASE_URL", "issue13"),
    R("app.env: AWS key id value", _env("UPLOADS", "AKIAIOSFODNN7EXAMPLE"), "app.env.UPLOADS", "issue13"),
    R("app.env: private key value", _env("TLS", "-----BEGIN PRIVATE KEY-----\nMIIE"), "app.env.TLS", "issue13"),
    R("app.env: JWT value", _env("BEARER", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0"),
      "app.env.BEARER", "issue13"),
    R("app.env: high-entropy value", _env("FLASK_SIGNER", "Jp7r0QmX2wqL9vKc4NfTb8sYhZ1aE6uD"), "app.env.FLASK_SIGNER", "issue13"),
    R("app.env: name with newline", _env("DEBUG\n", "1"), "app.env", "issue13"),
    R("app.env: lowercase name", _env("debug", "1"), "app.env.debug"),
    R("app.env: name with =", _env("A=B", "1"), "app.env"),
    R("app.env: LD_PRELOAD", _env("LD_PRELOAD", "/tmp/x.so"), "app.env.LD_PRELOAD", "issue13"),
    R("app.env: systemd's NOTIFY_SOCKET", _env("NOTIFY_SOCKET", "/tmp/s"), "app.env.NOTIFY_SOCKET", "issue13"),
    R("app.env: LAUNCHPAD_ prefix", _env("LAUNCHPAD_RELEASE", "x"), "app.env.LAUNCHPAD_RELEASE", "issue13"),
    R("app.env: integer value", {NS + "app": {"env": {"N": 1}}}, "app.env.N"),
    R("launchpad key held as a secret", {NS + "domain": SECURE}, "domain"),
    R("plain aws:secretKey", {"aws:secretKey": "abc"}, "aws:secretKey"),
    R("plain digitalocean:spacesSecretKey", {"digitalocean:spacesSecretKey": "abc"}, "digitalocean:spacesSecretKey", "issue13"),
    R("plain digitalocean:spacesAccessId", {"digitalocean:spacesAccessId": "DO00ABCDEFGHIJKLMNOP"},
      "digitalocean:spacesAccessId", "issue13"),
    R("plain cloudflare:apiToken", {"cloudflare:apiToken": "abc"}, "cloudflare:apiToken", "issue13"),
    R("plain github:token", {"github:token": "abc"}, "github:token", "issue13"),
    # 5. Silently ignored config (issue 13, #10).
    R("namespace typo lauchpad", {"lauchpad:production": True}, "lauchpad:production", "issue13"),
    R("namespace typo launchpd", {"launchpd:domain": "example.com"}, "launchpd:domain", "issue13"),
    R("namespace case Launchpad", {"Launchpad:domain": "example.com"}, "Launchpad:domain", "issue13"),
    R("namespace typo launchpads", {"launchpads:rateLimit": 5}, "launchpads:rateLimit", "issue13"),
    R("unknown key", _c(domian="example.com"), "domian"),
    R("rateLimit: true", _c(rateLimit=True), "rateLimit", "issue13"),
    R("rateLimit: float", _c(rateLimit=2.5), "rateLimit"),
    R("rateLimit: shell", _c(rateLimit="20; rm -rf /"), "rateLimit"),
    R("app.workers: true", _app(workers=True), "app.workers", "issue13"),
    R("database.storageGb: true", {**_c(provider="aws"), NS + "database": {"enabled": True, "storageGb": True}},
      "database.storageGb"),
    R("database.enabled: 1", {NS + "database": {"enabled": 1}}, "database.enabled", "issue13"),
    # 6. Values that are fine but must be escaped (issue 13, #8).
    _env_escaped("DATE_FORMAT", "%Y-%m-%d"),
    _env_escaped("GREETING", "hi 😀"),
    _env_escaped("CMD", "$(id); `id` | x & y"),
    _env_escaped("QUOTES", "a\"b\\c'd"),
    _env_escaped("MOTD", "line1\nline2", "now"),
    _env_escaped("YAMLISH", "key: value # c\n- item", "now"),
    _env_escaped("SEPARATOR", "a\u2028b\x85c", "now"),
    R("app.env: control characters", _env("CONTROL", "bell\x07esc\x1b"), "app.env.CONTROL", "issue13"),
    R("app.env: NUL", _env("NUL", "a\x00b"), "app.env.NUL", "issue13"),
    _env_escaped("SPACES", "  padded  ", "now"),
    _env_escaped("DOLLARS", "${HOME} $$ $", "now"),
    # 7. Upcoming keys (issue 10).
    R("app.secrets: plain value", _app(secrets={"SECRET_KEY": "plain"}), "app.secrets.SECRET_KEY", "releases", ("secrets",)),
    R("app.secrets: bad name", _app(secrets={"bad name": SECURE}), "app.secrets", "releases", ("secrets",)),
    R("app.secrets: LD_PRELOAD", _app(secrets={"LD_PRELOAD": SECURE}), "app.secrets.LD_PRELOAD", "releases", ("secrets",)),
    R("app.release: newline", _app(release="flask db upgrade\nrm -rf /"), "app.release", "releases", ("release",)),
    R("app.release: NUL", _app(release="flask\x00db"), "app.release", "releases", ("release",)),
    R("app.healthPath: no slash", _app(healthPath="healthz"), "app.healthPath", "releases", ("health_path",)),
    R("app.healthPath: newline", _app(healthPath="/healthz\n"), "app.healthPath", "releases", ("health_path",)),
    R("app.healthPath: nginx variable", _app(healthPath="/h$host"), "app.healthPath", "releases", ("health_path",)),
    R("app.healthPath: nginx directive", _app(healthPath="/h; return 200"), "app.healthPath", "releases", ("health_path",)),
    R("app.healthPath: absolute URL", _app(healthPath="http://evil.test/"), "app.healthPath", "releases", ("health_path",)),
    R("app.static: folder escapes the app", _app(static={"/static/": "../../etc"}), "app.static", "releases", ("static",)),
    R("app.static: absolute folder", _app(static={"/static/": "/etc"}), "app.static", "releases", ("static",)),
    R("app.static: nginx variable in prefix", _app(static={"/st$uri/": "static"}), "app.static", "releases", ("static",)),
    R("app.static: directive in folder", _app(static={"/static/": "static; autoindex on"}), "app.static", "releases", ("static",)),
]
