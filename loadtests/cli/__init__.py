"""The `gil-lab` command line: thin click commands over the workflow functions.

``main.py`` holds the group; each command module parses its options and calls one
workflow function. ``bootstrap.py`` is the standard-library entry point ``make setup``
runs before any environment (and so before click) exists: nothing here imports click
at package import time.
"""
