"""The agent's pure parts: constants, the release contract's checks, env-file quoting,
requirement names, tar member safety, health semantics, status bookkeeping and the
nginx files. No I/O here (unit-tested in tests/agent/)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path, PurePosixPath

CONFIG = Path("/etc/launchpad/agent.json")
APP_ENV = Path("/etc/launchpad/app.env")
ENV_DIR = Path("/etc/launchpad/releases")
SLOT_ENV_DIR = Path("/etc/launchpad/slots")
STATUS = Path("/var/lib/launchpad/release/status.json")
LOCK = Path("/run/launchpad-agent.lock")
NGINX_DIR = Path("/etc/nginx/launchpad")
PIP_CACHE = "/var/cache/launchpad/pip"
BUILD_USER = "launchpad-build"
"""The unprivileged user pip runs as (created by the host's cloud-config; see build.py)."""
SLOTS = ("a", "b")
VENV_LINK = ".launchpad-venv"
HISTORY_MAX = 50
RETRY_S = 30.0
TAIL_LINES = 40
HEALTH_TIMEOUT_S = 60.0
VERIFY_TIMEOUT_S = 10.0
RELEASE_TIMEOUT_S = 15 * 60
MAX_EXTRACT_BYTES = 4 << 30
ID_RE = re.compile(r"^[0-9a-f]{12}$")
HEX_RE = re.compile(r"^[0-9a-f]{16,64}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Only characters that need no quoting in nginx config and shell: URL prefixes and folders.
SAFE_PATH_RE = re.compile(r"[A-Za-z0-9._~/@+-]+")  # fullmatch only
# What the deployer's settings accept (launchpad/settings/release_keys.py), matched in full
# (fullmatch: `$` would let a trailing newline through): a URL prefix /a/b/ and a folder a/b/.
STATIC_URL_RE = re.compile(r"/(?:[A-Za-z0-9._~-]+/)*")
STATIC_FOLDER_RE = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*/?")
REQ_NAME_RE = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;@(]|$)")
EGG_RE = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
LOCAL_REQ_RE = re.compile(r"^\s*(?:-e|--editable)\b|^\s*(?:\.|\.\.|file:)(?:/|\s|$|\[)")


class Failure(Exception):
    """A release step failed; `stage` and `tail` go to status.json's last_failure."""

    def __init__(self, stage: str, message: str, exit: int | None = None, tail: str = "", retry: bool = False):
        super().__init__(message)
        self.stage, self.exit, self.tail, self.retry = stage, exit, tail, retry


def log(message: str, level: int = 5) -> None:
    """A line for the journal at `level` (5 notice, 3 error). The service runs with
    LogLevelMax=notice, which keeps systemd's Starting/Finished lines of a pass every 2 s
    out of the journal; the `<N>` prefix lifts the agent's own lines above that bar."""
    journal = bool(os.environ.get("JOURNAL_STREAM"))
    prefix, name = (f"<{level}>", "") if journal else ("", "launchpad-agent: ")
    lines = message.splitlines() or [""]
    print("\n".join([f"{prefix}{name}{lines[0]}", *(f"{prefix}  | {ln}" for ln in lines[1:])]), file=sys.stderr, flush=True)


def now_iso() -> str:
    from datetime import datetime, timezone  # noqa: PLC0415 (lazy: the idle pass every 2 s needs none of it)
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def quote_env_value(value: str) -> str:
    """One value in systemd EnvironmentFile= syntax: double-quoted, with \\ " $ ` escaped
    (inside double quotes systemd keeps the character after a backslash for exactly these).
    Newlines are kept (a double-quoted value may span lines: PEM keys); every other
    control character, NUL and the BOM are refused, since systemd rejects or mangles them."""
    for ch in value:
        if (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F or ch == "\ufeff":
            raise ValueError(f"control character {ch!r} in an environment value; valid: printable text and newlines")
    return '"' + re.sub(r'([\\"$`])', r"\\\1", value) + '"'


def env_file_text(pairs: list[tuple[str, str]], header: str) -> str:
    """Env file text; a later assignment of the same name wins (systemd reads top to bottom)."""
    lines = [f"# {header}"]
    for name, value in pairs:
        if not ENV_NAME_RE.fullmatch(name):
            raise ValueError(f"environment name {name!r}: expected letters, digits and _, not starting with a digit")
        lines.append(f"{name}={quote_env_value(value)}")
    return "\n".join(lines) + "\n"


def parse_env_file(text: str) -> list[tuple[str, str]]:
    """The NAME=value lines of a simple env file (/etc/launchpad/app.env): unquoted values
    (backslash keeps the next character), or one-line "double" / 'single' quoted ones."""
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        name, value = (part.strip() for part in line.split("=", 1))
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r'\\([\\"$`])', r"\1", value[1:-1])
        else:
            value = re.sub(r"\\(.)", r"\1", value)
        if ENV_NAME_RE.fullmatch(name):
            pairs.append((name, value))
    return pairs


def normalize_name(name: str) -> str:
    """PEP 503: runs of -, _ and . are one -, case-insensitive."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    """The distribution a requirement line names (PEP 503-normalised), or None for
    options, comments and bare URLs without #egg=."""
    line = line.split(" #", 1)[0].strip()
    if not line or line.startswith("#"):
        return None
    egg = EGG_RE.search(line)
    if egg:
        return normalize_name(egg.group(1))
    if line.startswith("-") or "://" in line.split("@", 1)[0]:
        return None
    match = REQ_NAME_RE.match(line)
    return normalize_name(match.group(1)) if match else None


def requirement_lines(path: Path, root: Path, seen: set[Path] | None = None) -> list[str]:
    """Logical lines of a requirements file, `-r` includes inside `root` followed."""
    seen = seen if seen is not None else set()
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    out: list[str] = []
    for line in path.read_text(errors="replace").replace("\\\n", "").splitlines():
        inc = re.match(r"^\s*(?:-r|--requirement)(?:\s+|=)(\S+)", line)
        if inc:
            target = (path.parent / inc.group(1)).resolve()
            if target.is_relative_to(root.resolve()):
                out += requirement_lines(target, root, seen)
            continue
        out.append(line)
    return out


def needs_gunicorn(names: list[str | None]) -> bool:
    return "gunicorn" not in names


GUNICORN_RE = re.compile(r"gunicorn(?:\s*(?:~=|==|>=|<=|!=|<|>)\s*[0-9][0-9.*]*(?:\s*,\s*(?:~=|==|>=|<=|!=|<|>)\s*[0-9][0-9.*]*)*)?")


def gunicorn_requirement(cfg: dict) -> str:
    """The requirement added for an app that names no gunicorn: agent.json's `gunicorn`, the
    deployer's one pin (launchpad/providers.py), so the agent holds no version of its own."""
    value = cfg.get("gunicorn")
    if not isinstance(value, str) or not GUNICORN_RE.fullmatch(value):
        raise ValueError(f"agent.json gunicorn {value!r}: expected gunicorn with an optional version specifier "
                         "(the host's agent.json predates it: replace the host, or name gunicorn in the app)")
    return value


# The builder's sandbox: network (pip downloads), its build folder and the pip cache writable,
# everything else read-only or hidden, no privilege; MemoryDenyWriteExecute stays off (compilers, JITs).
BUILD_SANDBOX = (
    "NoNewPrivileges=yes", "CapabilityBoundingSet=", "AmbientCapabilities=", "ProtectSystem=strict", "ProtectHome=yes",
    "PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes", "ProtectControlGroups=yes", "ProtectClock=yes", "ProtectHostname=yes",
    "ProtectProc=invisible", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "RestrictNamespaces=yes",
    "RestrictRealtime=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes", "SystemCallArchitectures=native",
    "RemoveIPC=yes", "KillMode=control-group", "UMask=0022",
)


def build_command(argv: list[str], work: str, timeout_s: int) -> list[str]:
    """systemd-run argv running `argv` as BUILD_USER in `work`, which with the pip cache is all it
    may write. --wait: the unit (and every process it started) is gone when this returns."""
    env = {"HOME": "/tmp", "PIP_CACHE_DIR": PIP_CACHE, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
           "PIP_PROGRESS_BAR": "off", "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/local/bin:/usr/bin:/bin"}
    return ["systemd-run", "--quiet", "--wait", "--collect", "--pipe", "--service-type=exec",
            f"--uid={BUILD_USER}", f"--gid={BUILD_USER}", f"--working-directory={work}",
            f"--property=ReadWritePaths={work} {PIP_CACHE}", f"--property=RuntimeMaxSec={timeout_s}",
            *(f"--property={p}" for p in BUILD_SANDBOX), *(f"--setenv={k}={v}" for k, v in sorted(env.items())),
            "--", *argv]


def pyproject_dependencies(text: str) -> list[str]:
    import tomllib  # noqa: PLC0415
    project = tomllib.loads(text).get("project") or {}
    deps = project.get("dependencies") or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise ValueError("pyproject.toml: [project].dependencies must be a list of requirement strings")
    return deps


def healthy(status: int, health_path: str | None) -> bool:
    """With a health path, only 2xx is healthy; without, GET / answering anything below 500
    (a login redirect, a 404 for an app with no `/`) proves the app boots and serves."""
    return 200 <= status < 300 if health_path else status < 500


def member_problem(name: str, kind: str, linkname: str = "") -> str | None:
    """Why a tar member must not be extracted, or None: only regular files, folders and
    symlinks that stay inside the release; no absolute paths, no `..`, no reserved names."""
    path = PurePosixPath(name)
    if name.startswith("/") or ".." in path.parts or not path.parts:
        return f"{name!r}: absolute or escaping path"
    if path.parts[0] == VENV_LINK:
        return f"{name!r}: reserved name"
    if kind == "link":
        target = PurePosixPath(linkname)
        if linkname.startswith("/"):
            return f"{name!r}: symlink to the absolute path {linkname!r}"
        depth = len(path.parts) - 1
        for part in target.parts:
            depth += -1 if part == ".." else (0 if part == "." else 1)
            if depth < 0:
                return f"{name!r}: symlink to {linkname!r} leaves the release"
    elif kind not in ("file", "dir"):
        return f"{name!r}: {kind} members are not allowed"
    return None


def validate_manifest(data: dict, release_id: str, app: str) -> list[str]:
    """Everything the agent relies on, checked before anything touches the host."""
    p = []
    if data.get("schema") != 1:
        p.append(f"schema {data.get('schema')!r}: this agent reads schema 1")
    if data.get("id") != release_id:
        p.append(f"id {data.get('id')!r}: expected {release_id!r} (the file name)")
    import hashlib  # noqa: PLC0415
    body = {k: v for k, v in data.items() if k not in ("id", "created")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if hashlib.sha256(canonical).hexdigest()[:12] != release_id:
        p.append("content does not hash to its id: edited or corrupt")
    if data.get("app") != app:
        p.append(f"app {data.get('app')!r}: this host runs {app!r}")
    if not re.fullmatch(r"[0-9a-f]{64}", str(data.get("artifact"))):
        p.append(f"artifact {data.get('artifact')!r}: expected a sha256")
    if not HEX_RE.fullmatch(str(data.get("deps_hash"))):
        p.append(f"deps_hash {data.get('deps_hash')!r}: expected hex")
    if data.get("deps") not in ("requirements.txt", "pyproject.toml", "none"):
        p.append(f"deps {data.get('deps')!r}: expected requirements.txt, pyproject.toml or none")
    module = data.get("module")
    if not isinstance(module, str) or not module.strip() or any(ord(c) < 0x20 for c in module):
        p.append(f"module {module!r}: expected like pkg.mod:app or pkg:create_app()")
    for name, value in (data.get("env") or {}).items():
        if not ENV_NAME_RE.fullmatch(name) or not isinstance(value, str):
            p.append(f"env.{name}: expected NAME: string")
    for folder in data.get("writable") or []:
        if not (isinstance(folder, str) and SAFE_PATH_RE.fullmatch(folder) and not folder.startswith("/")
                and member_problem(folder.strip("/"), "dir") is None):
            p.append(f"writable {folder!r}: expected a relative folder inside the app")
    for key in ("workers", "threads"):
        if data.get(key) is not None and not (isinstance(data[key], int) and 0 < data[key] <= 256):
            p.append(f"{key} {data[key]!r}: expected 1..256 or null")
    path = data.get("health_path")
    if path is not None and not (isinstance(path, str) and path.startswith("/") and not any(c in path for c in " \r\n")):
        p.append(f"health_path {path!r}: expected a path like /healthz, or null")
    return p


def static_problems(static: object) -> list[str]:
    """Why the manifest's static map cannot become nginx locations (empty: it can). Checked
    on the host again, whatever the deployer checked: each value lands in nginx config
    unquoted (`location ^~ <url>`, `alias <release>/<folder>/`), so only a full match of
    the allow-list passes: no `..` or `.` segment, no quote, `;`, brace, space or newline."""
    if not isinstance(static, dict):
        return [f"static {static!r}: expected a map of URL prefix to folder"]
    p = []
    for url, folder in static.items():
        if not (isinstance(url, str) and STATIC_URL_RE.fullmatch(url) and not _dot_segment(url)):
            p.append(f"static {url!r}: expected a URL prefix like /static/ (letters, digits, . _ ~ -, ending in /)")
        if not (isinstance(folder, str) and STATIC_FOLDER_RE.fullmatch(folder) and not _dot_segment(folder)):
            p.append(f"static.{url} {folder!r}: expected a folder inside the app, relative, like pkg/static/")
    return p


def _dot_segment(path: str) -> bool:
    return any(part in (".", "..") for part in path.split("/"))


def record(status: dict, entry: dict) -> dict:
    """status.json after an attempt. A live entry demotes the old live to previous;
    one entry per release id, newest first, at most HISTORY_MAX."""
    history = [h for h in status.get("history", []) if h["id"] != entry["id"]]
    if entry["status"] == "live":
        for h in history:
            if h["status"] == "live":
                h["status"] = "previous"
        status = {**status, "live": entry["id"], "last_failure": None}
    return {**status, "history": ([entry] + history)[:HISTORY_MAX]}


def prune_plan(status: dict, on_disk: set[str], keep: int) -> set[str]:
    """Release ids to delete: beyond the newest `keep` that were ever live, and every failed or
    unknown one; never the live release nor the one before it."""
    history = status.get("history", [])
    good = [h["id"] for h in history if h["status"] in ("live", "previous")]
    protected = {status.get("live")} | set(good[:2])
    kept = set(good[:max(keep, 1)]) | protected
    return {i for i in on_disk if i not in kept}


def refused(status: dict, pointer: dict, now: float, app_env: str | None = None) -> bool:
    """A failed release is not tried again until the desired pointer is rewritten, except
    one that failed for want of something the deployer is still writing (`retry_after`),
    or once /etc/launchpad/app.env changed since (`app_env`: a rotated DATABASE_URL after a
    broken one is a new attempt, not the same failure)."""
    fail = status.get("last_failure") or {}
    if fail.get("retry_after") is not None and now >= fail["retry_after"]:
        return False
    if fail.get("id") != pointer.get("id") or fail.get("pointer_at") != pointer.get("at"):
        return False
    return app_env is None or fail.get("app_env", app_env) == app_env


def live_conf(app: str, slot: str, release: str) -> str:
    """The live slot as nginx's upstream, twice: the second entry (same socket) is where nginx
    retries a GET whose worker died mid-request (kill -9, OOM) instead of answering 502; never
    a POST (nginx retries no non-idempotent request), nor after proxy_next_upstream_timeout."""
    return (f"# Written by launchpad-agent: the live release of {app}; do not edit.\n"
            f"upstream {app}_app {{\n    server unix:/run/{app}-{slot}.sock max_fails=0;\n"
            f"    server unix:/run/{app}-{slot}.sock max_fails=0 backup;\n}}\n"
            f'map "" $launchpad_release {{\n    default "{release}";\n}}\n')


def static_conf(app: str, release_dir: str, static: dict[str, str]) -> str:
    """Server-level locations aliasing the live release's static folders. Names carrying a
    content hash are cached for a year, the rest briefly: a release may change them."""
    problems = static_problems(static)
    if problems or not SAFE_PATH_RE.fullmatch(release_dir):
        raise ValueError("; ".join(problems) or f"release folder {release_dir!r}: unsafe in nginx config")
    out = [f"# Written by launchpad-agent: {app}'s static files from {release_dir}; do not edit."]
    for url, folder in sorted(static.items()):
        out += [f"location ^~ {url} {{",
                f"    alias {release_dir}/{folder.strip('/')}/;",
                f"    include {NGINX_DIR}/{app}-headers.conf;",
                '    add_header Cache-Control "public, max-age=300" always;',
                '    location ~* "\\.[0-9a-f]{8,}\\.[A-Za-z0-9]+$" {',
                f"        include {NGINX_DIR}/{app}-headers.conf;",
                '        add_header Cache-Control "public, max-age=31536000, immutable" always;',
                "    }",
                "}"]
    return "\n".join(out) + "\n"
