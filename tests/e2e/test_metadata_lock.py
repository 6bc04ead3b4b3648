"""The instance metadata service is root's alone (files/nftables.conf.j2, output chain), on a real machine.

The local target has no metadata service, so the test gives the machine one: 169.254.169.254 on its
loopback and a tiny listener there, run as root. Root connects and reads it (the release agent,
cloud-init and certbot run as root); the app's user and pip's builder (`launchpad-build`) do not get a
connection at all: the SYN leaves their socket and the host firewall drops it. On a cloud that is what
keeps user-data (DigitalOcean: the enrollment value and key) and the instance role's credentials (AWS)
out of the app's reach. Stack `mdlock`, one machine, no database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facts import fact
from launchpad.local import machine
from launchpad.local import stack as local_stack
from launchpad.settings import validate

pytestmark = pytest.mark.e2e

STACK = "mdlock"
METADATA = "169.254.169.254"
PORT = 81
"""Nginx holds 0.0.0.0:80 inside the machine; the rule drops every port of the address alike."""
LISTENER = f"""
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{METADATA}", {PORT}))
s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(b"metadata-ok")
    c.close()
"""
PROBE = f"""
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    c.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
    print(c.recv(64).decode().splitlines()[0])
except OSError as err:
    print(f"refused: {{type(err).__name__}}: {{err}}")
    sys.exit(3)
"""


@pytest.fixture(scope="module")
def web() -> Iterator[tuple[str, str]]:
    settings = validate({"launchpad:provider": "local"}, STACK)
    local_stack.up(settings, progress=print)
    name = local_stack.web_name(STACK)
    try:
        machine.run(name, ["ip", "addr", "add", f"{METADATA}/32", "dev", "lo"])
        machine.run(name, ["systemd-run", "--unit=launchpad-test-metadata", "--collect", "python3", "-c", LISTENER])
        machine.run(name, ["sh", "-c", f"for i in $(seq 50); do ss -Hltn | grep -q '{METADATA}:{PORT}' && exit 0; sleep 0.2; done; exit 1"])
        yield name, settings.app.unix_name
    finally:
        local_stack.down(STACK, progress=print)


def probe(name: str, user: str | None, address: str = METADATA, port: int = PORT) -> tuple[int, str]:
    argv = ["python3", "-c", PROBE, address, str(port)]
    argv = argv if user is None else ["runuser", "-u", user, "--", *argv]
    done = machine.run(name, argv, check=False, timeout=30)
    return done.returncode, (done.stdout + done.stderr).strip()


def test_root_reaches_the_metadata_service(web: tuple[str, str]) -> None:
    name, _ = web
    assert probe(name, None) == (0, "metadata-ok")


def test_the_app_and_the_builder_do_not(web: tuple[str, str]) -> None:
    name, app = web
    for user in (app, "launchpad-build", "www-data"):
        code, out = probe(name, user)
        assert code == 3 and "refused" in out, (user, out)
    # Everything else stays open to them: the same user reaches nginx on the loopback.
    code, out = probe(name, app, "127.0.0.1", 80)
    assert code == 0, out
    rules = machine.run(name, ["nft", "list", "chain", "inet", "launchpad", "output"]).stdout
    assert "ip daddr 169.254.169.254 meta skuid != 0 drop" in rules
    fact(f"metadata lock: root reads {METADATA}, the app ({app}), launchpad-build and www-data get no connection")
