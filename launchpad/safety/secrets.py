"""Does a name or a value look like a credential?

Plain config (`app.env`, non-Launchpad provider keys) lands in user-data, the release
manifest or the state file in clear text, so a credential there is refused. Two independent
tests, because either alone is easy to slip past: `DB_PASS` has a harmless value until it
does not, and `DATABASE_URL=postgres://app:hunter2@db/app` has a harmless name.

By name: the name is split into words (`_`, `-`, `.`, camelCase). Flagged / not flagged:

    PASSWORD PASSWD PASSPHRASE SECRET TOKEN CREDENTIAL(S) CREDS PRIVATE
        anywhere, also ending a glued word (DBPASSWORD)  / TOKENIZERS_PARALLELISM
    PASS PWD PW DSN SALT PEPPER SEED
        as a word (DB_PASS, SENTRY_DSN: a DSN embeds a key) / BYPASS_CACHE, PASSTHROUGH
    KEY KEYS
        as a word (STRIPE_KEY, SIGNING_KEY, KEY_ID)  / KEYBOARD_LAYOUT, MONKEY (other words),
        KEY_PREFIX, KEY_FUNC, KEY_LENGTH, KEY_SIZE, KEY_TYPE, KEY_NAME, KEY_FORMAT, KEY_ALGORITHM,
        KEY_PATH, KEY_FILE (about a key, not the key; a key pasted there is caught by value)
    APIKEY ACCESSKEY SECRETKEY PRIVKEY PRIVATEKEY AUTHKEY SIGNINGKEY LICENSEKEY MASTERKEY ...
        glued forms
    ACCESS followed by KEY or ID
        AWS_ACCESS_KEY_ID, spacesAccessId  / ACCESS_LOG
    AUTH
        as the last word (BASIC_AUTH, SMTP_AUTH hold credentials)  / AUTH_URL, OAUTH_CLIENT_ID
    SIGNING SESSION COOKIE WEBHOOK
        only with one of the words above (SESSION_SECRET)  / SESSION_COOKIE_SECURE, SESSION_TYPE,
        SIGNING_ALGORITHM, WEBHOOK_URL (a webhook URL's secret part is caught by value)

A false positive costs little: the value moves to `app.secrets`, which takes any value.

By value shape: a URL carrying a password, a PEM/OpenSSH/PGP private key block, a known
token format (AWS access key id, DigitalOcean, Stripe secret/restricted, GitHub, Slack
tokens and webhook URLs, Google API key, SendGrid, OpenAI, JWT), or a high-entropy token
(Shannon entropy over a length threshold, see `_entropy_token`).
"""

from __future__ import annotations

import math
import re
from collections import Counter

_ANYWHERE = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "CREDS", "PRIVATE")
_WORDS = {"PASS", "PWD", "PW", "KEY", "KEYS", "DSN", "SALT", "PEPPER", "SEED", "PASSWORDS", "SECRETS", "TOKENS",
          "CREDENTIALS"}
_GLUED_KEYS = ("APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVKEY", "PRIVATEKEY", "AUTHKEY", "SIGNINGKEY", "LICENSEKEY",
               "MASTERKEY", "ENCRYPTIONKEY", "SESSIONKEY")
# A word after KEY that makes the name about a key rather than the key itself.
_KEY_QUALIFIERS = {"PREFIX", "FUNC", "FUNCTION", "LENGTH", "LEN", "SIZE", "TYPE", "NAME", "FORMAT", "ALGORITHM", "ALG",
                   "PATH", "FILE", "DIR", "ROTATION", "PAIR_NAME"}
_LAST_WORD = {"AUTH"}


