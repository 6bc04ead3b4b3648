"""The one DATABASE_URL builder: every place that hands the app its database goes through here.

User, password and database name are percent-quoted (a generated password may hold
'@', ':' or '/'), so the URL always parses back to the same credentials. The release
agent, which cannot import this package, has its own copy (files/agent/launchpad_agent/pg.py,
`url`) for the URL it hands the app on the host; tests/launchpad/test_database_url.py
checks the two agree.
"""

from __future__ import annotations

import urllib.parse

SCHEME = "postgresql"
"""SQLAlchemy and psycopg both take `postgresql://` (Heroku's `postgres://` is not accepted by SQLAlchemy)."""


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def database_url(user: str, password: str, host: str, port: int | str, name: str, sslmode: str | None = None) -> str:
    """`postgresql://user:password@host:port/name[?sslmode=...]`, credentials and name quoted.

    `sslmode="require"` for managed databases reached over the provider's network
    (RDS, DO); None for the local machine, reached on a host-local link.
    """
    if not host:
        raise ValueError("database_url: host is empty; expected the database's address, like db.internal")
    address = f"[{host}]" if ":" in host else host  # an IPv6 literal needs brackets
    url = f"{SCHEME}://{_quote(user)}:{_quote(password)}@{address}:{port}/{_quote(name)}"
    return f"{url}?sslmode={_quote(sslmode)}" if sslmode else url
