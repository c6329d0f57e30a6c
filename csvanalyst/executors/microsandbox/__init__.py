"""The microsandbox backend: one microVM per run from a root filesystem built from the runner image."""
