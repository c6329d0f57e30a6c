"""Sandboxes that run the runner: local, docker, microsandbox, kubernetes."""
