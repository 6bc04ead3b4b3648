"""The reference chapter's Hello World, as Launchpad deploys it.

ProxyFix trusts exactly as many proxies as stand in front of the app (Nginx: one),
so the app sees the client's address and scheme, and a client cannot forge them
by sending its own X-Forwarded-* headers. Launchpad sets the counts through
LAUNCHPAD_TRUSTED_PROXIES in the systemd unit.
"""

import os

from flask import Flask, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)

_hops = int(os.environ.get("LAUNCHPAD_TRUSTED_PROXIES", "1"))
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=_hops, x_proto=_hops, x_host=_hops)  # type: ignore[method-assign]


@app.route("/")
def index():
    return "Hello World!"


@app.route("/whoami")
def whoami():
    # What ProxyFix made of the proxy headers; nothing here is secret.
    return jsonify(remote_addr=request.remote_addr, scheme=request.scheme, host=request.host)


@app.route("/healthz")
def healthz():
    url = os.environ.get("DATABASE_URL")
    if not url:
        return jsonify(status="ok", database="not configured")
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # the health answer must name any failure, not crash
        return jsonify(status="error", database="unreachable", error=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")
