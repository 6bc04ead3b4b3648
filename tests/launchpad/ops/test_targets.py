"""launchpad/ops/targets.py: the exact argv each provider runs from the laptop, for every operation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from launchpad.ops import remote
from launchpad.ops.access import Access, HostRef
from launchpad.ops.remote import OpsError
from launchpad.ops.targets import AwsTarget, LocalMachine, LocalTarget, SshTarget, console_host_key, known_hosts_line

WD = Path("/tmp/launchpad-ops-x")
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyMockMockMockMockMockMockMockMockMock"
DO = SshTarget("staging", Access("ssh", "ops", (HostRef("web", "198.51.100.20"),), host_key=HOST_KEY))
AWS = AwsTarget("prod", Access("eice", "ops", (HostRef("web", "10.0.0.10", "i-0abc"),), region="eu-west-1"))
LOCAL = LocalTarget((LocalMachine("lp-dev", "10.213.0.2", 4321),), term="xterm-256color")


def _pinned(alias: str) -> list[str]:
    return ["ssh", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={WD}/known_hosts",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", f"HostKeyAlias={alias}", "-o", "HostKeyAlgorithms=ssh-ed25519",
            "-o", "UpdateHostKeys=no", "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
            "-o", "ConnectTimeout=20", "-o", "ServerAliveInterval=15", "-o", "LogLevel=ERROR"]


DO_SSH = _pinned("launchpad-staging-web")
AWS_SSH = [*_pinned("i-0abc"),
           "-o", "ProxyCommand=aws ec2-instance-connect open-tunnel --instance-id %h --region eu-west-1",
           "-i", f"{WD}/id_ed25519", "-o", "IdentitiesOnly=yes"]
NSENTER = ["nsenter", "--target", "4321", "--all", "--root", "--wd", "env", "-i",
           "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"]
RELOAD = remote.reload("rocket")
FOLLOW = remote.logs("rocket", ["app"], follow=True, since="10m")

CASES = [
    # (target, operation, exact argv)
    (DO, remote.status(), [*DO_SSH, "-T", "-l", "ops", "--", "198.51.100.20", "sudo -n launchpad-agent status --json"]),
    (AWS, remote.status(), [*AWS_SSH, "-T", "-l", "ops", "--", "i-0abc", "sudo -n launchpad-agent status --json"]),
    (LOCAL, remote.status(), [*NSENTER, "TERM=dumb", "launchpad-agent", "status", "--json"]),
    (DO, FOLLOW, [*DO_SSH, "-T", "-l", "ops", "--", "198.51.100.20",
                  "sudo -n journalctl --no-pager --output short-iso --since -10m --follow "
                  "--unit 'rocket@*.service' --unit rocket.service"]),
    (AWS, FOLLOW, [*AWS_SSH, "-T", "-l", "ops", "--", "i-0abc",
                   "sudo -n journalctl --no-pager --output short-iso --since -10m --follow "
                   "--unit 'rocket@*.service' --unit rocket.service"]),
    (LOCAL, FOLLOW, [*NSENTER, "TERM=dumb", "journalctl", "--no-pager", "--output", "short-iso", "--since", "-10m",
                     "--follow", "--unit", "rocket@*.service", "--unit", "rocket.service"]),
    (DO, remote.run(["flask", "shell"], tty=True),
     [*DO_SSH, "-t", "-l", "ops", "--", "198.51.100.20", "sudo -n launchpad-agent run -- flask shell"]),
    (AWS, remote.run(["flask", "db", "upgrade"]),
     [*AWS_SSH, "-T", "-l", "ops", "--", "i-0abc", "sudo -n launchpad-agent run -- flask db upgrade"]),
    (LOCAL, remote.run(["flask", "shell"], tty=True),
     [*NSENTER, "TERM=xterm-256color", "launchpad-agent", "run", "--", "flask", "shell"]),
    (LOCAL, remote.run(["env"]), [*NSENTER, "TERM=dumb", "launchpad-agent", "run", "--", "env"]),
    (DO, RELOAD, [*DO_SSH, "-T", "-l", "ops", "--", "198.51.100.20", "sudo -n " + RELOAD.shell_line]),
    (AWS, RELOAD, [*AWS_SSH, "-T", "-l", "ops", "--", "i-0abc", "sudo -n " + RELOAD.shell_line]),
    (LOCAL, RELOAD, [*NSENTER, "TERM=dumb", *RELOAD.argv]),
    (DO, remote.shell(), [*DO_SSH, "-t", "-l", "ops", "--", "198.51.100.20"]),
    (AWS, remote.shell(), [*AWS_SSH, "-t", "-l", "ops", "--", "i-0abc"]),
    (LOCAL, remote.shell(), [*NSENTER, "TERM=xterm-256color", "su", "--login", "ops"]),
]


@pytest.mark.parametrize("target, operation, argv", CASES)
def test_exact_argv(target, operation, argv) -> None:
    assert target.argv(target.hosts[0], operation, WD) == argv


def test_restart_reload_and_run_are_the_same_remote_command_everywhere() -> None:
    """The three providers differ only in how they get there."""
    for op in (remote.restart("rocket"), remote.reload("rocket"), remote.run(["flask", "routes"]), remote.status()):
        local = LOCAL.argv(LOCAL.hosts[0], op, WD)
        assert local[len(NSENTER) + 1:] == list(op.argv)
        for target in (DO, AWS):
            assert target.argv(target.hosts[0], op, WD)[-1] == "sudo -n " + op.shell_line


def test_identity_file_for_ci() -> None:
    ci = SshTarget("staging", DO.access, identity="/run/secrets/deploy_key")
    argv = ci.argv(ci.hosts[0], remote.status(), WD)
    assert argv[argv.index("-i") + 1] == "/run/secrets/deploy_key" and "IdentitiesOnly=yes" in argv


def test_do_prepare_pins_the_stack_host_key(tmp_path) -> None:
    DO.prepare(DO.hosts[0], tmp_path, run=lambda argv: pytest.fail(f"no command expected, ran {argv}"))
    known = tmp_path / "known_hosts"
    assert known.read_text() == f"launchpad-staging-web {HOST_KEY}\n"
    assert known.stat().st_mode & 0o777 == 0o600


CONSOLE = """[   12.1] cloud-init[512]: Cloud-init v. 22.4.2 running 'modules:final'
<14>Jan 31 12:00:00 ec2: #############################################################
<14>Jan 31 12:00:00 ec2: -----BEGIN SSH HOST KEY KEYS-----
<14>Jan 31 12:00:00 ec2: ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAI= root@ip-10-0-0-10
<14>Jan 31 12:00:00 ec2: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldBoot root@ip-10-0-0-10
<14>Jan 31 12:00:00 ec2: -----END SSH HOST KEY KEYS-----
later boot
-----BEGIN SSH HOST KEY KEYS-----
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINewBoot root@ip-10-0-0-10
-----END SSH HOST KEY KEYS-----
"""


def test_console_host_key_takes_the_newest_ed25519() -> None:
    assert console_host_key(CONSOLE, AWS.hosts[0]) == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINewBoot"


def test_console_without_keys_says_so() -> None:
    with pytest.raises(OpsError, match="console of i-0abc shows no SSH host keys"):
        console_host_key("booting...", AWS.hosts[0])


def _fake(answers):
    calls = []

    def run(argv):
        calls.append(list(argv))
        code, out, err = answers.get(argv[1] if argv[0] == "aws" else argv[0], (0, "", ""))
        if argv[0] == "ssh-keygen":
            Path(argv[-1] + ".pub").write_text("ssh-ed25519 AAAAephemeral launchpad-prod\n")
        return subprocess.CompletedProcess(argv, code, out, err)
    return run, calls


def test_aws_prepare_pins_console_key_and_pushes_a_throwaway_key(tmp_path) -> None:
    run, calls = _fake({"ec2": (0, CONSOLE, "")})
    AWS.prepare(AWS.hosts[0], tmp_path, run)
    assert calls == [
        ["aws", "ec2", "get-console-output", "--instance-id", "i-0abc", "--latest", "--output", "text",
         "--query", "Output", "--region", "eu-west-1"],
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "launchpad-prod", "-f", f"{tmp_path}/id_ed25519"],
        ["aws", "ec2-instance-connect", "send-ssh-public-key", "--instance-id", "i-0abc", "--instance-os-user", "ops",
         "--ssh-public-key", f"file://{tmp_path}/id_ed25519.pub", "--region", "eu-west-1"],
    ]
    assert (tmp_path / "known_hosts").read_text() == "i-0abc ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINewBoot\n"


@pytest.mark.parametrize("answers, message", [
    ({"ec2": (254, "", "An error occurred (UnauthorizedOperation) when calling the GetConsoleOutput operation")},
     "AWS refused ec2:GetConsoleOutput on i-0abc: grant your identity ec2:GetConsoleOutput"),
    ({"ec2": (0, CONSOLE, ""), "ec2-instance-connect": (254, "", "An error occurred (AccessDeniedException) ...")},
     "AWS refused ec2-instance-connect:SendSSHPublicKey on i-0abc"),
    ({"ec2": (255, "", "Could not connect to the endpoint URL")}, "ec2:GetConsoleOutput on i-0abc failed \\(exit 255\\)"),
])
def test_aws_prepare_names_the_missing_permission(tmp_path, answers, message) -> None:
    run, _ = _fake(answers)
    with pytest.raises(OpsError, match=message):
        AWS.prepare(AWS.hosts[0], tmp_path, run)


def test_known_hosts_line_refuses_other_key_types() -> None:
    assert known_hosts_line("a", HOST_KEY + " comment") == f"a {HOST_KEY}\n"
    with pytest.raises(OpsError, match="not an ssh-ed25519 public key"):
        known_hosts_line("a", "ssh-rsa AAAAB3")


def test_each_droplet_pins_its_own_key(tmp_path) -> None:
    from launchpad.ops.access import parse, ssh_each

    record = parse("staging", {"access": ssh_each("ops", [("staging-0", "203.0.113.20", HOST_KEY),
                                                          ("staging-1", "203.0.113.21", HOST_KEY[:-4] + "Two0")])})
    target = SshTarget("staging", record)
    for host in target.hosts:
        workdir = tmp_path / host.name
        workdir.mkdir()
        target.prepare(host, workdir, run=lambda argv: None)
        line = (workdir / "known_hosts").read_text()
        assert line == f"launchpad-staging-{host.name} {host.host_key}\n"
        assert f"HostKeyAlias=launchpad-staging-{host.name}" in target.argv(host, remote.status(), workdir)


def test_console_without_latest_on_older_instance_types(tmp_path) -> None:
    calls = []

    def run(argv):
        calls.append(list(argv))
        if argv[0] == "ssh-keygen":
            Path(argv[-1] + ".pub").write_text("ssh-ed25519 AAAAephemeral\n")
        if "--latest" in argv:
            return subprocess.CompletedProcess(argv, 254, "", "An error occurred (UnsupportedOperation): "
                                               "The latest console output is supported only on Nitro instances")
        return subprocess.CompletedProcess(argv, 0, CONSOLE if "get-console-output" in argv else "", "")
    AWS.prepare(AWS.hosts[0], tmp_path, run)
    assert "--latest" in calls[0] and "--latest" not in calls[1] and calls[1][:3] == ["aws", "ec2", "get-console-output"]
    assert (tmp_path / "known_hosts").read_text().startswith("i-0abc ssh-ed25519 ")


def test_local_fleet_enters_each_web_machine() -> None:
    fleet = LocalTarget((LocalMachine("lp-lb-web-0", "10.213.1.2", 111), LocalMachine("lp-lb-web-1", "10.213.1.6", 222)))
    assert [h.name for h in fleet.hosts] == ["lp-lb-web-0", "lp-lb-web-1"]
    assert [fleet.argv(h, remote.status(), WD)[2] for h in fleet.hosts] == ["111", "222"]
