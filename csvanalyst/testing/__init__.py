"""Test support shipped with the package: ScriptedModel, a local wire-format LLM server, fixtures."""
