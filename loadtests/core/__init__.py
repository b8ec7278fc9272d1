"""Errors, paths, progress and the other pieces every stage shares. Imports nothing of the lab."""
