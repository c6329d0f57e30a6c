"""Programs run inside a sandbox to try to break out, shared by every backend's hardening tests.

Each prints one JSON object of what it saw; `reported` reads it back.
"""

from __future__ import annotations

import json

from csvanalyst.executors.contract import Outcome

SECRETS = {"OPENAI_API_KEY": "sk-test-openai", "ANTHROPIC_API_KEY": "sk-ant-test", "AWS_SECRET_ACCESS_KEY": "aws-1"}

TRY_READ = """
import json, sys
seen = {}
for path in sys.argv[1:]:
    try:
        seen[path] = open(path).read()[:40]
    except OSError as exc:
        seen[path] = "denied: " + type(exc).__name__
print(json.dumps(seen))
"""


TRY_WRITE = """
import json, sys
seen = {}
for path in sys.argv[1:]:
    try:
        open(path, "w").write("x"); seen[path] = "written"
    except OSError as exc:
        seen[path] = "denied: " + type(exc).__name__
print(json.dumps(seen))
"""


def reported(outcome: Outcome) -> dict[str, object]:
    return json.loads(outcome.stdout)
