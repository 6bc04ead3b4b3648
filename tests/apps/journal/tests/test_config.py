import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from journal import config, create_app


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    # No developer .env, no instance config: what a deployed host sees.
    monkeypatch.setattr(config, "DOTENV_PATH", str(tmp_path / "missing.env"))
    for name in ("SECRET_KEY", "DATABASE_URL", "FLASK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_TO_STDOUT", "1")
    return monkeypatch


def test_production_refuses_to_start_without_secret_key(production_env):
    with pytest.raises(config.ConfigError, match="SECRET_KEY is not set"):
        create_app("production")


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgres://u:p%40ss@db:5432/journal", "postgresql://u:p%40ss@db:5432/journal"),
        ("postgresql://u:p@db/journal?sslmode=require", "postgresql://u:p@db/journal?sslmode=require"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_is_read_and_postgres_scheme_rewritten(production_env, given, expected):
    production_env.setenv("DATABASE_URL", given)
    assert config.database_url("/unused") == expected


def test_without_database_url_sqlite_lives_in_the_instance_folder(production_env):
    assert config.database_url("/srv/app/instance") == "sqlite:////srv/app/instance/journal.sqlite"


def test_unknown_config_name_is_refused():
    with pytest.raises(config.ConfigError, match="valid: development, production, testing"):
        create_app("staging")


def test_log_folder_is_relative_to_the_working_directory(production_env, tmp_path):
    production_env.setenv("SECRET_KEY", "k")
    production_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/j.db")
    production_env.delenv("LOG_TO_STDOUT")
    production_env.chdir(tmp_path)
    create_app("production")
    assert (tmp_path / "logs" / "journal.log").exists()


def test_migrations_build_the_schema(production_env, tmp_path):
    production_env.setenv("SECRET_KEY", "k")
    production_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/migrated.db")
    app = create_app("production")
    with app.app_context():
        upgrade()
        from journal.extensions import db

        inspector = sa.inspect(db.engine)
        assert {"user", "entry", "alembic_version"} <= set(inspector.get_table_names())
        assert "mood" in {column["name"] for column in inspector.get_columns("entry")}


def test_csrf_is_enforced_outside_testing(production_env, tmp_path):
    production_env.setenv("SECRET_KEY", "k")
    production_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/csrf.db")
    app = create_app("production")
    with app.app_context():
        upgrade()
    response = app.test_client().post("/auth/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400
    assert b"CSRF" in response.data
