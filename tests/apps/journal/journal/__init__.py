"""Journal: a small multi-user journal, built the way most production Flask apps are.

Entry point for a WSGI server: `journal:create_app()`, e.g. `gunicorn 'journal:create_app()'`.
For the flask CLI: `flask --app journal ...` or FLASK_APP=journal.
"""

import os

from dotenv import load_dotenv
from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from journal import config as config_module
from journal.extensions import babel, cache, csrf, db, login, mail, migrate, moment
from journal.logging_setup import configure_logging
from journal.version import APP_VERSION

MIGRATIONS_DIR = os.path.join(config_module.BASE_DIR, "migrations")


def get_locale():
    from flask import current_app

    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en"


def create_app(config_name=None):
    """Build the app for `config_name` (development, production, testing; default FLASK_CONFIG)."""
    config_class = config_module.config_class(config_name)
    if not config_class.TESTING:
        # Local convenience, as in most Flask projects: a developer's .env. Deploys never ship it.
        load_dotenv(config_module.DOTENV_PATH)

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    app.config.update(config_class.from_environment(app.instance_path))
    if not config_class.TESTING:
        # A developer's overrides; the instance folder is never part of a release.
        app.config.from_pyfile("config.py", silent=True)
    app.config["APP_VERSION"] = APP_VERSION
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///" + app.instance_path):
        _ensure_instance_folder(app)

    # One reverse proxy (Nginx) in front: trust one hop of X-Forwarded-For and -Proto.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    login.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    moment.init_app(app)
    babel.init_app(app, locale_selector=get_locale)
    cache.init_app(app)
    app.jinja_env.globals["get_locale"] = get_locale

    from journal.errors import bp as errors_bp
    from journal.auth import bp as auth_bp
    from journal.main import bp as main_bp
    from journal.api import bp as api_bp
    from journal.ops import bp as ops_bp

    app.register_blueprint(errors_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(main_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(ops_bp)
    csrf.exempt(api_bp)  # token-authenticated JSON, no cookies

    from journal.cli import journal_cli

    app.cli.add_command(journal_cli)

    if not app.debug and not app.testing:
        configure_logging(app)
        app.logger.info("journal %s starting (release %s)", APP_VERSION, os.environ.get("LAUNCHPAD_RELEASE", "-"))
    return app


def _ensure_instance_folder(app):
    try:
        os.makedirs(app.instance_path, exist_ok=True)
    except OSError as exc:
        raise config_module.ConfigError(
            f"instance folder {app.instance_path} cannot be created ({exc.strerror}): "
            "set DATABASE_URL, or make the folder writable"
        ) from exc


from journal import models  # noqa: E402,F401  (models register with the metadata)
