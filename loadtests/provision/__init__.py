"""Interpreters (found or built), environments, doctor. Standard library only: runs before any venv."""
