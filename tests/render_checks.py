"""Run the real validators over rendered host trees, many trees per tool call where the tool allows.

Used by the hostile-case table (tests/test_hostile_cases.py) and the property tests
(tests/test_hostile_properties.py): a tree either passes every tool that reads it, or the
test names the file and what the tool said.

    cloud-init schema   user-data (one system-python process validates every tree)
    nginx -t            nginx.conf + http conf + each site variant
    systemd-analyze     every unit file, in a scratch root that has the binaries they name
    nft -c -f           the host firewall, in a scratch network namespace (never loaded)
    sh -n / compile     every shell script / Python file the tree writes
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nginx_unprivileged import Unprivileged

CLOUD_INIT_BATCH = r"""
import json, sys, yaml
from cloudinit.config.schema import SchemaValidationError, get_schema, validate_cloudconfig_schema
schema = get_schema()
out = []
for path in json.load(sys.stdin):
    text = open(path, encoding="utf-8").read()
    if not text.startswith("#cloud-config\n"):
        out.append("does not start with #cloud-config"); continue
    try:
        validate_cloudconfig_schema(yaml.safe_load(text), schema=schema, strict=True)
        out.append("")
    except SchemaValidationError as err:
        out.append(str(err))
    except Exception as err:
        out.append(f"{type(err).__name__}: {err}")
