"""launchpad/ops/host_key.py with the agent's own announcement (files/agent/launchpad_agent/sealed.py):
the droplet's SSH host key is accepted only under this stack's enrollment MAC."""

from __future__ import annotations

import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

from launchpad.ops import host_key
from launchpad.ops.host_key import HostKeyError, HostKeyMismatch, verify_ssh_host_key
from launchpad.release import enroll

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "agent"))
from kit import agent  # noqa: E402

ENROLL = "ab" * 32
LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheDroplet"


@pytest.fixture
def announced(tmp_path, monkeypatch) -> str:
    """The document the agent writes at boot, with sshd's key in place."""
    sealed = agent("sealed")
    monkeypatch.setattr(sealed, "HOST_KEY", tmp_path / "host-key")
    monkeypatch.setattr(sealed, "HOST_KEY_JSON", tmp_path / "host-key.json")
    monkeypatch.setattr(sealed, "SSH_HOST_KEY", tmp_path / "ssh_host_ed25519_key.pub")
    (tmp_path / "ssh_host_ed25519_key.pub").write_text(LINE + " root@droplet\n")
    sealed.ensure_host_key(ENROLL)
    return (tmp_path / "host-key.json").read_text()


def test_agent_announcement_verifies(announced) -> None:
    assert verify_ssh_host_key(announced, ENROLL) == LINE
    assert json.loads(announced)["ssh_host_key"] == LINE  # the comment (root@host) is not announced


def test_another_stack_or_a_swapped_key_is_refused(announced) -> None:
    with pytest.raises(HostKeyMismatch, match="ssh_mac does not match this stack's enrollment value"):
        verify_ssh_host_key(announced, "cd" * 32)
    swapped = json.loads(announced) | {"ssh_host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttacker"}
    with pytest.raises(HostKeyMismatch):
        verify_ssh_host_key(json.dumps(swapped), ENROLL)


@pytest.mark.parametrize("document, message", [
    ('{"public_key": "x", "mac": "y"}', "no ssh_host_key/ssh_mac \\(yet\\)"),
    ("not json", "no ssh_host_key/ssh_mac"),
    ('{"ssh_host_key": "ssh-rsa AAAA", "ssh_mac": "00"}', "is not an ssh-ed25519 public key line"),
])
def test_malformed_announcements(document, message) -> None:
    with pytest.raises(HostKeyError, match=message):
        verify_ssh_host_key(document, ENROLL)


def test_agent_before_sshd_made_a_key_announces_no_ssh_key(tmp_path, monkeypatch) -> None:
    sealed = agent("sealed")
    monkeypatch.setattr(sealed, "HOST_KEY", tmp_path / "host-key")
    monkeypatch.setattr(sealed, "HOST_KEY_JSON", tmp_path / "host-key.json")
    monkeypatch.setattr(sealed, "SSH_HOST_KEY", tmp_path / "missing.pub")
    sealed.ensure_host_key(ENROLL)
    assert "ssh_host_key" not in json.loads((tmp_path / "host-key.json").read_text())


def _serve(documents: list[bytes]):
    """A droplet stand-in on 127.0.0.1 answering the announcement (one document per request, the last repeated)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = documents.pop(0) if len(documents) > 1 else documents[0]
            self.send_response(200 if self.path == "/.well-known/launchpad/host-key" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_command_waits_for_the_key_then_prints_it(announced, monkeypatch, capsys) -> None:
    early = json.dumps({k: v for k, v in json.loads(announced).items() if not k.startswith("ssh_")}).encode()
    server = _serve([early, announced.encode()])
    monkeypatch.setenv("LAUNCHPAD_ENROLL", ENROLL)
    monkeypatch.setattr(enroll.time, "sleep", lambda s: None)  # the poll loop both readers share
    try:
        assert host_key.main([f"http://127.0.0.1:{server.server_port}", "--timeout", "5"]) == 0
    finally:
        server.shutdown()
    assert capsys.readouterr().out.strip() == LINE


def test_command_refuses_a_wrong_mac_at_once(announced, monkeypatch, capsys) -> None:
    server = _serve([announced.encode()])
    monkeypatch.setenv("LAUNCHPAD_ENROLL", "cd" * 32)
    try:
        assert host_key.main([f"http://127.0.0.1:{server.server_port}", "--timeout", "30"]) == 1
    finally:
        server.shutdown()
    assert "ssh_mac does not match" in capsys.readouterr().err
