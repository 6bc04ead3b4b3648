"""A small client for Heroku's Platform API (https://api.heroku.com, version 3), stdlib only.

The token comes from `HEROKU_API_KEY`, the variable the Heroku CLI and the Pulumi provider
read too (`heroku auth:token` prints one; `heroku authorizations:create` makes a long-lived
one). Every failure is an OpsError naming what to fix. Lists are read with the API's
`Range` header (newest first where asked). Loopback URLs (the tests' fake API) bypass any
HTTP proxy the environment names; api.heroku.com goes through it like any client.
"""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from launchpad.ops.remote import OpsError

API_URL = "https://api.heroku.com"
TOKEN_ENV = "HEROKU_API_KEY"
ACCEPT = "application/vnd.heroku+json; version=3"
TIMEOUT_S = 30.0


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def opener_for(url: str) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({})) if _loopback(url) else urllib.request.build_opener()


class HerokuApi:
    """Authenticated JSON requests to the Platform API."""

    def __init__(self, token: str, base_url: str = API_URL, timeout: float = TIMEOUT_S) -> None:
        if not token.strip():
            raise OpsError(f"{TOKEN_ENV} is empty; set it to a Heroku API token (`heroku auth:token`)")
        self.token = token.strip()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._opener = opener_for(self.base_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, base_url: str = API_URL) -> HerokuApi:
        env = os.environ if env is None else env
        token = env.get(TOKEN_ENV, "")
        if not token.strip():
            raise OpsError(f"{TOKEN_ENV} is not set: the Heroku commands call Heroku's Platform API with it; "
                           f"e.g. `export {TOKEN_ENV}=$(heroku auth:token)` (a long-lived one: `heroku authorizations:create`)")
        return cls(token, base_url)

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                range_header: str | None = None) -> Any:
        """One call; the decoded JSON answer (None when the answer is empty)."""
        headers = {"Accept": ACCEPT, "Authorization": f"Bearer {self.token}", "User-Agent": "launchpad"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if range_header:
            headers["Range"] = range_header
        req = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers=headers)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raise OpsError(self._explain(method, path, err)) from None
        except (urllib.error.URLError, OSError) as err:
            raise OpsError(f"{method} {self.base_url}{path}: no answer ({getattr(err, 'reason', err)}); "
                           "is the network (or HTTPS_PROXY) right?") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise OpsError(f"{method} {path}: the answer is not JSON: {raw[:200]!r}") from None

    def _explain(self, method: str, path: str, err: urllib.error.HTTPError) -> str:
        try:
            detail = json.loads(err.read() or b"{}")
        except ValueError:
            detail = {}
        said = detail.get("message") or err.reason if isinstance(detail, dict) else err.reason
        where = f"{method} {path}: HTTP {err.code}"
        if err.code == 401:
            return f"{where}: Heroku refused the token in {TOKEN_ENV} ({said}); make a new one with `heroku auth:token`"
        if err.code == 403:
            return f"{where}: this token may not do that ({said}); use a token of the app's owner or a collaborator"
        if err.code == 404:
            return f"{where}: not found ({said}); does the stack's `app_name` output name an app this token can see?"
        return f"{where}: {said}"

    def get(self, path: str, range_header: str | None = None) -> Any:
        return self.request("GET", path, range_header=range_header)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.request("POST", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)


def app_path(app: str, *rest: str) -> str:
    """`/apps/<app>/<rest...>` with each part quoted: names come from stack outputs and the command line."""
    return "/" + "/".join(urllib.parse.quote(p, safe="") for p in ("apps", app, *rest))
