"""One function per command, end to end: provision → audit → measure → analysis → report.

The CLI is a thin layer over these functions; each can be called from Python too.
"""
