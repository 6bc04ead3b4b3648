"""launchpad/render/access.py: the host side of day-2 access on AWS (EIC keys, the host key on the console)."""

from __future__ import annotations

import subprocess
import sys
import time


from launchpad.render import access

def test_aws_host_files() -> None:
    files = {f.path: f for f in access.host_files("aws")}
    assert set(files) == {"/usr/local/sbin/launchpad-eic-keys", "/etc/ssh/sshd_config.d/launchpad-eic.conf",
                          "/etc/systemd/system/ssh.service.d/launchpad-host-key-console.conf"}
    assert files["/usr/local/sbin/launchpad-eic-keys"].mode == "0755"
    assert "AuthorizedKeysCommand /usr/local/sbin/launchpad-eic-keys %u" in files["/etc/ssh/sshd_config.d/launchpad-eic.conf"].content
    dropin = files["/etc/systemd/system/ssh.service.d/launchpad-host-key-console.conf"].content
    assert "ExecStartPost=-" in dropin and "-----BEGIN SSH HOST KEY KEYS-----" in dropin and "> /dev/console" in dropin
    assert access.host_files("digitalocean") == [] and access.host_files("local") == []


def test_host_firewall_admits_ssh_from_the_endpoint_subnet_on_aws_only() -> None:
    from components.aws.network import PUBLIC_CIDR
    from launchpad.render.bootstrap import render_firewall
    from launchpad.settings import validate

    assert access.AWS_EICE_CIDR == PUBLIC_CIDR  # where the stack puts the endpoint (components/aws/access.py)
    aws = render_firewall(validate({"launchpad:provider": "aws"}, "prod"))
    assert f"ip saddr {PUBLIC_CIDR} tcp dport 22 accept" in aws
    assert "dport 22" not in render_firewall(validate({"launchpad:provider": "digitalocean"}, "staging"))


def test_aws_user_data_carries_the_access_files() -> None:
    from launchpad.render.bootstrap import host_files
    from launchpad.settings import validate

    paths = {f.path for f in host_files(validate({"launchpad:provider": "aws"}, "prod"))}
    assert "/usr/local/sbin/launchpad-eic-keys" in paths
    assert "/usr/local/sbin/launchpad-eic-keys" not in {f.path for f in host_files(validate({"launchpad:provider": "local"}, "dev"))}


def _eic(tmp_path, listing: str, user: str = "ops") -> list[str]:
    """Run the AuthorizedKeysCommand against a fake IMDS (urllib patched in-process)."""
    script = tmp_path / "eic.py"
    script.write_text(access.host_files("aws")[0].content)
    shim = tmp_path / "shim.py"
    shim.write_text(
        "import io, runpy, sys, urllib.request\n"
        f"LISTING = {listing!r}\n"
        "class R(io.BytesIO):\n    def __enter__(self): return self\n    def __exit__(self, *a): return False\n"
        "def urlopen(req, timeout=0):\n"
        "    url = req.full_url\n"
        "    if url.endswith('/api/token'): return R(b'tok')\n"
        "    if url.endswith('/instance-id'): return R(b'i-0abc')\n"
        "    return R(LISTING.encode())\n"
        "urllib.request.urlopen = urlopen\n"
        f"sys.argv = ['eic', {user!r}]\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n")
    done = subprocess.run([sys.executable, str(shim)], capture_output=True, text=True)
    return done.stdout.splitlines()


def test_eic_keys_admits_only_live_keys_for_this_instance(tmp_path) -> None:
    future, past = int(time.time()) + 60, int(time.time()) - 1
    listing = "\n".join([
        "ssh-ed25519 AAAAlive launchpad-prod", f"#Timestamp={future}", "#Instance=i-0abc", "#Caller=arn:aws:sts::1:assumed-role/ci", "#Request=r1", "c2lnbmF0dXJl",
        "ssh-ed25519 AAAAexpired launchpad-prod", f"#Timestamp={past}", "#Instance=i-0abc", "#Caller=x", "#Request=r2", "c2ln",
        "ssh-ed25519 AAAAother launchpad-prod", f"#Timestamp={future}", "#Instance=i-0zzz", "#Caller=x", "#Request=r3", "c2ln",
    ])
    assert _eic(tmp_path, listing) == ["ssh-ed25519 AAAAlive launchpad-prod"]
    assert _eic(tmp_path, listing, user="root") == []
