"""MkDocs hooks (mkdocs.yml `hooks:`): djfapi's docstrings cross-reference in Sphinx roles
(:class:`Router`, :meth:`~djfapi.Router.register`), which mkdocstrings shows as written; the
API reference shows the name alone, in code, as Sphinx would."""

import re
from typing import Any

ROLE = re.compile(r":(?:class|meth|func|attr|data|mod|exc|obj):<code>~?([^<]*)</code>")


def shown(match: re.Match[str]) -> str:
    """A role's target as Sphinx shows it: ``~a.b.C`` as ``C``, anything else as written."""
    target = match.group(1)
    if match.group(0).split("<code>", 1)[1].startswith("~"):
        target = target.rsplit(".", 1)[-1]
    return f"<code>{target}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return ROLE.sub(shown, html)
