"""Notes: the Flask tutorial's shape (an app factory, SQLite in the instance folder).

WSGI entry point: `notes:create_app()`. Schema: `flask --app notes init-db` (safe to repeat).
"""

import os

from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        # A development default, as in the tutorial; deployments set SECRET_KEY.
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev"),
        DATABASE=os.path.join(app.instance_path, "notes.sqlite"),
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)

    # The instance folder may already exist (on a host it is the app's state directory).
    os.makedirs(app.instance_path, exist_ok=True)

    from notes import db, health, views

    db.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(health.bp)
    return app