print(json.dumps(out))
"""


@dataclass
class Tree:
    """One rendered host: user-data plus every file it writes, by path on the host."""

    label: str
    user_data: str
    files: dict[str, str]
    modes: dict[str, str] = field(default_factory=dict)
    sites: list[str] = field(default_factory=list)
    """Extra nginx site variants (e.g. the TLS site before/after the certificate)."""


def tree_of(label: str, settings) -> Tree:  # type: ignore[no-untyped-def]
    from launchpad.render import bootstrap

    files = bootstrap.host_files(settings)
    user_data = bootstrap.render(settings).user_data
    by_path = {f.path: f.content for f in files if not f.b64}
    sites = [c for p, c in by_path.items() if p.startswith("/etc/nginx/sites-available/")]
    return Tree(label, user_data, by_path, {f.path: f.mode for f in files}, sites)


def cloud_init_schema(trees: list[Tree]) -> dict[str, str]:
    """label -> error ('' when valid), one process for all trees."""
    if not trees:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, tree in enumerate(trees):
            path = Path(tmp) / f"{i}.yaml"
            path.write_text(tree.user_data, encoding="utf-8")
            paths.append(str(path))
        out = subprocess.run(["/usr/bin/python3", "-c", CLOUD_INIT_BATCH], input=json.dumps(paths),
                             capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return dict(zip((t.label for t in trees), json.loads(out.stdout)))


def _self_signed(tmp: Path) -> Path:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=example.com", "-keyout", str(tmp / "privkey.pem"),
                    "-out", str(tmp / "fullchain.pem")], check=True, capture_output=True)
    return tmp


def nginx_t(tree: Tree) -> list[str]:
    main = tree.files["/etc/nginx/nginx.conf"]
    http = tree.files["/etc/nginx/conf.d/launchpad.conf"]
    problems = []
    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        unprivileged = Unprivileged(tmp)  # a non-root run: high ports, scratch logs
        certs = _self_signed(tmp)
        # Snippets the confs include from /etc/nginx/launchpad/ (the agent's live files start as
        # copies of initial/): written into the scratch dir, the include paths pointed there.
        snippets = tmp / "launchpad"
        snippets.mkdir()
        for path, text in sorted(tree.files.items(), key=lambda item: "/initial/" not in item[0]):
            if path.startswith("/etc/nginx/launchpad/"):
                (snippets / Path(path).name).write_text(text.replace("/etc/nginx/launchpad/", f"{snippets}/"), encoding="utf-8")
        http = http.replace("/etc/nginx/launchpad/", f"{snippets}/")
        (tmp / "http.conf").write_text(unprivileged.conf(http), encoding="utf-8")
        for i, site in enumerate(tree.sites):
            # Certificates live under /etc/launchpad/tls on the host; point them at a scratch pair.
            site = (site.replace("/etc/letsencrypt/live/", f"{certs}/live/").replace("/etc/launchpad/tls/", f"{certs}/live/")
                    .replace("/etc/nginx/launchpad/", f"{snippets}/"))
            for line in site.splitlines():
                if "ssl_certificate" in line:
                    cert_dir = Path(line.split()[1].strip('";').rsplit("/", 1)[0])
                    cert_dir.mkdir(parents=True, exist_ok=True)
                    for name in ("fullchain.pem", "privkey.pem"):
                        if not (cert_dir / name).exists():
                            shutil.copy(certs / name, cert_dir / name)
            (tmp / f"site{i}.conf").write_text(unprivileged.conf(site), encoding="utf-8")
            conf = (main.replace("include /etc/nginx/conf.d/*.conf;", f"include {tmp}/http.conf;")
                    .replace("include /etc/nginx/sites-enabled/*;", f"include {tmp}/site{i}.conf;")
                    .replace("pid /run/nginx.pid;", f"pid {tmp}/nginx.pid;")
                    .replace("error_log /var/log/nginx/error.log;", "error_log stderr;")
                    .replace("access_log /var/log/nginx/access.log;", "access_log off;"))
            (tmp / "nginx.conf").write_text(unprivileged.conf(conf), encoding="utf-8")
            out = subprocess.run(["nginx", "-t", "-q", "-c", str(tmp / "nginx.conf"), "-p", str(tmp)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                problems.append(f"nginx -t (site {i}): {out.stderr.strip()}")
    return problems


def _units(tree: Tree) -> dict[str, str]:
    return {Path(p).name: c for p, c in tree.files.items()
            if p.startswith("/etc/systemd/system/") and p.endswith((".service", ".socket", ".timer"))}


def systemd_verify(tree: Tree) -> list[str]:
    """systemd-analyze verify over every unit the tree writes, in a root that has what they name."""
    units = _units(tree)
    if not units:
        return []
    with tempfile.TemporaryDirectory() as tmp_text:
        root = Path(tmp_text)
        shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
        (root / "usr/bin").mkdir(parents=True)
        (root / "usr/sbin").mkdir(parents=True)
        (root / "bin").symlink_to("usr/bin")
        (root / "sbin").symlink_to("usr/sbin")
        for tool in ("kill", "true"):
            shutil.copy(f"/usr/bin/{tool}", root / "usr/bin" / tool)
        for path in [line.split("=", 1)[1].lstrip("-@:+!").split()[0]
                     for text in units.values() for line in text.splitlines()
                     if line.startswith(("ExecStart=", "ExecReload=", "ExecStartPre=", "ExecStop="))
                     and "=" in line and line.split("=", 1)[1].strip()]:
            # A template unit is verified as an instance (systemd-analyze names it <unit>@i).
            target = root / path.replace("%i", "i").lstrip("/")
            if path.startswith("/") and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("#!/bin/sh\n")
                target.chmod(0o755)
        unit_dir = root / "etc/systemd/system"
        unit_dir.mkdir(parents=True)
        for name, text in units.items():
            (unit_dir / name).write_text(text, encoding="utf-8")
        out = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", *sorted(units)],
                             capture_output=True)
    text = (out.stdout + out.stderr).decode("utf-8", "replace").strip()
    return [f"systemd-analyze verify: {text}"] if out.returncode != 0 or text else []


def nft_check(tree: Tree) -> list[str]:
    rules = tree.files.get("/etc/nftables.conf")
    if rules is None:
        return []
    out = subprocess.run(["unshare", "-n", "nft", "-c", "-f", "-"], input=rules, capture_output=True, text=True)
    return [f"nft -c: {out.stderr.strip()}"] if out.returncode != 0 else []


def scripts_parse(tree: Tree) -> list[str]:
    problems = []
    for path, text in tree.files.items():
        first = text.split("\n", 1)[0]
        if first.startswith("#!/bin/sh") or first.startswith("#!/bin/bash"):
            out = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True)
            if out.returncode != 0:
                problems.append(f"sh -n {path}: {out.stderr.strip()}")
        elif first.startswith("#!/usr/bin/python3") or path.endswith(".py"):
            try:
                compile(text, path, "exec")
            except SyntaxError as err:
                problems.append(f"python {path}: {err}")
    return problems


def yaml_round_trip(tree: Tree) -> list[str]:
    """Every file the user-data writes arrives byte for byte (what cloud-init will write)."""
    doc = yaml.safe_load(tree.user_data)
    written = {f["path"]: f["content"] for f in doc.get("write_files", []) if f.get("encoding") != "b64"}
    return [f"user-data carries {path} altered" for path, text in tree.files.items() if written.get(path) != text]


def validate_trees(trees: Iterable[Tree]) -> dict[str, list[str]]:
    """label -> problems found by every validator (empty when the tree is good)."""
    trees = list(trees)
    schema = cloud_init_schema(trees)
    results: dict[str, list[str]] = {}
    for tree in trees:
        problems = [f"cloud-init schema: {schema[tree.label]}"] if schema[tree.label] else []
        problems += yaml_round_trip(tree)
        problems += nginx_t(tree)
        problems += systemd_verify(tree)
        problems += nft_check(tree)
        problems += scripts_parse(tree)
        results[tree.label] = problems
    return results


def can_validate() -> str | None:
    """Why the validators cannot run here, or None."""
    for tool in ("cloud-init", "nginx", "systemd-analyze", "nft", "unshare", "openssl"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if os.geteuid() != 0:
        return "nft -c in a scratch namespace needs root"
    return None
