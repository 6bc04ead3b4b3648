"""The local target end to end: real Debian 12, real cloud-init, the rendered stack, over the machine's address."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from facts import fact

from launchpad import wait
from launchpad.local import machine
from launchpad.local import release as local_release
from launchpad.local import stack as local_stack
from launchpad.settings import Settings

from machine_leftovers import leftovers

from .conftest import cli

pytestmark = pytest.mark.e2e


def get(address: str, path: str = "/", host: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(address, 80, timeout=10)
    try:
        conn.request("GET", path, headers={**({"Host": host} if host else {}), **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_readme_first_command_serves_hello_world_through_nginx(dev_stack: local_stack.StackStatus) -> None:
    assert dev_stack.state == "running" and dev_stack.url and dev_stack.address
    status, headers, body = get(dev_stack.address)
    assert (status, body) == (200, b"Hello World!")
    assert headers["server"] == "nginx"  # server_tokens off: no version


def test_status_json_names_url_address_state(dev_stack: local_stack.StackStatus) -> None:
    out = cli("local", "status", "--stack", "dev", "--json")
    data = json.loads(out.stdout)
    assert data["url"] == f"http://{dev_stack.address}/" and data["address"] == dev_stack.address and data["state"] == "running"


def test_gunicorn_is_not_reachable_from_the_host(dev_stack: local_stack.StackStatus) -> None:
    assert dev_stack.address
    for port in (8000, 8080, 5000):
        with pytest.raises(OSError):
            socket.create_connection((dev_stack.address, port), timeout=2).close()
    # Inside, gunicorn holds no TCP listener at all: only systemd's unix socket of the live slot.
    listeners = machine.run(local_stack.web_name("dev"), ["ss", "-Hltnp"]).stdout
    assert "gunicorn" not in listeners and ":8000" not in listeners
    slot = (local_release.host_status("dev") or {}).get("slot")
    assert slot in ("a", "b") and f"/run/rocket-{slot}.sock" in machine.run(local_stack.web_name("dev"), ["ss", "-Hlxp"]).stdout


def test_logs_show_cloud_init_and_services(dev_stack: local_stack.StackStatus) -> None:
    out = cli("local", "logs", "--stack", "dev")
    assert out.returncode == 0
    assert "Cloud-init" in out.stdout and "nginx" in out.stdout


def test_host_hardening_is_in_place(dev_stack: local_stack.StackStatus) -> None:
    web = local_stack.web_name("dev")

    def inside(script: str) -> str:
        return machine.run(web, ["sh", "-c", script]).stdout

    # The host firewall mirrors the cloud's: drop by default, 80/443 open, no SSH without adminCidrs.
    rules = inside("nft list table inet launchpad")
    assert "policy drop" in rules and "tcp dport { 80, 443 } accept" in rules and "dport 22" not in rules
    assert inside("systemctl is-enabled nftables.service").strip() == "enabled"
    assert 'APT::Periodic::Unattended-Upgrade "1";' in inside("apt-config dump APT::Periodic")
    assert inside("dpkg-query -W -f='${Status}' unattended-upgrades") == "install ok installed"
    sshd = inside("cat /etc/ssh/sshd_config.d/launchpad.conf")
    assert "PasswordAuthentication no" in sshd and "PermitRootLogin no" in sshd
    # The app runs as its own unprivileged user, not root.
    user = inside("ps -o user= -C gunicorn | sort -u").split()
    assert user == ["rocket"]


def test_dev_stack_down_leaves_nothing(dev_stack: local_stack.StackStatus) -> None:
    name = local_stack.web_name("dev")
    state = machine.status(name)
    out = cli("local", "down", "--stack", "dev")
    assert out.returncode == 0, out.stderr
    assert state is not None
    assert leftovers(state) == []
    assert cli("local", "status", "--stack", "dev", "--json").stdout and \
        json.loads(cli("local", "status", "--stack", "dev", "--json").stdout)["state"] == "absent"


def test_www_redirects_to_the_apex(e2e_stack: local_stack.StackStatus) -> None:
    assert e2e_stack.address
    status, headers, _ = get(e2e_stack.address, "/some/path?x=1", host="www.rocket.test")
    assert status == 301 and headers["location"] == "http://rocket.test/some/path?x=1"


def test_unknown_host_is_dropped(e2e_stack: local_stack.StackStatus) -> None:
    assert e2e_stack.address
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        get(e2e_stack.address, host="evil.example")


def test_proxyfix_gives_the_app_the_real_client_and_scheme(e2e_stack: local_stack.StackStatus) -> None:
    assert e2e_stack.address
    web = machine.status(local_stack.web_name("e2e"))
    assert web is not None
    # A client forging the headers does not fool the app: ProxyFix trusts exactly Nginx's hop.
    status, _, body = get(e2e_stack.address, "/whoami", host="rocket.test",
                          headers={"X-Forwarded-For": "203.0.113.66", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
    seen = json.loads(body)
    assert status == 200
    assert seen == {"remote_addr": web.host_address, "scheme": "http", "host": "rocket.test"}


def test_health_reports_the_database_reachable(e2e_stack: local_stack.StackStatus) -> None:
    assert e2e_stack.address and e2e_stack.database_address
    status, _, body = get(e2e_stack.address, "/healthz", host="rocket.test")
    assert status == 200 and json.loads(body) == {"status": "ok", "database": "ok"}


def test_database_is_reachable_from_the_web_machine_only(e2e_stack: local_stack.StackStatus, e2e_settings: Settings) -> None:
    assert e2e_stack.database_address
    with pytest.raises(OSError):
        socket.create_connection((e2e_stack.database_address, 5432), timeout=3).close()
    probe = "import socket; socket.create_connection(('%s', 5432), timeout=3).close(); print('ok')" % e2e_stack.database_address
    assert machine.run(local_stack.web_name("e2e"), ["python3", "-c", probe]).stdout.strip() == "ok"


def test_no_database_password_in_user_data(e2e_stack: local_stack.StackStatus) -> None:
    password = machine.run(local_stack.db_name("e2e"), ["cat", "/etc/launchpad/db-password"]).stdout.strip()
    assert len(password) >= 20
    for name in (local_stack.web_name("e2e"), local_stack.db_name("e2e")):
        user_data = machine.run(name, ["cat", "/var/lib/cloud/instance/user-data.txt"]).stdout
        assert user_data.startswith("#cloud-config") and password not in user_data


def test_rate_limit_answers_429_to_a_flood(e2e_stack: local_stack.StackStatus, e2e_settings: Settings) -> None:
    assert e2e_stack.address
    time.sleep(2)  # let the bucket refill after earlier tests
    statuses = [get(e2e_stack.address, host="rocket.test")[0] for _ in range(e2e_settings.rate_limit * 4)]
    assert 429 in statuses and statuses[0] == 200
    fact(f"flood of {len(statuses)}: {statuses.count(200)} x 200, {statuses.count(429)} x 429")


def test_machine_reboots_and_serves_again(e2e_stack: local_stack.StackStatus) -> None:
    assert e2e_stack.address
    started = time.monotonic()
    machine.reboot(local_stack.web_name("e2e"), deadline_s=120)
    wait.until_healthy(f"http://{e2e_stack.address}/healthz", "rocket.test", database=True, timeout=120, interval=0.25)
    fact(f"reboot: serving again {time.monotonic() - started:.1f} s after the reboot was asked")
    status, _, body = get(e2e_stack.address, "/healthz", host="rocket.test")
    assert status == 200 and json.loads(body)["database"] == "ok"
