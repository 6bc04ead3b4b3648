from notes import create_app
from notes.version import APP_VERSION


def test_config():
    assert not create_app().testing
    assert create_app({"TESTING": True}).testing


def test_default_database_is_in_the_instance_folder():
    app = create_app()
    assert app.config["DATABASE"].endswith("/instance/notes.sqlite")


def test_add_and_list(client):
    assert b"No notes yet." in client.get("/").data
    response = client.post("/", data={"body": "buy <milk>"})
    assert response.status_code == 302
    page = client.get("/").data
    assert b"buy &lt;milk&gt;" in page
    assert b'href="/static/style.css"' in page


def test_empty_note_is_refused(client):
    assert b"A note needs some text." in client.post("/", data={"body": "  "}).data


def test_init_db_keeps_existing_notes(client, runner):
    client.post("/", data={"body": "keep me"})
    result = runner.invoke(args=["init-db"])
    assert "Initialized the database" in result.output
    assert "(1 notes)" in result.output
    assert b"keep me" in client.get("/").data


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "notes": 0}


def test_healthz_without_schema(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "empty.sqlite")})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_version(client, monkeypatch):
    monkeypatch.setenv("LAUNCHPAD_RELEASE", "r1")
    assert client.get("/version").get_json() == {"app": "notes", "version": APP_VERSION, "release": "r1"}
