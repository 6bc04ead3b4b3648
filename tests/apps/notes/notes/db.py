"""SQLite connection per request, and the `init-db` command that creates the schema if missing."""

import sqlite3

import click
from flask import current_app, g
from flask.cli import with_appcontext


def get_db():
    if "db" not in g:
        # timeout: several gunicorn workers write the same file.
        g.db = sqlite3.connect(current_app.config["DATABASE"], detect_types=sqlite3.PARSE_DECLTYPES, timeout=10)
        g.db.row_factory = sqlite3.Row
    return g.db


def close_db(e=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db():
    db = get_db()
    with current_app.open_resource("schema.sql") as f:
        db.executescript(f.read().decode("utf8"))
    # WAL lets readers and one writer work at once; the setting is stored in the file.
    db.execute("PRAGMA journal_mode=WAL")
    db.commit()


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the tables if they do not exist (existing notes are kept)."""
    init_db()
    count = get_db().execute("SELECT COUNT(*) FROM note").fetchone()[0]
    click.echo(f"Initialized the database at {current_app.config['DATABASE']} ({count} notes).")


def init_app(app):
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
