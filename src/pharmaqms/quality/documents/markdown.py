"""Document content is written in Markdown (CommonMark with tables): headings, numbered steps,
emphasis, tables. Rendered with raw HTML switched off, so the text of a document can never put
markup or script on a page; links keep only web and mail addresses."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    "table"
)
_SAFE_LINKS = ("http://", "https://", "mailto:", "/", "#")


def _validate_link(url: str) -> bool:
    return url.strip().lower().startswith(_SAFE_LINKS)


_MD.validateLink = _validate_link  # type: ignore[method-assign]


def render_markdown(text: str) -> Markup:
    """The content as HTML (escaped: nothing of the text becomes markup of its own)."""
    return Markup(_MD.render(text or ""))  # noqa: S704 - html is off, the renderer escapes
