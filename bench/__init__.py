"""Benchmarks run by `make bench`: each measured against a baseline in the same run, reported as ratios."""
