"""Optional outbound webhook on each new entry (WEBHOOK_URL). Off unless configured."""

from threading import Thread

import requests
from flask import current_app


def _post(app, url, payload):
    try:
        requests.post(url, json=payload, timeout=3)
    except requests.RequestException as exc:
        app.logger.warning("webhook %s failed: %s", url, exc)


def notify_new_entry(entry):
    url = current_app.config.get("WEBHOOK_URL")
    if not url:
        return
    payload = {"event": "entry.created", "id": entry.id, "title": entry.title, "author": entry.author.username}
    Thread(target=_post, args=(current_app._get_current_object(), url, payload), daemon=True).start()
