"""The `gil-lab` command line: thin click commands over the workflow functions."""
