"""scripts/setup's privilege handling (issue 12, item 6).

A hosted runner (`ubuntu-latest`) runs the workflow as an unprivileged user with
passwordless sudo; a root CI machine runs `.ci/run` as root. So apt and the policy-rc.d
file go through `sudo -n` only when not root, never when root, and without root or sudo
the script stops with the packages named. The script runs here in a sandbox: a copy of
it, with `id`, `dpkg-query`, `sudo`, `apt-get`, `npm` and the venv faked, and PATH
holding only those plus the real tools it needs, so the machine's own sudo is never seen.
The non-root run of the real thing is in the issue-12 report (a throwaway sudo user).
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup"
BASH = shutil.which("bash") or "/bin/bash"
REAL_TOOLS = ("dirname", "tee", "chmod", "rm", "env", "grep", "cat", "tr")

FAKES = {
    # Every fake appends one line to $LOG: what ran, and whether it ran through sudo.
    "id": '[ "$1" = -u ] && echo "$FAKE_UID" || echo "uid=$FAKE_UID"\n',
    "dpkg-query": 'pkg="${*: -1}"\ncase " $FAKE_MISSING " in *" $pkg "*) printf "unknown ok not-installed";; '
                  '*) printf "install ok installed";; esac\n',
    "sudo": 'echo "sudo $*" >> "$LOG"\n[ "$1" = -n ] || { echo "sudo without -n" >&2; exit 9; }\nshift\n'
            'FAKE_VIA_SUDO=1 exec "$@"\n',
    "apt-get": 'echo "apt-get sudo=${FAKE_VIA_SUDO:-0} frontend=${DEBIAN_FRONTEND:-} $* policy=$(cat "$LAUNCHPAD_POLICY_RC_D" 2>/dev/null | tr -d "\\n")" >> "$LOG"\n'
               'exit "${FAKE_APT_EXIT:-0}"\n',
    "node": 'exit 0\n',
    "npm": 'echo "npm $*" >> "$LOG"\n',
}


def write_exe(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!" + BASH + "\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SETUP, repo / "scripts" / "setup")
    write_exe(repo / ".venv" / "bin" / "python", 'exit 0\n')
    write_exe(repo / ".venv" / "bin" / "pip", 'echo "pip $*" >> "$LOG"\n')
    bin_dir = tmp_path / "bin"
    for name, body in FAKES.items():
        write_exe(bin_dir / name, body)
    for tool in REAL_TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} not on this machine"
        (bin_dir / tool).symlink_to(found)
    return tmp_path


def run_setup(sandbox: Path, uid: int, missing: str = "", with_sudo: bool = True,
              apt_exit: int = 0) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    if not with_sudo:
        (sandbox / "bin" / "sudo").unlink()
    log = sandbox / "log"
    log.write_text("")
    env = {"PATH": str(sandbox / "bin"), "LOG": str(log), "FAKE_UID": str(uid), "FAKE_MISSING": missing,
           "FAKE_APT_EXIT": str(apt_exit), "LAUNCHPAD_POLICY_RC_D": str(sandbox / "policy-rc.d"), "HOME": str(sandbox)}
    proc = subprocess.run([BASH, str(sandbox / "repo" / "scripts" / "setup")], env=env, capture_output=True,
                          text=True, timeout=60)
    return proc, log.read_text().splitlines()


def test_root_runs_apt_directly_and_never_sudo(sandbox: Path) -> None:
    proc, log = run_setup(sandbox, uid=0, missing="wrk pebble")
    assert proc.returncode == 0, proc.stderr
    assert not [line for line in log if line.startswith("sudo")], log
    apt = [line for line in log if line.startswith("apt-get")]
    assert apt == [
        "apt-get sudo=0 frontend=noninteractive update -q policy=#!/bin/shexit 101",
        "apt-get sudo=0 frontend=noninteractive install -y -q --no-install-recommends wrk pebble policy=#!/bin/shexit 101",
    ]
    assert not (sandbox / "policy-rc.d").exists(), "the no-start policy must be removed after apt"
    assert "(through sudo)" not in proc.stdout


def test_unprivileged_user_goes_through_sudo_for_apt_and_the_policy_file_only(sandbox: Path) -> None:
    proc, log = run_setup(sandbox, uid=1001, missing="wrk")
    assert proc.returncode == 0, proc.stderr
    sudo = [line.split(" ", 4)[-1] for line in log if line.startswith("sudo")]
    assert sudo == [
        f"tee {sandbox / 'policy-rc.d'}",
        f"chmod 0755 {sandbox / 'policy-rc.d'}",
        "apt-get update -q",
        "apt-get install -y -q --no-install-recommends wrk",
        f"rm -f {sandbox / 'policy-rc.d'}",
    ], log
    assert all(line.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive ") for line in log if line.startswith("sudo"))
    # apt saw the frontend through sudo's reset environment, and the policy in place.
    assert [line for line in log if line.startswith("apt-get")][1].startswith(
        "apt-get sudo=1 frontend=noninteractive install")
    assert "policy=#!/bin/shexit 101" in [line for line in log if line.startswith("apt-get")][1]
    assert not (sandbox / "policy-rc.d").exists()
    # The venv and node_modules stay the caller's: no sudo for them.
    assert "pip install -q --disable-pip-version-check -e .[dev,bench]" in log
    assert "npm ci --silent --no-audit --no-fund" in log
    assert "apt-get install wrk (through sudo)" in proc.stdout


def test_unprivileged_user_with_nothing_missing_needs_no_sudo(sandbox: Path) -> None:
    proc, log = run_setup(sandbox, uid=1001, missing="", with_sudo=False)
    assert proc.returncode == 0, proc.stderr
    assert not [line for line in log if line.startswith(("sudo", "apt-get"))], log
    assert "setup: done" in proc.stdout


def test_unprivileged_user_without_sudo_is_told_what_to_do(sandbox: Path) -> None:
    proc, log = run_setup(sandbox, uid=1001, missing="debootstrap nginx", with_sudo=False)
    assert proc.returncode == 1
    assert "apt-get install debootstrap nginx needs root: run as root, install sudo" in proc.stderr
    assert log == [], "nothing may be attempted"


@pytest.mark.parametrize("uid", [0, 1001])
def test_a_failed_apt_get_still_removes_the_policy_file(sandbox: Path, uid: int) -> None:
    proc, log = run_setup(sandbox, uid=uid, missing="wrk", apt_exit=100)
    assert proc.returncode == 100
    assert not (sandbox / "policy-rc.d").exists(), "the trap must remove the no-start policy"
    assert not [line for line in log if line.startswith(("pip", "npm"))]


def test_an_existing_policy_file_is_left_alone(sandbox: Path) -> None:
    (sandbox / "policy-rc.d").write_text("#!/bin/sh\nexit 0\n")
    proc, log = run_setup(sandbox, uid=1001, missing="wrk")
    assert proc.returncode == 0, proc.stderr
    assert (sandbox / "policy-rc.d").read_text() == "#!/bin/sh\nexit 0\n"
    assert not [line for line in log if " tee " in line or " rm " in line], log


def test_the_workflow_runs_ci_as_the_runner_user_and_ci_run_stays_as_it_is() -> None:
    """The test job calls `.ci/run` without sudo (only apt inside setup is privileged);
    `.ci/run` itself does not change with the user."""
    import yaml

    job = yaml.safe_load((ROOT / ".github" / "workflows" / "launchpad.yml").read_text())["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    runs = [step["run"].strip() for step in job["steps"] if "run" in step and "shell" not in step]
    assert "bash .ci/run" in runs
    assert not [r for r in runs if "sudo" in r], runs
    ci_run = (ROOT / ".ci" / "run").read_text()
    assert "sudo" not in ci_run and "./scripts/setup" in ci_run and "./scripts/test" in ci_run
