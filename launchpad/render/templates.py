"""The one Jinja2 environment over files/, the host templates.

Strict: a template naming a value the renderer did not pass fails at render time
instead of writing an empty string onto the host. No autoescape: the output is
config files and scripts, never HTML. Instead every template escapes each value for
its own language with the filters of launchpad/safety/escape.py (`| sh`, `| systemd`,
`| nginx`, `| nft`, `| yaml`, ...); tests/test_template_escaping.py enforces it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from launchpad.safety import escape

FILES = Path(__file__).resolve().parent.parent.parent / "files"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(FILES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    escape.register(env)
    return env


def render_template(template: str, **values: object) -> str:
    """Renders files/<template> with `values`."""
    return environment().get_template(template).render(**values)
