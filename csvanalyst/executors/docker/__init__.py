"""The Docker backend: one locked-down container per run from the locally built runner image, with a warm pool."""
