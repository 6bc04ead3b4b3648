#!/usr/bin/env python3
"""Smoke test for a deployed Notes app, standard library only.

    python3 smoke.py BASE_URL [--host NAME] [--insecure] [--expect-version V] [--expect-release ID]

Checks /healthz and /version, adds a note through the form, finds it on the list, and fetches the
stylesheet the page links to. Prints one JSON object; exit status 0 when every step passed.
--host sends that Host header (and TLS server name) while connecting to the address in BASE_URL.
"""

import argparse
import functools
import http.client
import json
import re
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

STYLESHEET_RE = re.compile(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"')


class SmokeFailure(Exception):
    pass


class _KeepErrors(urllib.request.HTTPErrorProcessor):
    """Return every response as it is: redirects are followed by hand, errors reported."""

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
        self._sni_context, self._sni = context, sni

    def https_open(self, req):
        return self.do_open(functools.partial(_SNIConnection, sni=self._sni), req, context=self._sni_context)


class Client:
    def __init__(self, base_url, host=None, insecure=False, timeout=15.0):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SystemExit(f"BASE_URL={base_url!r} must look like http://ADDRESS[:PORT] or https://...")
        self.scheme, self.netloc, self.host, self.timeout = parts.scheme, parts.netloc, host, timeout
        context = ssl.create_default_context()
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(_KeepErrors(), _SNIHandler(context, host))
        self.release_header = None

    def request(self, method, path, form=None):
        """(status, headers, text, final path), following redirects against the base URL."""
        for _ in range(10):
            headers = {"User-Agent": "notes-smoke/1"}
            if self.host:
                headers["Host"] = self.host
            data = urllib.parse.urlencode(form).encode() if form is not None else None
            url = urllib.parse.urlunsplit((self.scheme, self.netloc, path, "", ""))
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with self.opener.open(req, timeout=self.timeout) as response:
                    status, rheaders, text = response.status, response.headers, response.read().decode("utf-8", "replace")
            except (urllib.error.URLError, OSError) as exc:
                raise SmokeFailure(f"{method} {path}: {exc}") from exc
            self.release_header = rheaders.get("X-Launchpad-Release") or self.release_header
            if status in (301, 302, 303) and rheaders.get("Location"):
                location = urllib.parse.urlsplit(urllib.parse.urljoin(url, rheaders["Location"]))
                path = location.path + (f"?{location.query}" if location.query else "")
                method, form = "GET", None
                continue
            return status, rheaders, text, path
        raise SmokeFailure(f"{method} {path}: more than 10 redirects")


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
    result["health"] = json.loads(text)
    expect(result["health"].get("status") == "ok", f"/healthz said {result['health']}")
    done()

    step("version")
    status, _, text, _ = client.request("GET", "/version")
    expect(status == 200, f"/version answered {status}")
    result["version"] = json.loads(text)
    for key, wanted in (("version", args.expect_version), ("release", args.expect_release)):
        if wanted:
            expect(result["version"].get(key) == wanted, f"/version {key} is {result['version'].get(key)}, expected {wanted}")
    done()

    step("add note")
    text_of_note = f"smoke note {secrets.token_hex(6)}"
    status, _, page, final = client.request("POST", "/", {"body": text_of_note})
    expect(status == 200 and final == "/", f"adding a note ended at {final} ({status})")
    result["note"] = text_of_note
    done()

    step("list notes")
    status, _, page, _ = client.request("GET", "/")
    expect(status == 200 and text_of_note in page, f"the note {text_of_note!r} is not on / ({status})")
    done()

    step("static")
    match = STYLESHEET_RE.search(page)
    expect(match, "the page links no stylesheet")
    href = urllib.parse.urlsplit(match.group(1)).path
    status, headers, css, _ = client.request("GET", href)
    expect(status == 200 and ".note" in css, f"GET {href} answered {status}")
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

    status, _, text, _ = client.request("GET", "/healthz")
    if status == 200:
        result["notes_after"] = json.loads(text).get("notes")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--host", help="Host header (and TLS server name) to send")
    parser.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--expect-version")
    parser.add_argument("--expect-release")
    args = parser.parse_args(argv)

    client = Client(args.base_url, host=args.host, insecure=args.insecure, timeout=args.timeout)
    result = {"ok": False, "app": "notes", "base_url": args.base_url, "host": args.host, "steps": []}
    try:
        run(client, args, result)
        result["ok"] = True
    except (SmokeFailure, ValueError, KeyError) as exc:
        failed = result["steps"][-1] if result["steps"] else {"name": "setup"}
        failed.pop("started", None)
        result["failed_step"] = failed["name"]
        result["error"] = str(exc) if isinstance(exc, SmokeFailure) else f"{type(exc).__name__}: {exc}"
    result["release_header"] = client.release_header
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
