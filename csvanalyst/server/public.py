"""What the server says about itself to a browser or an API client: file names, never server paths,
and request fields, never the CLI's flags (a web user has no `--name`).

Errors and schemas are written once, for every front end; this is the web's reading of them.
"""

from __future__ import annotations

import re
from typing import Any

# An absolute POSIX path of two or more parts (not part of a URL or a MIME type like text/csv).
_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"`(),;]+/)+([^\s/'\"`(),;]+)")
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
# Keys of a schema that name where the server keeps things.
_SERVER_KEYS = ("cache", "source", "original_file")


def public_text(text: str) -> str:
    """`/srv/…/uploads/3f…/x.csv is not a CSV file` → `x.csv is not a CSV file`; `--name` → the `name` field."""
    text = _PATH.sub(lambda m: m.group(1), text)
    return _FLAG.sub(lambda m: f"the `{m.group(1).replace('-', '_')}` field", text)


def public_schema(value: Any) -> Any:
    """A dataset description without server paths: `file` becomes the file's name, caches are dropped."""
    if isinstance(value, list):
        return [public_schema(v) for v in value]
    if not isinstance(value, dict):
        return value
    cleaned = {k: public_schema(v) for k, v in value.items() if k not in _SERVER_KEYS}
    if isinstance(cleaned.get("file"), str):
        cleaned["file"] = cleaned["file"].replace("\\", "/").rsplit("/", 1)[-1]
    return cleaned
