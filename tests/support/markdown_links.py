"""Relative links of a Markdown page that lead nowhere: a missing file, or a `#heading` the target lacks.

Pages are parsed with markdown-it (CommonMark, as GitHub renders them), so links inside code blocks are not
links, and headings are read as text. Anchors follow GitHub's rule: the heading's text lower-cased, every
character that is not a letter, digit, space, `-` or `_` dropped, spaces turned into `-`, and `-1`, `-2`, ...
appended to repeated ones.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark").enable("table")
_DROPPED = re.compile(r"[^\w\- ]", re.UNICODE)


def broken_links(page: Path, root: Path) -> list[str]:
    """One line per relative link of `page` whose file or heading does not exist (paths relative to `root`)."""
    problems = []
    for target in _link_targets(page.read_text(encoding="utf-8")):
        problem = _problem(page, target, root)
        if problem:
            problems.append(f"{target}: {problem}")
    return problems


def anchors(text: str) -> set[str]:
    """The `#fragment` of every heading of a page, as GitHub makes them."""
    seen: dict[str, int] = {}
    found = set()
    tokens = _PARSER.parse(text)
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == "heading_open":
            slug = _DROPPED.sub("", _plain(inline).strip().lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def _problem(page: Path, target: str, root: Path) -> str:
    parts = urlsplit(target)
    path, fragment = unquote(parts.path), unquote(parts.fragment)
    file = (page.parent / path).resolve() if path else page.resolve()
    if not file.exists():
        return "no such file"
    if root.resolve() not in file.parents and file != root.resolve():
        return "outside the repository"
    if fragment and file.suffix == ".md" and fragment not in anchors(file.read_text(encoding="utf-8")):
        return f"no heading '{fragment}' in {file.relative_to(root.resolve())}"
    return ""


def _link_targets(text: str) -> Iterator[str]:
    for token in _PARSER.parse(text):
        for child in token.children or []:
            target = child.attrGet("href") if child.type == "link_open" else None
            target = child.attrGet("src") if child.type == "image" else target
            if isinstance(target, str) and _is_relative(target):
                yield target


def _is_relative(target: str) -> bool:
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and bool(parts.path or parts.fragment)


def _plain(inline: Token) -> str:
    """A heading's text as GitHub reads it: code spans and emphasis reduced to their text."""
    return "".join(child.content for child in inline.children or [] if child.type in ("text", "code_inline"))
