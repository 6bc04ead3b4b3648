"""Renders the local PostgreSQL machine's #cloud-config: the local target's stand-in
for RDS / DO Managed PostgreSQL.

A pure function of plain values. On the machine it installs PostgreSQL and
nftables, admits only the web machine's address (pg_hba and the host firewall),
and creates the app's role and database with the password the host wrote into
the machine's disk (PASSWORD_FILE), so the password never travels in user-data.
"""

from __future__ import annotations

from launchpad.render.templates import render_template

PASSWORD_FILE = "/etc/launchpad/db-password"


def render_postgres_user_data(stack: str, version: str, name: str, user: str, client: str) -> str:
    values = dict(stack=stack, version=version, name=name, user=user, client=client, password_file=PASSWORD_FILE)
    return render_template("postgres-cloud-config.yaml.j2", **values,
                   setup=render_template("postgres-setup.sh.j2", **values),
                   firewall=render_template("postgres-nftables.conf.j2", **values))
