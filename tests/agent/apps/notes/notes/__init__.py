"""A factory-style test app: SQLite in Flask's default instance folder, static files,
a release command (`flask --app notes init-db`), a secret and a version from the env.

Answers: / (the notes page, with the version and the release id), /healthz (the database
opens), /add?text=... (writes a row: proves the state directory is writable and kept).
Env knobs for fault tests: NOTES_FAIL_BOOT=1 fails at import (boot), NOTES_UNHEALTHY=1
makes /healthz answer 503 (health).
"""

import os
import sqlite3

import click
from flask import Flask, g, jsonify, render_template, request


def create_app(greeting: str = "hello") -> Flask:
    if os.environ.get("NOTES_FAIL_BOOT") == "1":
        raise RuntimeError("NOTES_FAIL_BOOT=1: refusing to boot")
    app = Flask(__name__)
    app.config["DATABASE"] = os.path.join(app.instance_path, "notes.db")
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "")

    def db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = sqlite3.connect(app.config["DATABASE"])
        return g.db

    @app.teardown_appcontext
    def close(_exc: object) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.cli.command("init-db")
    def init_db() -> None:
        os.makedirs(app.instance_path, exist_ok=True)
        db().execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        db().commit()
        click.echo(f"notes: database ready at {app.config['DATABASE']}")

    @app.route("/")
    def index():  # type: ignore[no-untyped-def]
        rows = db().execute("SELECT text FROM notes ORDER BY id").fetchall()
        return render_template("index.html", greeting=greeting, notes=[r[0] for r in rows],
                               version=os.environ.get("NOTES_VERSION", "?"), release=os.environ.get("LAUNCHPAD_RELEASE", "?"))

    @app.route("/add")
    def add():  # type: ignore[no-untyped-def]
        db().execute("INSERT INTO notes (text) VALUES (?)", (request.args.get("text", ""),))
        db().commit()
        return jsonify(ok=True)

    @app.route("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        if os.environ.get("NOTES_UNHEALTHY") == "1":
            return jsonify(status="error"), 503
        db().execute("SELECT count(*) FROM notes").fetchone()
        return jsonify(status="ok", version=os.environ.get("NOTES_VERSION", "?"), secret=bool(app.config["SECRET_KEY"]))

    return app
