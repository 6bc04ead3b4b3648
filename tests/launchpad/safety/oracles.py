"""The real parsers, run on rendered text: what systemd, its env-file reader, nginx, nft and sh
make of a value. Each returns what the tool read, so a test compares it with what was meant.

systemd has no offline "print the parsed unit" for the system manager, but `systemd --test
--user` dumps every loaded unit (it refuses to run as root, so it runs as nobody). The
env-file reader is reached through ConditionOSRelease=, which reads /etc/os-release with the
same parser EnvironmentFile= uses (src/basic/env-file.c), in a private mount namespace.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from nginx_unprivileged import Unprivileged

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed")
    return path


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (setpriv, unshare, mount)")


def systemd_environment(lines: list[str]) -> list[str]:
    """The Environment= assignments systemd parses from a [Service] with `lines`, in order."""
    need_root()
    systemd = "/lib/systemd/systemd" if os.path.exists("/lib/systemd/systemd") else need("systemd")
    with tempfile.TemporaryDirectory() as tmp:
        units = Path(tmp) / "units"
        runtime = Path(tmp) / "run"
        units.mkdir()
        runtime.mkdir()
        body = "[Service]\nType=oneshot\nExecStart=/bin/true\n" + "".join(line + "\n" for line in lines)
        body += 'Environment="ZZEND=1"\n'
        (units / "probe.service").write_text(body, encoding="utf-8")
        for path in (Path(tmp), units, runtime):
            path.chmod(0o777)
        (units / "probe.service").chmod(0o644)
        out = subprocess.run([*NOBODY, "env", f"SYSTEMD_UNIT_PATH={units}:", f"XDG_RUNTIME_DIR={runtime}", f"HOME={tmp}",
                              systemd, "--test", "--user", "--unit=probe.service", "--no-pager", "--log-target=console"],
                             capture_output=True, timeout=60)
    text = out.stdout.decode("utf-8", "replace")
    start = text.index("-> Unit probe.service:")
    block = text[start:text.index("\n\t\tEnvironment: ZZEND=1", start)] + "\n\t\tEnvironment: "
    return [m.group(1) for m in re.finditer(r"\n\t\tEnvironment: (.*?)(?=\n\t\tEnvironment: )", block, re.S)]


def systemd_verify(unit_text: str, name: str = "probe.service") -> str:
    """`systemd-analyze verify` output for one unit (empty when it is clean)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(unit_text, encoding="utf-8")
        out = subprocess.run([need("systemd-analyze"), "verify", "--man=no", str(path)], capture_output=True, text=True)
    return (out.stdout + out.stderr).strip()


def envfile_reads(files: list[str], checks: list[list[str]]) -> list[list[bool]]:
    """For each env-file text, which `KEY=value` checks systemd's env-file parser confirms.

    Each check is a ConditionOSRelease= word (already quoted for the condition parser)."""
    need_root()
    analyze = need("systemd-analyze")
    results: list[list[bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = ["set -u"]
        for i, (text, conds) in enumerate(zip(files, checks)):
            (Path(tmp) / f"{i}.env").write_text(text, encoding="utf-8")
            script.append(f"mount --bind {tmp}/{i}.env /usr/lib/os-release")
            for j, cond in enumerate(conds):
                (Path(tmp) / f"{i}.{j}.cond").write_text(cond, encoding="utf-8")
                script.append(f'{analyze} condition "$(cat {tmp}/{i}.{j}.cond)" >/dev/null 2>&1 && echo "{i} {j} yes" || echo "{i} {j} no"')
            script.append("umount /usr/lib/os-release")
        out = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", "\n".join(script)],
                             capture_output=True, text=True, timeout=120)
    seen = dict(((int(a), int(b)), c == "yes") for a, b, c in (line.split() for line in out.stdout.splitlines()))
    for i, conds in enumerate(checks):
        results.append([seen[(i, j)] for j in range(len(conds))])
    return results


def condition_word(key: str, value: str) -> str:
    """A ConditionOSRelease= word asserting KEY=value (the condition parser unquotes, backslash
    makes the next character literal, % is a specifier)."""
    inner = f"{key}={value}".replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'ConditionOSRelease="{inner}"'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_returns(strings: list[str]) -> list[bytes]:
    """Serves `return 200 <string>;` per string on loopback; the bodies nginx sends back."""
    import urllib.request

    nginx = need("nginx")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        locations = "".join(f"        location = /v{i} {{ return 200 {s}; }}\n" for i, s in enumerate(strings))
        conf = (f"pid {tmp}/nginx.pid;\nerror_log stderr;\ndaemon off;\nevents {{}}\nhttp {{\n    access_log off;\n"
                f"    client_body_temp_path {tmp};\n    proxy_temp_path {tmp};\n    fastcgi_temp_path {tmp};\n"
                f"    uwsgi_temp_path {tmp};\n    scgi_temp_path {tmp};\n"
                f"    server {{\n        listen 127.0.0.1:{port};\n{locations}    }}\n}}\n")
        Path(tmp, "nginx.conf").write_text(conf, encoding="utf-8")
        proc = subprocess.Popen([nginx, "-c", f"{tmp}/nginx.conf", "-p", tmp], stderr=subprocess.PIPE)
        try:
            bodies = []
            deadline = time.monotonic() + 10
            for i in range(len(strings)):
                while True:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v{i}", timeout=5) as r:
                            bodies.append(r.read())
                        break
                    except OSError:
                        if time.monotonic() > deadline or proc.poll() is not None:
                            raise
                        time.sleep(0.05)
            return bodies
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def nginx_t(conf: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as tmp:
        conf = Unprivileged(Path(tmp)).conf(conf)  # a non-root run: high ports, scratch logs
        Path(tmp, "nginx.conf").write_text(f"pid {tmp}/nginx.pid;\nerror_log stderr;\n" + conf, encoding="utf-8")
        return subprocess.run([need("nginx"), "-t", "-q", "-c", f"{tmp}/nginx.conf", "-p", tmp], capture_output=True, text=True)


def nft_check(ruleset: str) -> subprocess.CompletedProcess[str]:
    """`nft -c -f` in a scratch network namespace: checked, never loaded into the host."""
    need_root()
    return subprocess.run(["unshare", "-n", need("nft"), "-c", "-f", "-"], input=ruleset, capture_output=True, text=True)


def sh_prints(words: list[str]) -> list[bytes]:
    """What `printf %s WORD` prints, per shell word, under dash (Debian's /bin/sh)."""
    script = "".join(f"printf '%s' {w}; printf '\\0\\1\\0'\n" for w in words)
    out = subprocess.run([need("dash") if shutil.which("dash") else need("sh"), "-c", script], capture_output=True, check=True)
    return out.stdout.split(b"\0\1\0")[:-1]
