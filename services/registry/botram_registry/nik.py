"""Kept for `tests/test_simulator_plan.py`, which reads NIKs with it: the NIK rules live in
`botram_registry.domain.nik`. Remove once that test imports from there."""

from botram_registry.domain.nik import parse_nik

__all__ = ["parse_nik"]
