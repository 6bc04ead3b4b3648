"""The rendered host files, checked by the real tools: cloud-init, nginx, gixy-ng, systemd."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from nginx_unprivileged import Unprivileged

from launchpad.render import bootstrap
from launchpad.render.bootstrap import render, render_nginx_http, render_nginx_site
from launchpad.settings import ConfigError, Settings, validate

VARIANTS: dict[str, dict] = {
    "local-plain": {},
    "local-domain": {"launchpad:domain": "rocket.test"},
    "do-ssh": {"launchpad:provider": "digitalocean", "launchpad:adminCidrs": ["203.0.113.7/32"],
               "launchpad:sshKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 ops@laptop"]},
    "aws-tls-db": {"launchpad:provider": "aws", "launchpad:domain": "example.com", "launchpad:email": "ops@example.com",
                   "launchpad:database": {"enabled": True, "version": "16"}, "launchpad:production": True},
}


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} is not installed: .ci/run installs it (apt-get install {tool})")
    return path


@pytest.fixture(params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> tuple[str, Settings]:
    return request.param, validate(VARIANTS[request.param], "test")


def test_user_data_passes_cloud_init_schema(variant, tmp_path: Path) -> None:
    name, settings = variant
    path = tmp_path / "user-data"
    path.write_text(bootstrap.render_user_data(settings))
    out = subprocess.run([need("cloud-init"), "schema", "-c", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Valid cloud-config" in out.stdout


def test_cloud_init_schema_catches_a_broken_config(tmp_path: Path) -> None:
    """The check above can fail: a wrongly typed module key is refused."""
    text = render(validate({}, "test")).user_data.replace("ssh_pwauth: false", "ssh_pwauth: [1, 2]")
    path = tmp_path / "user-data"
    path.write_text(text)
    out = subprocess.run([need("cloud-init"), "schema", "-c", str(path)], capture_output=True, text=True)
    assert out.returncode != 0


def test_user_data_starts_with_cloud_config_and_only_known_top_level_keys(variant) -> None:
    # cloud-init schema ignores unknown top-level keys (field notes), so check them here.
    _, settings = variant
    text = bootstrap.render_user_data(settings)
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    schema = json.loads(Path("/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json").read_text()) \
        if Path("/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json").is_file() else None
    known = {"package_update", "apt", "packages", "ssh_pwauth", "disable_root", "users", "write_files", "runcmd"}
    assert set(doc) <= known
    if schema is not None:
        props: set[str] = set()
        for part in schema["allOf"]:
            ref = part["$ref"].split("/")[-1]
            props |= set(schema["$defs"][ref].get("properties", {}))
        assert set(doc) <= props


def launchpad_includes(tmp_path: Path, app: str = "rocket", live: str | None = None, static: str | None = None,
                       tls: bool = False) -> Path:
    """The files nginx includes from /etc/nginx/launchpad/ (release_host.py renders them;
    the agent rewrites live and static), in a scratch folder."""
    from launchpad.render.release_host import NGINX_DIR, release_host_files

    folder = tmp_path / "launchpad"
    folder.mkdir(exist_ok=True)
    for f in release_host_files(app, bootstrap.default_agent(validate({}, "test")), tls=tls):
        if f.path.startswith(NGINX_DIR):
            (folder / Path(f.path).name).write_text(f.content)
    if live is not None:
        (folder / f"{app}-live.conf").write_text(live)
    if static is not None:
        (folder / f"{app}-static.conf").write_text(static)
    return folder


def nginx_test(tmp_path: Path, http_conf: str, site: str, includes: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the rendered nginx.conf as the host has it, its includes pointed at the rendered files."""
    folder = includes or launchpad_includes(tmp_path, tls="listen 443" in site)
    unprivileged = Unprivileged(tmp_path)  # a non-root run (hosted CI): high ports, scratch logs
    (tmp_path / "http.conf").write_text(unprivileged.conf(http_conf.replace("/etc/nginx/launchpad/", f"{folder}/")))
    (tmp_path / "site.conf").write_text(unprivileged.conf(site.replace("/etc/nginx/launchpad/", f"{folder}/")))
    main = bootstrap.render_template("nginx.conf.j2")
    for line in ("include /etc/nginx/conf.d/*.conf;", "include /etc/nginx/sites-enabled/*;", "pid /run/nginx.pid;",
                 "error_log /var/log/nginx/error.log;"):
        assert line in main, line
    conf = (main.replace("include /etc/nginx/conf.d/*.conf;", f"include {tmp_path}/http.conf;")
            .replace("include /etc/nginx/sites-enabled/*;", f"include {tmp_path}/site.conf;")
            .replace("pid /run/nginx.pid;", f"pid {tmp_path}/nginx.pid;")
            .replace("error_log /var/log/nginx/error.log;", "error_log stderr;")
            .replace("access_log /var/log/nginx/access.log;", "access_log off;"))
    (tmp_path / "nginx.conf").write_text(unprivileged.conf(conf))
    return subprocess.run([need("nginx"), "-t", "-q", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                          capture_output=True, text=True)


def test_launchpad_owns_nginx_conf_because_debians_enables_old_tls(tmp_path: Path) -> None:
    """Debian's default nginx.conf sets TLSv1/1.1 for every server; gixy flags it, so Launchpad renders its own."""
    debian = Path("/etc/nginx/nginx.conf").read_text()
    assert "TLSv1.1" in debian and "ssl_protocols" not in bootstrap.render_template("nginx.conf.j2")
    user_data = yaml.safe_load(render(validate({}, "test")).user_data)
    assert "/etc/nginx/nginx.conf" in [f["path"] for f in user_data["write_files"]]


def self_signed(tmp_path: Path) -> str:
    subprocess.run([need("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=example.com",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   check=True, capture_output=True)
    return str(tmp_path)


def site_variants(settings: Settings, tmp_path: Path) -> dict[str, str]:
    sites = {"initial": render_nginx_site(settings)}
    if settings.tls:
        sites["with-certificate"] = render_nginx_site(settings, cert_ready=True, cert_dir=self_signed(tmp_path))
    return sites


def test_nginx_site_passes_nginx_t(variant, tmp_path: Path) -> None:
    _, settings = variant
    for state, site in site_variants(settings, tmp_path).items():
        out = nginx_test(tmp_path, render_nginx_http(settings), site)
        assert out.returncode == 0, f"{state}: {out.stderr}"


def test_nginx_t_catches_a_broken_site(tmp_path: Path) -> None:
    settings = validate({}, "test")
    out = nginx_test(tmp_path, render_nginx_http(settings), render_nginx_site(settings).replace("proxy_pass", "proxy_pas"))
    assert out.returncode != 0 and "proxy_pas" in out.stderr


def gixy(tmp_path: Path, http_conf: str, site: str) -> list[dict]:
    nginx_test(tmp_path, http_conf, site)
    gixy_bin = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "gixy"
    exe = str(gixy_bin) if gixy_bin.exists() else need("gixy")
    out = subprocess.run([exe, "-ll", "-f", "json", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    return json.loads(out.stdout or "[]")


def test_gixy_finds_nothing_medium_or_higher(variant, tmp_path: Path) -> None:
    _, settings = variant
    for state, site in site_variants(settings, tmp_path).items():
        findings = gixy(tmp_path, render_nginx_http(settings), site)
        assert findings == [], f"{state}: " + "; ".join(f"{f.get('plugin')}: {f.get('summary')}" for f in findings)


def test_gixy_catches_host_spoofing(tmp_path: Path) -> None:
    """Gunicorn's sample config forwards $http_host; gixy flags that (field notes)."""
    settings = validate({}, "test")
    site = render_nginx_site(settings).replace("proxy_set_header Host $host;", "proxy_set_header Host $http_host;")
    assert any(f.get("plugin") == "host_spoofing" for f in gixy(tmp_path, render_nginx_http(settings), site))


def unit_root(tmp_path: Path, settings: Settings, service: str, socket: str) -> Path:
    """A scratch root holding the system's units and the binaries the unit names."""
    root = tmp_path / "root"
    app = settings.app.unix_name
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "usr/bin").mkdir(parents=True)
    shutil.copy("/usr/bin/kill", root / "usr/bin/kill")
    (root / "bin").symlink_to("usr/bin")
    for slot in ("a", "b"):
        gunicorn = root / f"srv/{app}/slots/{slot}/.launchpad-venv/bin/gunicorn"
        gunicorn.parent.mkdir(parents=True)
        gunicorn.write_text("#!/bin/sh\n")
        gunicorn.chmod(0o755)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    (units / f"{app}@.service").write_text(service)
    (units / f"{app}@.socket").write_text(socket)
    return root


def verify(root: Path, app: str) -> subprocess.CompletedProcess[str]:
    """Both slots' instances of the templated units."""
    return subprocess.run([need("systemd-analyze"), "verify", "--man=no", f"--root={root}", f"{app}@a.service", f"{app}@a.socket",
                           f"{app}@b.service"], capture_output=True, text=True)


def test_units_pass_systemd_analyze_verify(variant, tmp_path: Path) -> None:
    _, settings = variant
    r = render(settings)
    out = verify(unit_root(tmp_path, settings, r.app_service, r.app_socket), settings.app.unix_name)
    # verify exits 0 on mere warnings, so any output at all is a failure.
    assert out.returncode == 0 and out.stdout + out.stderr == "", out.stdout + out.stderr


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    settings = validate({}, "test")
    r = render(settings)
    out = verify(unit_root(tmp_path, settings, r.app_service.replace("KillMode=mixed", "KillMode=mixd"), r.app_socket), "rocket")
    assert "mixd" in out.stderr


def security_exposure(path: Path) -> float:
    out = subprocess.run([need("systemd-analyze"), "security", "--offline=true", "--no-pager", str(path)],
                         capture_output=True, text=True)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out.stdout + out.stderr)
    assert match, out.stdout + out.stderr
    return float(match.group(1))


def test_gunicorn_unit_is_sandboxed(tmp_path: Path) -> None:
    settings = validate({}, "test")
    path = tmp_path / "rocket@a.service"
    path.write_text(render(settings).app_service)
    score = security_exposure(path)
    print(f"systemd-analyze security exposure: {score}")
    assert score <= 2.0


def test_security_score_would_catch_an_unsandboxed_unit(tmp_path: Path) -> None:
    text = render(validate({}, "test")).app_service
    bare = "\n".join(line for line in text.splitlines() if not re.match(r"^(Protect|Private|Restrict|NoNew|System|Capability|Memory|Lock|Proc|Device|Ambient|Remove|UMask)", line))
    path = tmp_path / "rocket@a.service"
    path.write_text(bare)
    assert security_exposure(path) > 2.0


def test_gunicorn_listens_only_where_nginx_can_reach_it() -> None:
    r = render(validate({}, "test"))
    assert "ListenStream=/run/rocket-%i.sock" in r.app_socket
    assert "SocketMode=0600" in r.app_socket and "SocketUser=www-data" in r.app_socket
    namespace: dict = {}
    exec(compile(r.gunicorn_conf, "gunicorn.conf.py", "exec"), namespace)  # noqa: S102 - our own rendered config
    assert namespace["bind"] in (["unix:/run/rocket-a.sock"], ["unix:/run/rocket-b.sock"])
    assert namespace["workers"] >= 2
    assert namespace["graceful_timeout"] <= int(re.search(r"TimeoutStopSec=(\d+)", r.app_service).group(1))  # type: ignore[union-attr]
    assert "ExecReload=/bin/kill -s HUP $MAINPID" in r.app_service
    assert "Restart=on-failure" in r.app_service


def test_site_sets_proxy_headers_and_www_redirect() -> None:
    site = render_nginx_site(validate({"launchpad:domain": "rocket.test"}, "test"))
    for header in ("Host $host", "X-Real-IP $remote_addr", "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme"):
        assert f"proxy_set_header {header};" in site
    assert re.search(r"server_name www\.rocket\.test;\s+return 301 http://rocket\.test\$request_uri;", site)
    assert "return 444;" in site


def test_tls_site_redirects_www_in_one_hop_on_both_schemes(tmp_path: Path) -> None:
    settings = validate({"launchpad:provider": "aws", "launchpad:domain": "example.com", "launchpad:email": "ops@example.com"}, "t")
    site = render_nginx_site(settings, cert_ready=True, cert_dir="/x")
    # Port 80 sends both names straight to the HTTPS apex; 443 www goes to the apex.
    assert "server_name example.com www.example.com;" in site
    assert site.count("return 301 https://example.com$request_uri;") == 2
    assert site.count("include /etc/nginx/launchpad/rocket-headers.conf;") == 2  # both HTTPS servers
    headers = bootstrap.render_template("nginx-headers.conf.j2", app="rocket", tls=True)
    assert 'Strict-Transport-Security "max-age=63072000" always' in headers
    assert "add_header X-Launchpad-Release $launchpad_release always;" in headers
    assert "ssl_reject_handshake on;" in site
    # Every TLS server, the catch-all included, allows TLS 1.2 and 1.3 only.
    assert site.count("ssl_protocols TLSv1.2 TLSv1.3;") == site.count("listen 443 ssl") == 3


def test_no_domain_no_tls() -> None:
    r = render(validate({}, "test"))
    assert "443" not in r.nginx_site and "certbot" not in r.user_data and "ssl_" not in r.nginx_http


def test_no_app_in_user_data_and_renders_deterministically() -> None:
    """The app ships as a release from the store; user-data carries only the host."""
    settings = validate({}, "test")
    text = render(settings).user_data
    assert "app.tar.gz" not in text and "proxy_fix" not in text
    assert "/usr/local/sbin/launchpad-agent" in text and "[/usr/local/sbin/launchpad-bootstrap]" in text
    assert text == render(settings).user_data


SECRET_PATTERNS = [
    r"postgres(ql)?://[^:/\s]+:[^@\s{]+@",          # a URL with a password in it
    r"PGPASSWORD",
    r"-----BEGIN [A-Z ]*PRIVATE KEY",
    r"(?i)password\s*[=:]\s*['\"][^'\"]+['\"]",      # a quoted literal password
    r"(?im)^\s*\w*(PASSWORD|SECRET|TOKEN)=\S+",       # env-file style
]


def test_no_secret_in_user_data() -> None:
    text = bootstrap.render_user_data(validate(VARIANTS["aws-tls-db"], "test"))
    for pattern in SECRET_PATTERNS:
        assert not re.search(pattern, text), pattern
    # The release agent reads the password on the host, from the secret agent.json names, through the instance role.
    assert "<rds-master-secret-arn>" in text and "get_secret_value" not in text


def test_secret_scan_would_catch_a_leak() -> None:
    for leaked in ("DATABASE_URL=postgresql://app:hunter2@db:5432/app", "DB_PASSWORD=hunter2", "password: 'hunter2'"):
        assert any(re.search(p, leaked) for p in SECRET_PATTERNS), leaked


def test_renderer_refuses_user_data_over_the_limit_even_if_validation_was_bypassed(tmp_path: Path) -> None:
    """No app rides in user-data any more; the renderer still checks the real total as a backstop."""
    import os

    keys = [f"ssh-ed25519 {base64.b64encode(os.urandom(600)).decode()} k{i}" for i in range(20)]
    settings = validate({"launchpad:provider": "aws"}, "test").model_copy(update={"ssh_keys": keys})
    with pytest.raises(ConfigError) as err:
        bootstrap.render_user_data(settings)
    assert "EC2's 16 KiB user-data limit (after gzip) (16384)" in str(err.value)
