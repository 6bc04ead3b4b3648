"""agent.json's `database` section: how the host's release agent gets the app's DATABASE_URL.

Pure values, one shape per provider (the agent's side: files/agent/launchpad_agent/database.py):
- AWS (`aws-secretsmanager`): the agent reads the RDS-managed master secret (rotated by RDS)
  and the stack's app-password secret through the instance role, keeps the app's own role
  (`app_role`) with the master, and hands the app a URL with that role's login. No password here.
- local (`file`): the same with root-only files the local target writes into the web machine
  (the PostgreSQL machine stands in for RDS; its address is in the app file, known only after boot).
- DigitalOcean (`spaces-sealed`): the app's URL and the cluster admin's, sealed to the droplet.
"""

from __future__ import annotations

from typing import Any

MASTER_FILE = "/etc/launchpad/database/master.json"
"""Local: {"username", "password"}, the shape of the RDS-managed master secret."""
APP_FILE = "/etc/launchpad/database/app.json"
"""Local: {"password", "host", "port", "dbname"}; on AWS the secret holds {"password"}."""
LOCAL_MASTER = "master"
"""The local PostgreSQL machine's master user (CREATEDB, CREATEROLE, not a superuser: RDS's shape)."""
REFRESH_S = 300
"""How often the agent looks at the credential (Secrets Manager calls: a few an hour per host)."""


def app_role(database: str) -> str:
    """The role that owns the app's database; the app logs in as `<role>_a` or `<role>_b`.
    Never the master's name (RDS names its master after the database)."""
    return f"{database}_app"


def aws(master_arn: str, app_arn: str, region: str, host: str, port: int, database: str) -> dict[str, Any]:
    return {"kind": "aws-secretsmanager", "master": master_arn, "app": app_arn, "region": region, "host": host,
            "port": int(port), "dbname": database, "role": app_role(database), "sslmode": "require",
            "refresh_s": REFRESH_S}


def local(database: str) -> dict[str, Any]:
    # Files cost nothing to read: the local target looks every 15 s.
    return {"kind": "file", "master": MASTER_FILE, "app": APP_FILE, "role": app_role(database), "refresh_s": 15}


def digitalocean() -> dict[str, Any]:
    return {"kind": "spaces-sealed", "refresh_s": REFRESH_S}
