"""The Kubernetes backend: one Job per run in a cluster, watched to its end."""
