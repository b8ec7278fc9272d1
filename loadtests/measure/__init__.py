"""Servers, load generation, sampling, validity and the runner that measures cells."""
