"""policy/user_data_secrets.py: what it flags, what it leaves alone, and how it decodes user-data."""

from __future__ import annotations

import base64
import gzip
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from user_data_secrets import decode_user_data_base64, find_secrets, user_data_documents

SECRET_LINES = [
    ("export PGPASSWORD=hunter2", "assigns a literal value to PGPASSWORD"),
    ('DB_PASSWORD="correct horse battery staple"', "assigns a literal value to DB_PASSWORD"),
    ("      plain_text_passwd: hunter2", "assigns a literal value to plain_text_passwd"),
    ('{"password": "hunter2"}', "assigns a literal value to password"),
    ("SECRET_KEY = 'dev-not-secret'", "assigns a literal value to SECRET_KEY"),
    ("mysql --password=hunter2 app", "assigns a literal value to --password"),
    ("DIGITALOCEAN_TOKEN=abc123", "assigns a literal value to DIGITALOCEAN_TOKEN"),
    ("curl -H 'x' https://api.example.com/?token=abc123", "assigns a literal value to token"),
    ("DATABASE_URL=postgres://app:s3cret@db.internal:5432/app", "contains credentials in a postgres:// URL"),
    ("git clone https://bot:ghpassw0rd@git.example.com/app.git", "contains credentials in a https:// URL"),
    ("psql -c \"CREATE ROLE app LOGIN PASSWORD 'hunter2'\"", "sets a literal SQL password"),
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "contains an AWS access key id"),
    ("aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12", "contains an AWS secret access key"),
    ("doctl auth init -t dop_v1_" + "ab" * 32, "contains a DigitalOcean API token"),
    ("-----BEGIN RSA PRIVATE KEY-----", "contains a private key (PEM block)"),
    ("-----BEGIN PRIVATE KEY-----", "contains a private key (PEM block)"),
]

BENIGN_LINES = [
    '    sudo: "ALL=(ALL) NOPASSWD:ALL"',  # the cloud-config admin user: a sudoers tag
    'export PGPASSWORD="$(cat /etc/launchpad/db-password)"',
    "PGPASSWORD=$(< /run/credentials/app.service/db-password)",
    "PASSWORD=`cat /run/secret`",
    'password = open("/run/credentials/app.service/db-password").read().strip()',
    'SECRET_KEY = os.environ["SECRET_KEY"]',
    "token = getpass.getpass()",
    "read -r DIGITALOCEAN_TOKEN < /root/.do-token",
    "DB_PASSWORD_FILE=/run/credentials/app.service/db-password",
    "password_file: /run/secrets/db",
    "lock_passwd: true",
    "hashed_passwd: $6$rounds=4096$salt$hash",
    "chpasswd: { expire: false }",
    "ssh_pwauth: false",
    "DATABASE_URL=postgresql://app:${DB_PASSWORD}@db:5432/app",
    "DATABASE_URL=postgresql://app@db:5432/app",
    "password: {{ db_password }}",
    "PASSWORD=",
    'PASSWORD=""',
    "password: str",
    "TOKEN=<your token here>",
    "PASSWORD=********",
    'if password == "":',
    "psql -c \"ALTER ROLE app PASSWORD '$DB_PASSWORD'\"",
    "echo 0123456789abcdef0123456789abcdef01234567",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk4cW5rZ0bWFpbCBleGFtcGxl deploy@example",
    "-----BEGIN PUBLIC KEY-----",
    "https://deb.debian.org/debian bookworm main",
    '"arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-app-secrets-AbCdEf",',
]


@pytest.mark.parametrize(("line", "what"), SECRET_LINES)
def test_secret_lines_are_flagged(line: str, what: str) -> None:
    findings = find_secrets(f"#!/bin/sh\n{line}\n")
    assert [(f.line, f.what) for f in findings] == [(2, what)]


@pytest.mark.parametrize("line", BENIGN_LINES)
def test_benign_lines_are_not_flagged(line: str) -> None:
    assert find_secrets(line) == []


def test_findings_never_quote_the_secret() -> None:
    findings = find_secrets("PGPASSWORD=hunter2\nDATABASE_URL=postgres://app:s3cret@db/app\n")
    assert len(findings) == 2
    assert not any("hunter2" in f.what or "s3cret" in f.what for f in findings)


def test_base64_and_gzip_user_data_is_decoded() -> None:
    text = "#cloud-config\nruncmd: [echo hi]\n"
    assert decode_user_data_base64(base64.b64encode(text.encode()).decode()) == text
    assert decode_user_data_base64(base64.b64encode(gzip.compress(text.encode())).decode()) == text


@pytest.mark.parametrize(("value", "message"), [
    ("%%%", "is not valid base64"),
    (base64.b64encode(b"\x1f\x8bnot really gzip").decode(), "starts like gzip but does not decompress"),
])
def test_undecodable_base64_user_data_is_an_error(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_user_data_base64(value)


def test_mime_multipart_parts_are_decoded_and_scanned() -> None:
    message = MIMEMultipart()
    message.attach(MIMEText("#cloud-config\nruncmd: [echo hi]\n", "cloud-config"))
    # utf-8 makes MIMEText base64-encode the part; the gzip part is base64 of gzip.
    message.attach(MIMEText("#!/bin/sh\nexport PGPASSWORD=hunter2\n", "x-shellscript", "utf-8"))
    message.attach(MIMEApplication(gzip.compress(b"#!/bin/sh\nDB=postgres://a:b@c/d\n"), "x-gzip"))
    text = message.as_string()
    assert "PGPASSWORD" not in text and "postgres://" not in text  # only visible once decoded
    documents = user_data_documents(text)
    assert [label for label, _ in documents] == [
        "MIME part 1 (text/cloud-config)", "MIME part 2 (text/x-shellscript)", "MIME part 3 (application/x-gzip)"]
    assert [[(f.line, f.what) for f in find_secrets(body)] for _, body in documents] == [
        [], [(2, "assigns a literal value to PGPASSWORD")], [(2, "contains credentials in a postgres:// URL")]]


ENROLL_KEY_ID, ENROLL_SECRET = "DO00ENROLLMOCKKEY123", "q8Yl2nR6vB0xK3mT9wZ4cH7jF1sD5aG8eU2iO6pL0yN"


def test_the_digitalocean_enrollment_key_passes_only_as_its_own_json_member() -> None:
    """The one credential user-data carries by design (components/digitalocean/enroll_bucket.py): each
    agent.json line that is exactly that member passes; the same values anywhere else are findings."""
    allowed = f'      "enrollment_key_id": "{ENROLL_KEY_ID}",\n      "enrollment_key_secret": "{ENROLL_SECRET}"\n'
    assert find_secrets(allowed) == []
    elsewhere = (f'      "access_key_id": "{ENROLL_KEY_ID}",\n      "secret_access_key": "{ENROLL_SECRET}",\n'
                 f'      "enrollment_key_secret": "{ENROLL_SECRET}", "token": "x9Kq2"\n'
                 f'export enrollment_key_secret={ENROLL_SECRET}\n')
    assert [(f.line, f.what) for f in find_secrets(elsewhere)] == [
        (1, "contains a DigitalOcean Spaces access key"), (2, "assigns a literal value to secret_access_key"),
        (3, "assigns a literal value to enrollment_key_secret"), (4, "assigns a literal value to enrollment_key_secret")]
