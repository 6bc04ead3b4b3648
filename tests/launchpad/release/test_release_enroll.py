"""The deployer's side of enrollment (launchpad/release/enroll.py): the droplet's document in the enrollment
bucket is accepted only for the droplet id `pulumi up` created and under this stack's MAC, which covers the
id, the sealing key and the SSH host key; an absent document is waited for until a bounded deadline, then
an error names the object and what was last seen; a wrong MAC or id is refused at once. The document is
the one the agent writes (files/agent/launchpad_agent/enroll.py)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

import fake_spaces
from launchpad.release import enroll
from launchpad.release.enroll import Enrollment, EnrollmentError, EnrollmentRefused, poll, verify
from launchpad.release.s3 import Creds, S3Store, StoreError

ENROLL = "ab" * 32
DROPLET = "412345678"
PUBLIC = bytes(range(32))
SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheDroplet"
STORE = "s3://shop-releases-enroll/shop/enroll"

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "agent"))
from kit import agent  # noqa: E402


def document(droplet: str = DROPLET, public: bytes = PUBLIC, ssh: str | None = SSH, key: str = ENROLL) -> bytes:
    return agent("enroll").document(key, droplet, public, ssh)


def test_the_agents_document_verifies_for_its_droplet() -> None:
    assert verify(document(), ENROLL, DROPLET, need_ssh=True) == Enrollment(DROPLET, PUBLIC, SSH)
    assert verify(document(ssh=None), ENROLL, DROPLET) == Enrollment(DROPLET, PUBLIC, None)
    assert Enrollment(DROPLET, PUBLIC, None).public_b64 == base64.b64encode(PUBLIC).decode()


@pytest.mark.parametrize("doc, droplet, message", [
    (document(key="cd" * 32), DROPLET, "MAC does not match this stack's enrollment value"),
    (document(droplet="999"), DROPLET, "names droplet '999', not '412345678': another droplet's"),
    # A key, an SSH key or an id swapped in after the MAC was made: the MAC covers all three.
    (json.dumps(json.loads(document()) | {"public_key": base64.b64encode(b"\x07" * 32).decode()}), DROPLET,
     "MAC does not match"),
    (json.dumps(json.loads(document()) | {"ssh_host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttacker"}), DROPLET,
     "MAC does not match"),
    (json.dumps(json.loads(document()) | {"droplet_id": "999"}), "999", "MAC does not match"),
    (json.dumps(json.loads(document()) | {"public_key": base64.b64encode(b"short").decode()}), DROPLET, "X25519 keys are 32"),
])
def test_wrong_mac_or_id_is_refused(doc: bytes | str, droplet: str, message: str) -> None:
    with pytest.raises(EnrollmentRefused, match=message):
        verify(doc, ENROLL, droplet)


@pytest.mark.parametrize("doc, message", [
    ("not json", "not an enrollment document"),
    ('{"public_key": "AAAA"}', "not an enrollment document"),
])
def test_incomplete_documents_are_errors_to_wait_past(doc: str, message: str) -> None:
    with pytest.raises(EnrollmentError, match=message) as err:
        verify(doc, ENROLL, DROPLET)
    assert not isinstance(err.value, EnrollmentRefused)


def test_no_ssh_host_key_yet_is_waited_for_when_it_is_needed() -> None:
    with pytest.raises(EnrollmentError, match="no ssh_host_key in the document yet"):
        verify(document(ssh=None), ENROLL, DROPLET, need_ssh=True)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def check(body: bytes) -> Enrollment:
    return verify(body, ENROLL, DROPLET)


def test_absent_is_waited_for_then_accepted() -> None:
    answers: list[bytes | None | Exception] = [None, StoreError("HTTP 403 InvalidAccessKeyId"), None, document()]
    clock = Clock()

    def get() -> bytes | None:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert poll(get, check, timeout=60, interval=5, where="s3://b/k", clock=clock, sleep=clock.sleep).droplet_id == DROPLET
    assert clock.sleeps == [5, 5, 5]


def test_absent_until_the_deadline_is_a_clear_error() -> None:
    clock = Clock()
    with pytest.raises(TimeoutError, match=r"no enrollment at s3://b/shop/enroll/412345678.json within 30 s; "
                                           r"last seen: absent: the droplet has not enrolled yet"):
        poll(lambda: None, check, timeout=30, interval=5, where="s3://b/shop/enroll/412345678.json", clock=clock,
             sleep=clock.sleep)
    assert len(clock.sleeps) == 6 and clock.now == 30  # bounded: every 5 s, never past the deadline


@pytest.mark.parametrize("doc", [document(key="cd" * 32), document(droplet="999")])
def test_wrong_mac_or_id_stops_the_wait_at_once(doc: bytes) -> None:
    clock, calls = Clock(), []
    with pytest.raises(EnrollmentRefused, match="s3://b/k: "):
        poll(lambda: calls.append(1) or doc, check, timeout=900, interval=5, where="s3://b/k", clock=clock,
             sleep=clock.sleep)
    assert calls == [1] and clock.sleeps == []


def test_last_seen_names_an_incomplete_document() -> None:
    clock = Clock()
    with pytest.raises(TimeoutError, match="last seen: EnrollmentError: not an enrollment document"):
        poll(lambda: b"{}", check, timeout=10, interval=5, where="s3://b/k", clock=clock, sleep=clock.sleep)


@pytest.fixture
def env() -> dict[str, str]:
    return {enroll.ENROLL_ENV: ENROLL, enroll.KEY_ENV: fake_spaces.KEY, enroll.SECRET_ENV: fake_spaces.SECRET}


def run_command(argv: list[str], env: dict[str, str], fake: fake_spaces.FakeSpaces, module: str = "enroll") -> int:
    def store(url: str, region: str, creds: Creds, endpoint: str) -> S3Store:
        return S3Store(url, region, creds, endpoint, connect=fake.connect)

    need_ssh = module == "host_key"
    return enroll.command(argv, prog=module, doc="doc", label=module, need_ssh=need_ssh,
                          out=(lambda f: str(f.ssh_host_key)) if need_ssh else (lambda f: f.public_b64),
                          environ=env, store_factory=store)


ARGS = [STORE, DROPLET, "--endpoint", f"https://{fake_spaces.HOST}", "--region", fake_spaces.REGION]


def test_command_reads_the_bucket_and_prints_the_key(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    with fake_spaces.fake_spaces() as fake:
        fake.objects[f"/shop-releases-enroll/shop/enroll/{DROPLET}.json"] = document()
        assert run_command([*ARGS, "--timeout", "5"], env, fake) == 0
        assert capsys.readouterr().out.strip() == base64.b64encode(PUBLIC).decode()
        assert run_command([*ARGS, "--timeout", "5"], env, fake, module="host_key") == 0
        assert capsys.readouterr().out.strip() == SSH
        assert [r[:2] for r in fake.requests] == [("GET", f"/shop-releases-enroll/shop/enroll/{DROPLET}.json")] * 2


def test_command_gives_up_at_its_deadline(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    with fake_spaces.fake_spaces() as fake:
        assert run_command([*ARGS, "--timeout", "0.2", "--interval", "0.05"], env, fake) == 1
    err = capsys.readouterr().err
    assert f"enroll: no enrollment at {STORE}/{DROPLET}.json within 0.2 s; last seen: absent" in err


def test_command_with_a_wrong_key_says_what_spaces_answered(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    with fake_spaces.fake_spaces() as fake:
        assert run_command([*ARGS, "--timeout", "0.1", "--interval", "0.05"], env | {enroll.SECRET_ENV: "wrong"}, fake) == 1
    err = capsys.readouterr().err
    assert "last seen: StoreError" in err and "HTTP 403" in err and "SignatureDoesNotMatch" in err


def test_command_needs_its_secrets_in_the_environment(env: dict[str, str]) -> None:
    with fake_spaces.fake_spaces() as fake, pytest.raises(SystemExit):
        run_command(ARGS, {enroll.ENROLL_ENV: ENROLL}, fake)