def words(name: str) -> list[str]:
    """`stripeSecretKey` -> [STRIPE, SECRET, KEY]; `DB_PASS` -> [DB, PASS]; digits split off."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w.upper() for w in re.split(r"[^A-Za-z]+", spaced) if w]


def secret_name(name: str) -> str | None:
    """The word that makes `name` look like it holds a credential, or None."""
    parts = words(name)
    for i, word in enumerate(parts):
        if word in _WORDS and not (word in ("KEY", "KEYS") and i + 1 < len(parts) and parts[i + 1] in _KEY_QUALIFIERS):
            return word
        if word in ("TOKENIZER", "TOKENIZERS"):
            continue
        for stem in _ANYWHERE:
            if word == stem or word.endswith(stem) or word.endswith(stem + "S"):
                return stem
        if word.endswith(_GLUED_KEYS):
            return word
        if word == "ACCESS" and i + 1 < len(parts) and parts[i + 1] in ("KEY", "ID"):
            return "ACCESS " + parts[i + 1]
    if parts and parts[-1] in _LAST_WORD:
        return parts[-1]
    return None


_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/@:]*:([^\s/@]+)@", re.IGNORECASE)
_SHAPES = (
    (re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"), "a private key block"),
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}(?![A-Z0-9])"), "an AWS access key id"),
    (re.compile(r"(?<![A-Za-z0-9])do[opr]_v1_[a-f0-9]{64}"), "a DigitalOcean API token"),
    (re.compile(r"(?<![A-Z0-9])DO[0-9A-Z]{18}(?![A-Z0-9])"), "a DigitalOcean Spaces access key"),
    (re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"), "a Stripe secret key"),
    (re.compile(r"(?<![A-Za-z0-9])whsec_[0-9A-Za-z+/=]{16,}"), "a Stripe webhook secret"),
    (re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})"), "a GitHub token"),
    (re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[0-9A-Za-z-]{10,}"), "a Slack token"),
    (re.compile(r"(?<![A-Za-z0-9])xapp-[0-9]-[0-9A-Za-z-]{10,}"), "a Slack app token"),
    (re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[0-9A-Za-z/_-]{20,}"), "a Slack webhook URL"),
    (re.compile(r"discord(?:app)?\.com/api/webhooks/\d+/[0-9A-Za-z_-]{20,}"), "a Discord webhook URL"),
    (re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"(?<![A-Za-z0-9])SG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43}"), "a SendGrid API key"),
    (re.compile(r"(?<![A-Za-z0-9])sk-(?:proj-|ant-)?[0-9A-Za-z_-]{32,}"), "an OpenAI/Anthropic API key"),
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]*"), "a JSON Web Token"),
)
# Not a password in a URL: a placeholder, a variable the host fills in.
_URL_PLACEHOLDER = re.compile(r"[$%{<*x.]+.*|password|pass|secret|changeme", re.IGNORECASE)

# High-entropy tokens: a run of token characters, long enough, mixing character classes,
# with a Shannon entropy (bits per character) near what random strings of its kind have.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_-]{20,}")
_HEX_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{48,}(?![0-9A-Za-z])")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


_WORDLIKE = re.compile(r"[A-Z]?[a-z]{3,}|[A-Z]{3,}(?![a-z])|[0-9]{4,}")


def _class(ch: str) -> str:
    return "digit" if ch.isdigit() else "upper" if ch.isupper() else "lower" if ch.islower() else "other"


def _entropy_token(run: str) -> bool:
    """A random-looking token: Flask's `secrets.token_urlsafe()`, AWS and Spaces secret keys, base36 ids.

    Measured on 2,000-5,000 random tokens per length (tests/launchpad/safety/test_secret_detection.py):
    - Shannon entropy >= min(0.78 * log2(length), 4.4) bits per character: the 1st percentile
      of random base36 strings (base64 scores higher); English slugs and identifiers score lower;
    - the character class (lower/upper/digit) changes at >= 35% of positions (random base64:
      1st percentile 37% at 20 characters; `SESSION_COOKIE_SAMESITE`: 18%);
    - under 75% of it is made of word-like pieces (Capitalised or lowercase runs of 3+ letters,
      4+ digits): CamelCase identifiers such as `ThisIsAVeryLongCamelCaseIdentifier1` score ~90%,
      random tokens of 20+ characters stay under 75% in 99.5% of cases.
    """
    classes = [_class(ch) for ch in run]
    if len({c for c in classes if c != "other"}) < 2:
        return False
    switches = sum(a != b for a, b in zip(classes, classes[1:])) / (len(run) - 1)
    wordlike = sum(len(m.group()) for m in _WORDLIKE.finditer(run)) / len(run)
    bits = entropy(run)
    if len(run) >= 32 and bits >= 4.5 and switches >= 0.25 and wordlike < 0.9:
        # Long runs: entropy this high is rare in names (a 40-character CamelCase identifier scores
        # ~4.3), and the class/word tests alone miss about 1 in 7,000 real 40-character tokens.
        return True
    return switches >= 0.35 and wordlike < 0.75 and bits >= min(0.78 * math.log2(len(run)), 4.4)


def known_shape(text: str) -> str | None:
    """A credential of a known format in `text` (key blocks, provider tokens, JWTs, URLs with a
    password), or None. No entropy guess: safe to run over whole files (the policy pack does)."""
    for pattern, what in _SHAPES:
        if pattern.search(text):
            return what
    for match in _URL_PASSWORD.finditer(text):
        if not _URL_PLACEHOLDER.fullmatch(match.group(1)):
            return "a URL with a password in it"
    return None


def secret_value(value: str) -> str | None:
    """What credential `value` looks like it holds, or None. Never echoes the value."""
    if not isinstance(value, str):
        return None
    if what := known_shape(value):
        return what
    if _HEX_RUN.search(value):
        return "a long hexadecimal token (48+ digits)"
    for run in _TOKEN_RUN.findall(value):
        if _entropy_token(run):
            return "a high-entropy token"
    return None
