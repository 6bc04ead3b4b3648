import base64


def _basic(username, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_token_then_create_and_list(client, user):
    token = client.post("/api/tokens", headers=_basic("susan", "correct horse battery")).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    created = client.post("/api/entries", json={"title": "From the API", "body": "hello", "mood": "happy"}, headers=bearer)
    assert created.status_code == 201
    assert created.headers["Location"].endswith(f"/api/entries/{created.get_json()['id']}")

    listing = client.get("/api/entries?author=susan").get_json()
    assert [item["title"] for item in listing["items"]] == ["From the API"]
    assert client.get("/api/me", headers=bearer).get_json()["email"] == "susan@example.com"


def test_api_refuses_bad_credentials_and_bad_input(client, user):
    assert client.post("/api/tokens", headers=_basic("susan", "wrong")).status_code == 401
    assert client.post("/api/entries", json={"title": "x", "body": "y"}).status_code == 401
    token = client.post("/api/tokens", headers=_basic("susan", "correct horse battery")).get_json()["token"]
    response = client.post("/api/entries", json={"title": "x", "body": "y", "mood": "angry"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert "angry" in response.get_json()["message"]
    assert client.get("/api/entries?since=yesterday").status_code == 400
