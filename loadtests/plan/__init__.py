"""Presets and scenarios: what a run measures, and in which order."""
