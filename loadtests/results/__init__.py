"""Typed records of a run, their JSON, the run store and the history."""
