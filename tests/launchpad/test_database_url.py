"""The one DATABASE_URL builder, and the host-side copy in files/secrets.py.j2 that must agree with it."""

from __future__ import annotations

import json
import sys
import types
import urllib.parse
from pathlib import Path

import pytest

from launchpad.database_url import database_url
from launchpad.render.templates import render_template

NASTY = [("app", "s3cret"), ("app", "p@ss:w/rd?#%"), ("us er", "ünï cødé&="), ("app", "")]


@pytest.mark.parametrize("user, password", NASTY)
def test_credentials_round_trip(user: str, password: str) -> None:
    url = urllib.parse.urlsplit(database_url(user, password, "db.internal", 5432, "app"))
    assert (url.scheme, url.hostname, url.port, url.path) == ("postgresql", "db.internal", 5432, "/app")
    assert urllib.parse.unquote(url.username or "") == user
    assert urllib.parse.unquote(url.password or "") == password


def test_sslmode_and_ipv6() -> None:
    assert database_url("app", "pw", "10.0.0.5", 25060, "app", sslmode="require") == \
        "postgresql://app:pw@10.0.0.5:25060/app?sslmode=require"
    assert database_url("app", "pw", "fd00::5", 5432, "app") == "postgresql://app:pw@[fd00::5]:5432/app"


def test_empty_host_is_refused() -> None:
    with pytest.raises(ValueError, match="host is empty"):
        database_url("app", "pw", "", 5432, "app")


@pytest.mark.parametrize("user, password", NASTY)
def test_the_ec2_hosts_secrets_script_builds_the_same_url(user: str, password: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """files/secrets.py.j2 runs on the host (stdlib + boto3 only), so it cannot import the
    builder: run it against a fake Secrets Manager and compare."""
    env_file = tmp_path / "launchpad" / "app.env"
    script = render_template("secrets.py.j2", secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:x", region="eu-west-1",
                             host="db.abc.eu-west-1.rds.amazonaws.com", port=5432, name="app", env_file=str(env_file))

    class Client:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            return {"SecretString": json.dumps({"username": user, "password": password})}

    boto3 = types.ModuleType("boto3")
    boto3.client = lambda service, region_name=None: Client()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    exec(compile(script, "secrets.py", "exec"), {"__name__": "__main__"})
    written = env_file.read_text()
    assert written == "DATABASE_URL=" + database_url(user, password, "db.abc.eu-west-1.rds.amazonaws.com", 5432, "app",
                                                     sslmode="require") + "\n"
