"""The one DATABASE_URL builder, and the release agent's copy (files/agent/launchpad_agent/pg.py) that must agree with it."""

from __future__ import annotations

import sys
import urllib.parse
from pathlib import Path

import pytest

from launchpad.database_url import database_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))
from kit import agent  # noqa: E402

pg = agent("pg")

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


@pytest.mark.parametrize("sslmode", [None, "require"])
@pytest.mark.parametrize("host", ["db.abc.eu-west-1.rds.amazonaws.com", "10.0.0.5", "fd00::5"])
@pytest.mark.parametrize("user, password", NASTY)
def test_the_release_agents_builder_makes_the_same_url(user: str, password: str, host: str, sslmode: str | None) -> None:
    """The agent (files/agent/launchpad_agent/pg.py) runs on the host with the stdlib only, so it
    cannot import the builder: it has its own, which must agree."""
    assert pg.url(user, password, host, 5432, "app", sslmode) == database_url(user, password, host, 5432, "app", sslmode=sslmode)
