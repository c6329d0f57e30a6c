"""Datasets: registry, ingest + schema sniffing, profiling, the demo generator."""
