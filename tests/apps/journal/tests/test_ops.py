from journal.version import APP_VERSION


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_broken_database(client, app, monkeypatch):
    from journal.extensions import db

    def broken(*args, **kwargs):
        raise db.exc.OperationalError("SELECT 1", {}, Exception("gone"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_version_reports_the_release(client, monkeypatch):
    monkeypatch.setenv("LAUNCHPAD_RELEASE", "abc123def456")
    assert client.get("/version").get_json() == {
        "app": "journal",
        "version": APP_VERSION,
        "release": "abc123def456",
        "database": "sqlite",
    }
