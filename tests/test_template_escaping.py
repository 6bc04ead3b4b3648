"""Every value a template prints is escaped for the file's language, or is on the allow-list below.

The Jinja2 AST of each files/**/*.j2 is walked: every `{{ ... }}` must end in one of the
escaping filters of launchpad/safety/escape.py (`| sh`, `| systemd`, `| nginx`, `| nft`,
`| yaml`, ...), be a constant or a macro call, or print only variables listed in ALLOWED with
why they are safe unescaped: a full-match allow-list (its regex, checked here to carry no
`^`/`$` anchors that would admit a trailing newline), a typed integer, a Launchpad constant,
or the text of another checked template. A new template or variable fails this test until
it is escaped or listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

from launchpad.safety.escape import FILTERS

FILES = Path(__file__).resolve().parent.parent / "files"


@dataclass(frozen=True)
class Allowed:
    why: str
    regex: str | None = None
    """`module:NAME` of the compiled pattern that validates the value with fullmatch."""
    templates: tuple[str, ...] = ()
    """Only in these templates (empty: any)."""


ALLOWED: dict[str, Allowed] = {
    "app": Allowed("app.name / the module's first part: full match, not a reserved name",
                   "launchpad.settings.guards:APP_NAME"),
    "domain": Allowed("apex domain: full match of a lowercase hostname", "launchpad.settings.guards:HOSTNAME",
                      ("nginx-site.conf.j2",)),
    "stack": Allowed("Pulumi stack name: full match [A-Za-z0-9_.-]", "launchpad.settings.guards:STACK_NAME"),
    "version": Allowed("database.version: one of the provider's versions (a fixed tuple)"),
    "name": Allowed("database.name: full match, not reserved", "launchpad.settings.guards:DB_NAME",
                    ("postgres-setup.sh.j2",)),
    "user": Allowed("database user: a Launchpad constant", None, ("postgres-setup.sh.j2",)),
    "client": Allowed("the web machine's address, allocated by launchpad/local/net.py (an IPv4Address)", None,
                      ("postgres-setup.sh.j2",)),
    "c": Allowed("a web machine's address, allocated by launchpad/local/net.py (an IPv4Address)", None,
                 ("postgres-setup.sh.j2",)),
    "config_path": Allowed("Launchpad constant path", None, ("haproxy-cloud-config.yaml.j2",)),
    "password_file": Allowed("Launchpad constant path"),
    "workers": Allowed("app.workers: a strict integer 1-64"),
    "threads": Allowed("app.threads: a strict integer 1-64"),
    "rate_limit": Allowed("rateLimit: a strict integer 0-100000"),
    "graceful_timeout": Allowed("Launchpad constant (int)"),
    "max_body": Allowed("Launchpad constant"),
    "gunicorn_spec": Allowed("Launchpad constant"),
    "admin_user": Allowed("Launchpad constant (ops)"),
    "pkg": Allowed("package names: Launchpad constants"),
    "f.path": Allowed("host paths: Launchpad constants and the validated app name", None, ("cloud-config.yaml.j2",)),
    "f.mode": Allowed("file modes: Launchpad constants", None, ("cloud-config.yaml.j2",)),
    "f.content": Allowed("base64 of the packed app (alphabet A-Za-z0-9+/=) in the b64 branch", None, ("cloud-config.yaml.j2",)),
    "tls_settings": Allowed("text of tls.conf.j2, itself checked here", None, ("nginx-site.conf.j2",)),
    "health_path": Allowed("app.healthPath (or Launchpad's default): full match of a plain path, no spaces, ';', '{' or '$'",
                           "launchpad.settings.release_keys:HEALTH_PATH", ("nginx-site.conf.j2", "haproxy.cfg.j2")),
    "health_host": Allowed("the domain (full-match hostname) or the constant localhost", "launchpad.settings.guards:HOSTNAME",
                           ("haproxy.cfg.j2",)),
    "server_name": Allowed("local web machine names: full match, checked by render_haproxy", "launchpad.render.haproxy:SERVER_NAME",
                           ("haproxy.cfg.j2",)),
    "server_address": Allowed("local web machine IPv4 addresses: full match, checked by render_haproxy",
                              "launchpad.render.haproxy:ADDRESS", ("haproxy.cfg.j2",)),
    "scheme": Allowed("http or https: a Launchpad constant per provider", None, ("nginx-site.conf.j2",)),
    "balancer": Allowed("the load balancer's name: a Launchpad constant per provider", None, ("nginx-balancer.conf.j2",)),
    "hops": Allowed("proxy hops to trust: a Launchpad-computed integer"),
    "trusted_proxies": Allowed("proxy hops to trust: a Launchpad-computed integer"),
}


def templates() -> list[Path]:
    return sorted(p for p in FILES.rglob("*.j2"))


def _dotted(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return f"{base}.{node.attr}" if base else None
    return None


def _printed_names(expr: nodes.Node) -> list[str] | None:
    """The variables an expression prints unescaped ([] if none), or None if it cannot tell."""
    if isinstance(expr, nodes.Filter) and expr.name in FILTERS:
        return []
    if isinstance(expr, nodes.Const):
        return []
    if isinstance(expr, nodes.Call) and isinstance(expr.node, nodes.Name):
        return []  # a macro: its body is walked on its own
    if isinstance(expr, nodes.CondExpr):
        # The test only chooses; what is printed are the two branches.
        left = _printed_names(expr.expr1)
        right = _printed_names(expr.expr2) if expr.expr2 is not None else []
        return None if left is None or right is None else left + right
    dotted = _dotted(expr)
    if dotted is not None:
        return [dotted]
    if isinstance(expr, (nodes.BinExpr, nodes.Concat, nodes.Filter)):
        names = []
        for child in expr.iter_child_nodes():
            if isinstance(child, nodes.Const):
                continue
            sub = _printed_names(child)
            if sub is None:
                return None
            names += sub
        return names
    return None


def unescaped_outputs(text: str, rel: str) -> list[tuple[int, str]]:
    """(line, variable) for every value template `rel` prints that is neither escaped nor allowed."""
    env = jinja2.Environment()
    env.filters.update(FILTERS)
    tree = env.parse(text)
    found = []
    for output in tree.find_all(nodes.Output):
        for expr in output.nodes:
            if isinstance(expr, nodes.TemplateData):
                continue
            names = _printed_names(expr)
            if names is None:
                found.append((expr.lineno, f"<expression {type(expr).__name__}>"))
                continue
            for name in names:
                allowed = ALLOWED.get(name)
                if allowed is None or (allowed.templates and rel not in allowed.templates):
                    found.append((expr.lineno, name))
    return found


@pytest.mark.parametrize("path", templates(), ids=lambda p: p.relative_to(FILES).as_posix())
def test_every_printed_value_is_escaped_or_allow_listed(path: Path) -> None:
    found = unescaped_outputs(path.read_text(), path.relative_to(FILES).as_posix())
    assert not found, "\n".join(f"{path.name}:{line}: {{{{ {name} }}}} needs an escaping filter "
                                 f"({', '.join(sorted(FILTERS))}) or an ALLOWED entry" for line, name in found)


@pytest.mark.parametrize("name", sorted(n for n, a in ALLOWED.items() if a.regex))
def test_allow_list_regexes_are_full_match_patterns(name: str) -> None:
    import importlib

    module, attr = ALLOWED[name].regex.split(":")  # type: ignore[union-attr]
    pattern: re.Pattern[str] = getattr(importlib.import_module(module), attr)
    assert not pattern.pattern.startswith("^") and not pattern.pattern.endswith("$"), \
        f"{attr} uses anchors; validate with re.fullmatch (a '$' admits a trailing newline)"
    assert pattern.fullmatch("x\n") is None


def test_the_walker_catches_an_unescaped_value() -> None:
    text = "--email {{ email }} {{ email | sh }} {{ 'x' }} {{ app }} {{ env | tojson }} {{ f.path }} {{ a if b else c }}\n"
    assert [n for _, n in unescaped_outputs(text, "probe.j2")] == ["email", "env", "f.path", "a", "c"]
