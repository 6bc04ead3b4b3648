"""Secret detection by name (table-driven, both directions) and by value shape."""

from __future__ import annotations

import base64
import random
import uuid

import pytest

from launchpad.safety.secrets import entropy, secret_name, secret_value, words

FLAGGED_NAMES = [
    "PASSWORD", "DB_PASSWORD", "DBPASSWORD", "DB_PASS", "SMTP_PASS", "DB_PWD", "MAIL_PW", "PASSPHRASE", "SECRET_KEY",
    "SECRET", "CLIENT_SECRETS", "JWT_SECRET_KEY", "GITHUB_TOKEN", "API_TOKENS", "STRIPE_KEY", "SIGNING_KEY", "KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "APIKEY", "MAILGUN_APIKEY", "PRIVATE_KEY", "privateKey",
    "SENTRY_DSN", "DATABASE_DSN", "BASIC_AUTH", "SMTP_AUTH", "HASH_SALT", "PASSWORD_PEPPER", "TOTP_SEED",
    "GOOGLE_CREDENTIALS", "CREDS", "SESSION_SECRET", "COOKIE_SECRET", "WEBHOOK_SECRET", "ENCRYPTION_KEYS",
    "spacesSecretKey", "spacesAccessId", "accessKey", "secretKey", "token", "apiToken", "LICENSE_KEY", "ENCRYPTIONKEY",
]
PLAIN_NAMES = [
    "DEBUG", "FLASK_ENV", "LOG_LEVEL", "KEYBOARD_LAYOUT", "MONKEY_PATCH", "CACHE_KEY_PREFIX", "KEY_FUNC", "SSL_KEY_FILE",
    "SESSION_COOKIE_SECURE", "SESSION_TYPE", "PERMANENT_SESSION_LIFETIME", "SIGNING_ALGORITHM", "AUTH_URL",
    "OAUTH_CLIENT_ID", "AUTH_ENABLED", "TOKENIZERS_PARALLELISM", "ACCESS_LOG", "BYPASS_CACHE", "PASSTHROUGH",
    "WEBHOOK_URL", "REGION", "TZ", "PYTHONUNBUFFERED", "DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "COMPASS_HOME",
]


@pytest.mark.parametrize("name", FLAGGED_NAMES)
def test_secret_names_are_flagged(name: str) -> None:
    assert secret_name(name) is not None


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_plain_names_are_not(name: str) -> None:
    assert secret_name(name) is None


def test_words_split_snake_kebab_camel() -> None:
    assert words("spacesSecretKey") == ["SPACES", "SECRET", "KEY"]
    assert words("AWS_ACCESS_KEY_ID") == ["AWS", "ACCESS", "KEY", "ID"]
    assert words("HTTPServerKey2") == ["HTTP", "SERVER", "KEY"]


SECRET_VALUES = {
    "url password": "postgresql://app:hunter2@db.internal:5432/app",
    "url password, empty user": "redis://:s3cr3t@redis:6379/0",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----\n",
    "openssh": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "pgp": "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "aws key id": "AKIAIOSFODNN7EXAMPLE",
    "aws secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "do token": "dop_v1_" + "a" * 64,
    "spaces key": "DO00ABCDEFGHIJKLMNOP",
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "stripe restricted": "rk_test_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "stripe webhook": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "github": "ghp_" + "a1B2" * 9,
    "github pat": "github_pat_" + "11ABCDEFG0" * 7,
    "slack": "xoxb-" + "1234567890-abcdefghij",
    "slack webhook": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "google": "AIza" + "SyA-1234567890abcdefghijklmnopqrstu",
    "sendgrid": "SG." + "a" * 22 + "." + "b" * 43,
    "openai": "sk-proj-" + "Ab1" * 12,
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "flask secret (token_urlsafe)": "Jp7r0QmX2wqL9vKc4NfTb8sYhZ1aE6uD",
    "hex secret (token_hex 32)": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}
PLAIN_VALUES = [
    "production", "https://example.com/api/v1/items", "/var/lib/app/uploads", "3.11.7", "2024-05-01T12:00:00Z",
    "en_US.UTF-8", str(uuid.UUID(int=0x1234567890abcdef1234567890abcdef)), "998f0a3c9253d171390652aaf70a32ec60e4e05c",
    "MyApplicationName2024", "ThisIsAVeryLongCamelCaseIdentifier1", "journal.settings.ProductionConfig",
    "postgresql://db.internal:5432/app", "postgresql://app@db.internal/app", "redis://redis:6379/0",
    "postgresql://app:${DB_PASSWORD}@db/app", "noreply@example.com", "max-age=31536000, includeSubDomains",
    "gunicorn.workers.ggevent.GeventWorker", "Kubernetes-Cluster-Prod-2024-West", "pk_live_is_publishable",
    "application/json; charset=utf-8", "SESSION_COOKIE_SAMESITE",
]


@pytest.mark.parametrize("label", sorted(SECRET_VALUES))
def test_secret_values_are_flagged_without_echoing(label: str) -> None:
    what = secret_value(SECRET_VALUES[label])
    assert what is not None, label
    assert SECRET_VALUES[label][:12] not in what


@pytest.mark.parametrize("value", PLAIN_VALUES)
def test_plain_values_are_not(value: str) -> None:
    assert secret_value(value) is None


@pytest.mark.parametrize("length", [24, 32, 43, 64])
def test_random_tokens_are_caught_almost_always(length: int) -> None:
    rng = __import__("random").Random(length)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    tokens = ["".join(rng.choice(alphabet) for _ in range(length)) for _ in range(1000)]
    missed = sum(secret_value(t) is None for t in tokens)
    assert missed <= 15, f"{missed}/1000 random {length}-character tokens missed"


def test_real_generators_are_caught() -> None:
    """What `secrets.token_urlsafe(32)`, base64 of 30 random bytes and `token_hex(24)` produce, from a seeded
    source: any random token may be an outlier (about 1 in 25,000 of these shapes is missed), so a test
    drawing from os.urandom would fail now and then for no change at all."""
    rng = random.Random(20261125)
    raw = [rng.randbytes(32) for _ in range(500)]
    tokens = [base64.urlsafe_b64encode(b).rstrip(b"=").decode() for b in raw]
    tokens += [base64.b64encode(b[:30]).decode() for b in raw]
    missed = [t for t in tokens if secret_value(t) is None]
    assert not missed, missed
    assert all(secret_value(b[:24].hex()) for b in raw)


def test_entropy() -> None:
    assert entropy("aaaa") == 0 and entropy("ab") == 1 and entropy("") == 0
