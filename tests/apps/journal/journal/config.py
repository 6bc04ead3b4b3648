"""Configuration, chosen by name: create_app(config_name) or the FLASK_CONFIG environment variable.

Values that differ per deployment come from the environment and are read when the app is
created (not at import), so tests can change them. Secrets are never given a default outside
the testing configuration: a production app without SECRET_KEY refuses to start.
"""

import os

BASE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
DOTENV_PATH = os.path.join(BASE_DIR, ".env")


class ConfigError(RuntimeError):
    """The environment does not hold what this configuration needs."""


def database_url(instance_path):
    """DATABASE_URL, with the `postgres://` scheme some hosts hand out rewritten for SQLAlchemy.

    Without DATABASE_URL the app keeps SQLite in its instance folder.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "journal.sqlite")
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url


def _flag(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    TESTING = False
    DEBUG = False
    ENTRIES_PER_PAGE = 10
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = 3600
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 30
    LANGUAGES = ["en", "de", "fr"]
    ADMINS = ["admin@journal.example.com"]
    TOKEN_LIFETIME = 3600

    @classmethod
    def from_environment(cls, instance_path):
        """The settings that come from the environment, as a dict for app.config.update()."""
        secret_key = os.environ.get("SECRET_KEY")
        if not secret_key:
            raise ConfigError(
                "SECRET_KEY is not set: the journal signs sessions and CSRF tokens with it. "
                "Set the SECRET_KEY environment variable to a long random string "
                "(with Launchpad: launchpad:app.secrets.SECRET_KEY)."
            )
        return {
            "SECRET_KEY": secret_key,
            "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
            "LOG_TO_STDOUT": _flag("LOG_TO_STDOUT"),
            "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
            "MAIL_SERVER": os.environ.get("MAIL_SERVER"),
            "MAIL_PORT": int(os.environ.get("MAIL_PORT") or 25),
            "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
            "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
            "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
            "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "journal@journal.example.com"),
            "WEBHOOK_URL": os.environ.get("WEBHOOK_URL"),
        }


class DevelopmentConfig(Config):
    DEBUG = True


class ProductionConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_ENGINE_OPTIONS = {}
    CACHE_TYPE = "NullCache"
    CACHE_NO_NULL_WARNING = True

    @classmethod
    def from_environment(cls, instance_path):
        return {
            "SECRET_KEY": "testing-only-not-a-secret-0123456789abcdef",
            "SQLALCHEMY_DATABASE_URI": os.environ.get("TEST_DATABASE_URL", "sqlite://"),
            "LOG_TO_STDOUT": False,
            "SESSION_COOKIE_SECURE": False,
            "MAIL_SERVER": None,
            "MAIL_DEFAULT_SENDER": "journal@journal.example.com",
            "MAIL_SUPPRESS_SEND": True,
            "WEBHOOK_URL": None,
        }


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_class(name):
    """The configuration class called `name` (default: FLASK_CONFIG, else production)."""
    name = name or os.environ.get("FLASK_CONFIG") or "production"
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"FLASK_CONFIG={name!r} is not a configuration; valid: {', '.join(sorted(CONFIGS))}"
        ) from None
