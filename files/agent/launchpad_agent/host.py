"""The host steps of a release: extract, venv, state links, env file, sandboxed
commands, blue/green slots, health checks, the nginx switch and pruning."""

from __future__ import annotations

import grp
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path

from launchpad_agent import standby
from launchpad_agent.rules import (
    APP_ENV, ENV_DIR, HEALTH_TIMEOUT_S, ID_RE, NGINX_DIR, RELEASE_TIMEOUT_S, SLOT_ENV_DIR, TAIL_LINES, VENV_LINK,
    VERIFY_TIMEOUT_S, Failure, env_file_text, healthy, live_conf, parse_env_file, prune_plan, static_conf, tail,
)
from launchpad_agent.state import write_atomic
from launchpad_agent.store import Hashing, safe_extract

class Host:
    def __init__(self, cfg: dict):
        self.cfg, self.app = cfg, cfg["app"]
        self.root = Path(f"/srv/{self.app}")
        self.state = Path(f"/var/lib/{self.app}")
        self.gid = grp.getgrnam(self.app).gr_gid

    def release_dir(self, rid: str) -> Path:
        return self.root / "releases" / rid

    def run(self, argv: list[str], stage: str, timeout: float = 600, **kw) -> str:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        if proc.returncode != 0:
            raise Failure(stage, f"{argv[0]} {' '.join(argv[1:3])}... exited {proc.returncode}", proc.returncode,
                          tail(proc.stdout + proc.stderr))
        return proc.stdout

    # -- fetch
    def extract(self, store, manifest: dict) -> Path:
        rid, sha = manifest["id"], manifest["artifact"]
        dest = self.release_dir(rid)
        if dest.is_dir():
            return dest
        tmp = dest.with_name(rid + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True, mode=0o750)
        digest = hashlib.sha256()
        with store.open(f"artifacts/{sha}.tar.gz") as raw:
            reader = Hashing(raw, digest)
            safe_extract(reader, tmp)
            while reader.read(1 << 20):  # the hash covers every byte, trailing padding too
                pass
        if digest.hexdigest() != sha:
            shutil.rmtree(tmp, ignore_errors=True)
            raise Failure("fetch", f"artifact {sha[:12]}: its bytes hash to {digest.hexdigest()[:12]}; corrupt or replaced")
        created = datetime.fromisoformat(manifest["created"].replace("Z", "+00:00")).timestamp()
        self.set_modes(tmp, manifest.get("static") or {}, created)
        tmp.rename(dest)
        return dest

    def set_modes(self, top: Path, static: dict[str, str], mtime: float) -> None:
        """root:<app>, folders 0750, files 0640 (0750 executables): the app reads, never writes.
        Static folders are also world-readable, their ancestors world-traversable (o+x, no
        listing): nginx (www-data) reads them without joining the app's group, which would
        also let it read the app's code and its state (SQLite). Static files are public
        anyway. mtime = release time, so nginx's ETag/Last-Modified change with the release."""
        public = {top / f.strip("/") for f in static.values()}
        for path in [top, *top.rglob("*")]:
            os.lchown(path, 0, self.gid)
            if path.is_symlink():
                continue
            os.utime(path, (mtime, mtime))
            in_static = any(path == s or s in path.parents for s in public)
            if path.is_dir():
                mode = 0o755 if in_static else (0o751 if any(path in s.parents for s in public) else 0o750)
            else:
                mode = (0o644 if in_static else 0o640) | (0o110 if path.stat().st_mode & 0o100 else 0)
            os.chmod(path, mode)

    # -- install
    def venv(self, manifest: dict, rel: Path) -> Path:
        """The release's venv, built by the unprivileged builder (build.py)."""
        from launchpad_agent import build  # noqa: PLC0415 (only a release pass builds)
        return build.venv(self.cfg, self.root, self.gid, manifest, rel)

    def link_state(self, rel: Path, manifest: dict, venv: Path) -> None:
        """<release>/instance and each writable folder -> /var/lib/<app>/..., app-owned;
        what the artifact ships there seeds the state folder the first time."""
        uid = _uid(self.app)
        self.state.mkdir(mode=0o750, exist_ok=True)
        os.chown(self.state, uid, self.gid)
        for folder in ["instance", *(w.strip("/") for w in manifest.get("writable") or [])]:
            inside, target = rel / folder, self.state / folder
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                if inside.is_dir() and not inside.is_symlink():
                    shutil.copytree(inside, target, symlinks=True)
                else:
                    target.mkdir()
                for p in [target, *target.rglob("*")]:
                    os.lchown(p, uid, self.gid)
                    if not p.is_symlink():
                        os.chmod(p, 0o750 if p.is_dir() else 0o640)
            if inside.is_symlink() or inside.is_file():
                inside.unlink()
            elif inside.is_dir():
                shutil.rmtree(inside)
            inside.parent.mkdir(parents=True, exist_ok=True)
            inside.symlink_to(target)
        link = rel / VENV_LINK
        if not (link.is_symlink() and Path(os.readlink(link)) == venv):
            link.unlink(missing_ok=True)
            link.symlink_to(venv)

    def env_file(self, manifest: dict, secrets: list[tuple[str, str]], path: Path | None = None) -> Path:
        """The release's env file, at `path` (release.py: one per attempt) or ENV_DIR/<id>.env."""
        rid = manifest["id"]
        pairs = sorted((manifest.get("env") or {}).items()) + secrets
        pairs += parse_env_file(APP_ENV.read_text()) if APP_ENV.is_file() else []
        pairs += [("LAUNCHPAD_RELEASE", rid), ("LAUNCHPAD_STATE_DIR", str(self.state)),
                  ("LAUNCHPAD_MODULE", manifest["module"].strip())]
        pairs += [(f"LAUNCHPAD_{k.upper()}", str(manifest[k])) for k in ("workers", "threads") if manifest.get(k)]
        try:
            text = env_file_text(pairs, f"Release {rid} of {self.app}, written by launchpad-agent; root only.")
        except ValueError as err:
            raise Failure("fetch", f"env: {err}") from None
        return write_atomic(path or ENV_DIR / f"{rid}.env", text.encode(), 0o600)

    # -- release / run
    def sandboxed(self, rel: Path, env_file: Path, argv: list[str], pipe: bool = True) -> list[str]:
        """systemd-run argv for argv in the app's own sandbox (the block marked in <app>@.service)."""
        props = sandbox_properties(Path(f"/etc/systemd/system/{self.app}@.service"))
        venv = os.readlink(rel / VENV_LINK)
        path = f"{venv}/bin:/usr/local/bin:/usr/bin:/bin"
        # systemd-run looks a bare name up in its own PATH, not the one given with --setenv:
        # `launchpad run -- flask db upgrade` must find the venv's flask.
        exe = argv[0] if "/" in argv[0] else (shutil.which(argv[0], path=path) or argv[0])
        return ["systemd-run", "--quiet", "--wait", "--collect", "--pipe" if pipe else "--pty",
                "--service-type=exec", f"--uid={self.app}", f"--gid={self.app}",
                f"--working-directory={rel}", f"--property=EnvironmentFile={env_file}",
                f"--property=StateDirectory={self.app}", f"--property=RuntimeMaxSec={RELEASE_TIMEOUT_S}",
                f"--setenv=PATH={path}", "--setenv=PYTHONDONTWRITEBYTECODE=1",
                *(f"--property={p}" for p in props), "--", exe, *argv[1:]]

    # -- slots and nginx
    def start_slot(self, slot: str, rel: Path, env_file: Path) -> None:
        link_atomic(self.root / "slots" / slot, rel)
        link_atomic(SLOT_ENV_DIR / f"{slot}.env", env_file)
        units = [f"{self.app}@{slot}.socket", f"{self.app}@{slot}.service"]
        self.run(["systemctl", "stop", *units[::-1]], "boot")
        proc = subprocess.run(["systemctl", "start", *units], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise Failure("boot", f"{units[1]} did not start", proc.returncode, self.journal(slot))

    def journal(self, slot: str) -> str:
        proc = subprocess.run(["journalctl", "-u", f"{self.app}@{slot}.service", "-n", str(TAIL_LINES), "-o", "cat",
                               "--no-pager"], capture_output=True, text=True)
        return tail(proc.stdout)

    def health(self, slot: str, path: str | None) -> None:
        deadline, last = time.monotonic() + HEALTH_TIMEOUT_S, "no answer"
        while time.monotonic() < deadline:
            try:
                status = unix_get(f"/run/{self.app}-{slot}.sock", path or "/", self.cfg.get("health_host") or "localhost",
                                  min(5.0, max(0.5, deadline - time.monotonic())))
                if healthy(status, path):
                    return
                last = f"GET {path or '/'} answered {status}"
            except OSError as err:
                last = f"GET {path or '/'}: {err}"
            state = subprocess.run(["systemctl", "show", "-P", "NRestarts", f"{self.app}@{slot}.service"],
                                   capture_output=True, text=True).stdout.strip()
            if state not in ("", "0"):
                raise Failure("boot", f"{self.app}@{slot} crashed while starting ({last})", None, self.journal(slot))
            time.sleep(0.25)
        raise Failure("health", f"{self.app}@{slot} not healthy in {HEALTH_TIMEOUT_S:.0f} s: {last}", None, self.journal(slot))

    def switch(self, slot: str, manifest: dict, rel: Path) -> None:
        try:  # static_conf checks every value again: nothing unsafe is ever written into nginx config
            files = {NGINX_DIR / f"{self.app}-live.conf": live_conf(self.app, slot, manifest["id"]),
                     NGINX_DIR / f"{self.app}-static.conf": static_conf(self.app, str(rel), manifest.get("static") or {})}
        except ValueError as err:
            raise Failure("switch", f"static map refused: {err}") from None
        old = {p: p.read_bytes() if p.exists() else None for p in files}
        for p, text in files.items():
            write_atomic(p, text.encode(), 0o644)
        # Tested first for a readable refusal; the nginx.service drop-in tests again on reload.
        test = subprocess.run(["nginx", "-t", "-q"], capture_output=True, text=True, timeout=60)
        before = set(nginx_workers())
        proc = test if test.returncode != 0 else subprocess.run(["systemctl", "reload", "nginx.service"],
                                                                capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            for p, data in old.items():
                if data is None:
                    p.unlink(missing_ok=True)
                else:
                    write_atomic(p, data, 0o644)
            raise Failure("switch", "nginx refused the new config; the old one is back", proc.returncode, tail(proc.stdout + proc.stderr))
        deadline, seen = time.monotonic() + VERIFY_TIMEOUT_S, None
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=3)
                conn.request("GET", manifest.get("health_path") or "/", headers={"Host": self.cfg.get("health_host") or "localhost"})
                seen = conn.getresponse().getheader("X-Launchpad-Release")
                conn.close()
                if seen == manifest["id"]:
                    wait_signalled(before)
                    return
            except OSError as err:
                seen = str(err)
            time.sleep(0.1)
        raise Failure("switch", f"nginx does not serve release {manifest['id']} after the reload (saw {seen!r})")

    def retire(self, slot: str, live: str) -> int:
        """Once no nginx worker from before the reload can still send the slot a request, park it
        with one worker (standby.py: a rollback to it is then a switch) or stop it; the workers let
        go finish their in-flight requests (TERM; TimeoutStopSec covers graceful_timeout).
        `live` is the release now live. Returns the workers the parked slot had (0: stopped)."""
        deadline = time.monotonic() + 70
        while time.monotonic() < deadline and old_nginx_workers():
            time.sleep(0.1)
        return standby.park(self.app, slot, live)

    def prune(self, status: dict, keep: int) -> dict:
        releases = self.root / "releases"
        on_disk = {p.name for p in releases.iterdir() if p.is_dir()} if releases.is_dir() else set()
        gone = prune_plan(status, on_disk, keep)
        for rid in gone:
            shutil.rmtree(releases / rid, ignore_errors=True)
            if not ID_RE.fullmatch(rid.removesuffix(".tmp")) or (ENV_DIR / f"{rid}.env").exists():
                (ENV_DIR / f"{rid}.env").unlink(missing_ok=True)
        used = {os.path.basename(os.readlink(p / VENV_LINK)) for p in releases.iterdir() if (p / VENV_LINK).is_symlink()}
        for venv in (self.root / "venvs").iterdir() if (self.root / "venvs").is_dir() else []:
            if venv.name not in used:
                shutil.rmtree(venv, ignore_errors=True)
        for h in status.get("history", []):
            if h["id"] in gone and h["status"] == "previous":
                h["status"] = "removed"
        return status



def sandbox_properties(unit: Path) -> list[str]:
    """The Key=Value lines between `# sandbox: begin` and `# sandbox: end` in the app's unit."""
    text = unit.read_text() if unit.is_file() else ""
    block = text.split("# sandbox: begin", 1)[-1].split("# sandbox: end", 1)[0] if "# sandbox: begin" in text else ""
    return [ln.strip() for ln in block.splitlines() if "=" in ln and not ln.strip().startswith("#")]


def unix_get(sock_path: str, path: str, host: str, timeout: float) -> int:
    class Conn(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(sock_path)
    conn = Conn("localhost", timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host, "X-Forwarded-For": "127.0.0.1", "User-Agent": "launchpad-agent"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def nginx_workers() -> dict[int, bytes]:
    """pid -> title of every nginx worker."""
    out = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes()
        except OSError:
            continue
        if title.startswith(b"nginx: worker process"):
            out[int(cmdline.parent.name)] = title
    return out


def wait_signalled(before: set[int], timeout: float = 5.0) -> None:
    """Until every worker from before the reload has exited or is shutting down (closed its
    listening sockets). nginx's master starts the new workers and only ~100 ms later tells the
    old ones to quit; until then an old worker still accepts and proxies to the old slot, which
    must not be stopped yet (a new worker serving the new release proves nothing about them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = nginx_workers()
        if not any(pid in now and b"shutting down" not in now[pid] for pid in before):
            return
        time.sleep(0.02)


def old_nginx_workers() -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"worker process is shutting down" in cmdline.read_bytes():
                return True
        except OSError:
            continue
    return False




def link_atomic(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.new")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def _uid(user: str) -> int:
    import pwd  # noqa: PLC0415
    return pwd.getpwnam(user).pw_uid
