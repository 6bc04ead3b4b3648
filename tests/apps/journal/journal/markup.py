"""Entry bodies are Markdown; the HTML is sanitised with bleach before it reaches a template."""

import bleach
import markdown
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "li", "ol", "p", "pre", "strong", "ul",
}
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "abbr": ["title"]}


def render_markdown(text):
    html = markdown.markdown(text or "", extensions=["fenced_code", "sane_lists"])
    clean = bleach.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, strip=True)
    return Markup(bleach.linkify(clean))
