from conftest import login


def test_anonymous_index_lists_entries_without_a_form(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"No entries yet." in response.data
    assert b'name="body"' not in response.data


def test_post_an_entry_and_see_it_listed(client, user):
    login(client)
    response = client.post(
        "/", data={"title": "First day", "body": "It **rained**. <script>x</script>", "mood": "calm"}, follow_redirects=True
    )
    assert b"Your entry is saved." in response.data
    assert b"First day" in response.data
    assert b"<strong>rained</strong>" in response.data
    assert b"<script>x</script>" not in response.data  # bleach strips it
    assert b"badge-calm" in response.data

    page = client.get("/user/susan")
    assert b"First day" in page.data


def test_only_the_author_deletes(client, app, user):
    login(client)
    client.post("/", data={"title": "Mine", "body": "text"})
    client.get("/auth/logout")
    client.post(
        "/auth/register",
        data={"username": "eve", "email": "eve@example.com", "password": "evepassword", "password2": "evepassword"},
    )
    login(client, "eve", "evepassword")
    assert client.post("/entry/1/delete").status_code == 403


def test_static_links_use_url_for(client):
    page = client.get("/").data
    assert b'href="/static/css/journal.css"' in page
    assert b'src="/static/js/journal.js"' in page
    assert client.get("/static/img/logo.png").status_code == 200


def test_unknown_page_is_a_404(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/nope", headers={"Accept": "application/json"}).get_json() == {"error": "Not Found"}
