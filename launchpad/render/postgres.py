"""Renders the local PostgreSQL machine's #cloud-config: the local target's stand-in
for RDS / DO Managed PostgreSQL.

A pure function of plain values. On the machine it installs PostgreSQL and
nftables, admits only the web machine's address (pg_hba and the host firewall),
and creates the app's role and database with the password the host wrote into
the machine's disk (PASSWORD_FILE), so the password never travels in user-data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from launchpad.render.templates import render_template

PASSWORD_FILE = "/etc/launchpad/db-password"
ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def render_postgres_user_data(stack: str, version: str, name: str, user: str, client: str | Sequence[str]) -> str:
    """`client`: the web machine's address, or a list of them (a balanced stack's web machines)."""
    clients = [client] if isinstance(client, str) else list(client)
    if not clients or any(not ADDRESS.fullmatch(c) for c in clients):
        raise ValueError(f"client {client!r}: expected one or more IPv4 addresses of web machines")
    # One client renders as it always has, so a running database machine is not replaced.
    values = dict(stack=stack, version=version, name=name, user=user, client=clients[0],
                  clients=clients if len(clients) > 1 else [], password_file=PASSWORD_FILE)
    return render_template("postgres-cloud-config.yaml.j2", **values,
                   setup=render_template("postgres-setup.sh.j2", **values),
                   firewall=render_template("postgres-nftables.conf.j2", **values))
