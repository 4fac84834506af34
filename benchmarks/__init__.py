"""Botram's benchmarks: run with `python -m benchmarks.<name>` from the repository root."""
