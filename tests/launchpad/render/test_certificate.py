"""launchpad/render/certificate.py: the host's certificate step as rendered for each way of proving
the names (HTTP-01, Route 53 DNS-01, the test server's hook), checked as text, by `sh -n`, by
cloud-init's schema, and by running the rendered DNS hook against a local stand-in of
pebble-challtestsrv's management API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from launchpad.render import bootstrap, certificate
from launchpad.settings import validate

DOMAIN = "rocket.example.com"
AWS_TLS = {"launchpad:provider": "aws", "launchpad:domain": DOMAIN, "launchpad:email": "ops@example.com"}
LOCAL_DNS = {"launchpad:provider": "local", "launchpad:domain": "rocket.test", "launchpad:email": "ops@rocket.test",
             "launchpad:acmeServer": "https://10.213.0.1:14000/dir", "launchpad:dnsZone": "rocket.test",
             "launchpad:dnsChallengeServer": "http://127.0.0.1:{port}"}


def files(config: dict) -> dict[str, str]:
    return {f.path: f.content for f in bootstrap.host_files(validate(config, "t"))}


@pytest.mark.parametrize("config, challenge, flag, plugin", [
    (AWS_TLS, "http", "--webroot -w /var/www/letsencrypt", None),
    ({**AWS_TLS, "launchpad:dnsZone": "example.com"}, "route53", "--dns-route53", "python3-certbot-dns-route53"),
    ({**AWS_TLS, "launchpad:provider": "digitalocean", "launchpad:dnsZone": "example.com"}, "http", "--webroot", None),
    ({**AWS_TLS, "launchpad:provider": "digitalocean", "launchpad:dnsZone": "example.com", "launchpad:dnsToken": {"secure": "v1:x"}},
     "digitalocean", "--dns-digitalocean-credentials /run/launchpad-agent/digitalocean-dns.ini", "python3-certbot-dns-digitalocean"),
    ({**LOCAL_DNS, "launchpad:dnsChallengeServer": "http://10.213.0.1:8055"}, "hook",
     "--manual-auth-hook '/usr/local/sbin/launchpad-dns-challenge set'", None),
])
def test_the_challenge_each_stack_uses(config: dict, challenge: str, flag: str, plugin: str | None) -> None:
    settings = validate(config, "t")
    assert certificate.challenge(settings) == challenge
    script = files(config)["/usr/local/sbin/launchpad-certificate"]
    assert flag in script
    assert ("/usr/local/sbin/launchpad-dns-challenge" in files(config)) is (challenge == "hook")
    packages = certificate.packages(settings)
    assert packages[:2] == ["certbot", "openssl"] and (plugin in packages if plugin else len(packages) == 2)


def test_the_stored_certificate_comes_first_and_certbot_only_when_none_is_fresh() -> None:
    script = files(AWS_TLS)["/usr/local/sbin/launchpad-certificate"]
    sync = script.index("sync || rc=$?")
    assert sync < script.index("certbot certonly") < script.index("ln -sfn /etc/nginx/sites-available/rocket.tls")
    assert 'if [ "$rc" -eq 3 ]; then' in script and 'exit "$rc"' in script  # a store error never falls back to certbot
    assert "--keep-until-expiring" in script
    assert subprocess.run(["sh", "-n"], input=script, text=True).returncode == 0


def test_the_config_names_the_store_and_no_secret() -> None:
    out = files(AWS_TLS)
    config = json.loads(out["/etc/launchpad/certificate.json"])
    assert config == {"domain": DOMAIN, "names": [DOMAIN, f"www.{DOMAIN}"], "live": f"/etc/launchpad/tls/{DOMAIN}",
                      "lineage": f"/etc/letsencrypt/live/{DOMAIN}", "min_days": 30,
                      "store": {"kind": "aws-secretsmanager", "arn": "<t certificate secret>", "region": "us-east-1"}}
    assert "certificates" not in json.loads(out["/etc/launchpad/agent.json"])
    # nginx serves the installed copy; renewals go through the deploy hook (install, store, reload).
    assert f'ssl_certificate "/etc/launchpad/tls/{DOMAIN}/fullchain.pem";' in out["/etc/nginx/sites-available/rocket.tls"]
    assert "certificate sync" in out["/etc/letsencrypt/renewal-hooks/deploy/launchpad"]
    assert "Unit=launchpad-certificate.service" in out["/etc/systemd/system/launchpad-certificate-renew.timer"]


def test_a_stack_given_store_replaces_the_preview_one() -> None:
    settings = validate(AWS_TLS, "t")
    store = {"kind": "aws-secretsmanager", "arn": "arn:aws:secretsmanager:us-east-1:1:secret:c", "region": "us-east-1"}
    agent = {**bootstrap.default_agent(settings), "certificates": store}
    out = {f.path: f.content for f in bootstrap.host_files(settings, agent)}
    assert json.loads(out["/etc/launchpad/certificate.json"])["store"] == store
    assert "certificates" not in json.loads(out["/etc/launchpad/agent.json"])


@pytest.mark.skipif(shutil.which("cloud-init") is None, reason="needs cloud-init (apt-get install cloud-init)")
@pytest.mark.parametrize("config", [{**AWS_TLS, "launchpad:dnsZone": "example.com"},
                                    {**LOCAL_DNS, "launchpad:dnsChallengeServer": "http://10.213.0.1:8055"}])
def test_dns01_user_data_passes_cloud_init_schema(config: dict, tmp_path: Path) -> None:
    path = tmp_path / "user-data"
    path.write_text(bootstrap.render_user_data(validate(config, "t")))
    out = subprocess.run(["cloud-init", "schema", "-c", str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and "Valid cloud-config" in out.stdout, out.stdout + out.stderr
    assert yaml.safe_load(path.read_text())["packages"]


def test_the_rendered_dns_hook_sets_and_clears_the_txt_record(tmp_path: Path) -> None:
    calls: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            calls.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = {**LOCAL_DNS, "launchpad:dnsChallengeServer": f"http://127.0.0.1:{server.server_address[1]}"}
        hook = tmp_path / "hook"
        hook.write_text(files(config)["/usr/local/sbin/launchpad-dns-challenge"])
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(CERTBOT_DOMAIN="www.rocket.test", CERTBOT_VALIDATION="tok-123")
        for action in ("set", "clear"):
            done = subprocess.run(["python3", str(hook), action], env=env, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stderr
    finally:
        server.shutdown()
        server.server_close()
    assert calls == [("/set-txt", {"host": "_acme-challenge.www.rocket.test.", "value": "tok-123"}),
                     ("/clear-txt", {"host": "_acme-challenge.www.rocket.test."})]
