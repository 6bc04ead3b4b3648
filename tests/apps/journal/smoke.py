#!/usr/bin/env python3
"""Smoke test for a deployed Journal, standard library only.

    python3 smoke.py BASE_URL [--host NAME] [--insecure] [--expect-version V] [--expect-release ID]

Checks /healthz and /version, registers a new user (CSRF token parsed from the form), logs in,
writes an entry, finds it on the entry list, fetches the stylesheet the page links to, then does
the same through the JSON API (token by basic auth, bearer token to post). Prints one JSON
object; exit status 0 when every step passed, 1 otherwise (the JSON says which step and why).

--host sends that Host header (and, for https, that TLS server name) while connecting to the
address in BASE_URL, so a deployment can be checked by IP before DNS points at it. Redirects are
followed by hand against BASE_URL, so an absolute Location naming the public host still works.
"""

import argparse
import base64
import functools
import http.client
import http.cookiejar
import json
import re
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

CSRF_RE = re.compile(
    r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"|<input[^>]*\bvalue="([^"]+)"[^>]*\bname="csrf_token"'
)
STYLESHEET_RE = re.compile(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"')
FEEDBACK_RE = re.compile(r'class="invalid-feedback">([^<]*)<')


class SmokeFailure(Exception):
    pass


class _KeepErrors(urllib.request.HTTPErrorProcessor):
    """Return 3xx/4xx/5xx responses instead of raising or following them."""

    def http_response(self, request, response):
        return response

    https_response = http_response


class _SNIConnection(http.client.HTTPSConnection):
    def __init__(self, *args, sni=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._sni = sni

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._sni or self.host)


class _SNIHandler(urllib.request.HTTPSHandler):
    def __init__(self, context, sni):
        super().__init__(context=context)
        self._sni_context = context
        self._sni = sni

    def https_open(self, req):
        return self.do_open(functools.partial(_SNIConnection, sni=self._sni), req, context=self._sni_context)


class Client:
    """A cookie-keeping HTTP client pinned to one base URL and an optional Host header."""

    def __init__(self, base_url, host=None, insecure=False, timeout=15.0):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SystemExit(f"BASE_URL={base_url!r} must look like http://ADDRESS[:PORT] or https://...")
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.host = host
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        context = ssl.create_default_context()
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _KeepErrors(), _SNIHandler(context, host)
        )
        self.last_release_header = None

    def url(self, path):
        return urllib.parse.urlunsplit((self.scheme, self.netloc, path, "", ""))

    def origin(self):
        return f"{self.scheme}://{self.host or self.netloc}"

    def request(self, method, path, data=None, headers=None, follow=True):
        """(status, headers, body text, final path). Redirects are followed against the base URL."""
        for _ in range(10):
            all_headers = {"User-Agent": "journal-smoke/1", "Accept": "text/html,application/json;q=0.9"}
            if self.host:
                all_headers["Host"] = self.host
            if method == "POST" and not (headers or {}).get("Content-Type"):
                # Flask-WTF checks the Referer on https: send the page the form came from.
                all_headers["Referer"] = self.origin() + path
            all_headers.update(headers or {})
            body = None
            if data is not None:
                body = data if isinstance(data, bytes) else urllib.parse.urlencode(data).encode()
                all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            req = urllib.request.Request(self.url(path), data=body, headers=all_headers, method=method)
            try:
                with self.opener.open(req, timeout=self.timeout) as response:
                    status, response_headers, text = response.status, response.headers, response.read().decode("utf-8", "replace")
            except (urllib.error.URLError, OSError) as exc:
                raise SmokeFailure(f"{method} {path}: {exc}") from exc
            self.last_release_header = response_headers.get("X-Launchpad-Release") or self.last_release_header
            if follow and status in (301, 302, 303, 307, 308) and response_headers.get("Location"):
                location = urllib.parse.urlsplit(urllib.parse.urljoin(self.url(path), response_headers["Location"]))
                path = location.path + (f"?{location.query}" if location.query else "")
                if status in (301, 302, 303):
                    method, data = "GET", None
                continue
            return status, response_headers, text, path
        raise SmokeFailure(f"{method} {path}: more than 10 redirects")


def csrf_token(page, where):
    match = CSRF_RE.search(page)
    if not match:
        raise SmokeFailure(f"no csrf_token input on {where}")
    return match.group(1) or match.group(2)


def expect(condition, message):
    if not condition:
        raise SmokeFailure(message)


def run(client, args, result):
    steps = result["steps"]

    def step(name):
        steps.append({"name": name, "started": time.monotonic()})

    def done():
        steps[-1]["ms"] = round((time.monotonic() - steps[-1].pop("started")) * 1000, 1)

    step("healthz")
    status, _, text, _ = client.request("GET", "/healthz")
    expect(status == 200, f"/healthz answered {status}: {text[:200]}")
    health = json.loads(text)
    expect(health.get("status") == "ok" and health.get("database") == "ok", f"/healthz said {health}")
    done()

    step("version")
    status, _, text, _ = client.request("GET", "/version", headers={"Accept": "application/json"})
    expect(status == 200, f"/version answered {status}")
    result["version"] = json.loads(text)
    if args.expect_version:
        expect(result["version"].get("version") == args.expect_version, f"version is {result['version'].get('version')}, expected {args.expect_version}")
    if args.expect_release:
        expect(result["version"].get("release") == args.expect_release, f"release is {result['version'].get('release')}, expected {args.expect_release}")
    done()

    username = f"smoke{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    result["user"] = username

    step("register")
    status, _, page, _ = client.request("GET", "/auth/register")
    expect(status == 200, f"GET /auth/register answered {status}")
    form = {"csrf_token": csrf_token(page, "/auth/register"), "username": username, "email": f"{username}@example.com", "password": password, "password2": password, "submit": "Register"}
    status, _, page, final = client.request("POST", "/auth/register", form)
    expect(status == 200 and final.startswith("/auth/login"), f"register ended at {final} ({status}): {FEEDBACK_RE.findall(page) or page[:300]}")
    done()

    step("login")
    status, _, page, _ = client.request("GET", "/auth/login")
    form = {"csrf_token": csrf_token(page, "/auth/login"), "username": username, "password": password, "submit": "Sign in"}
    status, _, page, final = client.request("POST", "/auth/login", form)
    expect(status == 200 and f"Hi, {username}!" in page, f"login ended at {final} ({status}) without a greeting")
    done()

    step("post entry")
    title = f"Smoke entry {secrets.token_hex(4)}"
    form = {"csrf_token": csrf_token(page, "/"), "title": title, "body": "Written by **smoke.py**.", "mood": "curious", "submit": "Save entry"}
    status, _, page, final = client.request("POST", "/", form)
    expect(status == 200 and "Your entry is saved." in page, f"posting an entry ended at {final} ({status}): {FEEDBACK_RE.findall(page) or page[:300]}")
    result["entry_title"] = title
    done()

    step("list entries")
    status, _, page, _ = client.request("GET", "/")
    expect(status == 200 and title in page, f"the entry {title!r} is not on / ({status})")
    status, _, page, _ = client.request("GET", f"/user/{username}")
    expect(status == 200 and title in page, f"the entry {title!r} is not on /user/{username} ({status})")
    done()

    step("static")
    match = STYLESHEET_RE.search(page)
    expect(match, "the page links no stylesheet")
    href = urllib.parse.urlsplit(match.group(1)).path
    status, headers, css, _ = client.request("GET", href)
    expect(status == 200 and "--j-primary" in css, f"GET {href} answered {status} ({len(css)} chars)")
    result["static"] = {
        "url": href,
        "status": status,
        "bytes": len(css.encode()),
        "content_type": headers.get("Content-Type"),
        "cache_control": headers.get("Cache-Control"),
        "expires": headers.get("Expires"),
        "server": headers.get("Server"),
    }
    done()

    step("api")
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    status, _, text, _ = client.request("POST", "/api/tokens", b"", headers={"Authorization": f"Basic {basic}", "Content-Type": "application/json"})
    expect(status == 200, f"POST /api/tokens answered {status}: {text[:200]}")
    token = json.loads(text)["token"]
    api_title = f"API entry {secrets.token_hex(4)}"
    body = json.dumps({"title": api_title, "body": "via the API", "mood": "calm"}).encode()
    status, _, text, _ = client.request("POST", "/api/entries", body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    expect(status == 201, f"POST /api/entries answered {status}: {text[:200]}")
    status, _, text, _ = client.request("GET", f"/api/entries?author={username}", headers={"Accept": "application/json"})
    titles = [item["title"] for item in json.loads(text)["items"]] if status == 200 else []
    expect({title, api_title} <= set(titles), f"/api/entries?author={username} lists {titles}")
    done()

    step("logout")
    status, _, page, _ = client.request("GET", "/auth/logout")
    expect(status == 200 and "logged out" in page, f"logout answered {status}")
    done()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="e.g. http://10.0.0.5 or https://journal.example.com")
    parser.add_argument("--host", help="Host header (and TLS server name) to send")
    parser.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request (default 15)")
    parser.add_argument("--expect-version", help="fail unless /version reports this APP_VERSION")
    parser.add_argument("--expect-release", help="fail unless /version reports this LAUNCHPAD_RELEASE")
    args = parser.parse_args(argv)

    client = Client(args.base_url, host=args.host, insecure=args.insecure, timeout=args.timeout)
    result = {"ok": False, "app": "journal", "base_url": args.base_url, "host": args.host, "steps": []}
    try:
        run(client, args, result)
        result["ok"] = True
    except (SmokeFailure, ValueError, KeyError) as exc:
        failed = result["steps"][-1] if result["steps"] else {"name": "setup"}
        failed.pop("started", None)
        result["failed_step"] = failed["name"]
        result["error"] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, SmokeFailure) else str(exc)
    result["release_header"] = client.last_release_header
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
