"""Logging and metrics shared by the long-running front ends."""
