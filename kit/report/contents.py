"""A report's table of contents: links to its section headings.

Links use the heading ids nbconvert's HTML exporter and JupyterLab give markdown headings (the
heading's text, spaces as ``-``, URL-quoted).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import quote

from kit.report.present import Html

__all__ = ["anchor", "contents"]


def anchor(title: str) -> str:
    """The id a rendered markdown heading with text ``title`` gets."""
    return quote(title.replace(" ", "-"), safe="?/:@!$&'()*+,;=")


def contents(titles: Sequence[str]) -> Html:
    """A compact list of links to the headings ``titles``."""
    links = "".join(f'<li style="display:inline;margin-right:1.2em"><a href="#{html.escape(anchor(t), quote=True)}">'
                    f"{html.escape(t)}</a></li>" for t in titles)
    return Html(f'<nav class="kit-contents" style="margin:.2em 0 1em;font-size:13px"><strong>Contents</strong>'
                f'<ul style="display:inline;padding-left:.8em;margin:0">{links}</ul></nav>')
