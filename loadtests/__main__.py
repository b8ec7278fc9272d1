"""`python -m loadtests` is the `gil-lab` command."""

from .cli import main

main()
