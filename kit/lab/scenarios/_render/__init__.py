"""Renderers behind ``python -m kit.lab.scenarios.build`` (deterministic: no clock, seeded randomness)."""

__all__: list[str] = []
