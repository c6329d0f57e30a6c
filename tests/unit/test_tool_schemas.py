"""The tool schemas a model is sent: flat (no `$ref`, `$defs` or `title`) and every parameter described."""

from __future__ import annotations

import json

from csvanalyst.agent.flat_schema import flat_schema, undescribed
from csvanalyst.agent.tools import tool_specs


def test_every_tool_schema_is_flat_and_described() -> None:
    for spec in tool_specs(python=True):
        text = json.dumps(spec.parameters)
        assert "$ref" not in text and "$defs" not in text and '"title"' not in text, spec.name
        assert undescribed(spec.parameters) == [], spec.name
        assert spec.description and "docstring" not in spec.description


def test_plan_schema_keeps_its_structure_when_flattened() -> None:
    plan = tool_specs()[0].parameters["properties"]["plan"]
    assert plan["required"] == ["table"]
    filters = plan["properties"]["filters"]["items"]["anyOf"]
    assert {"column", "op", "value"} <= set(filters[0]["properties"])
    assert "any" in filters[1]["properties"]


def test_recursion_is_cut_and_null_branches_dropped() -> None:
    schema = {
        "$defs": {"Node": {"title": "Node", "type": "object", "properties": {
            "child": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}], "description": "a child"}}}},
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Node", "description": "the root"}},
    }  # fmt: skip
    flat = flat_schema(schema)
    child = flat["properties"]["root"]["properties"]["child"]
    assert child == {"type": "object", "description": "a child"}
    assert "title" not in json.dumps(flat)
