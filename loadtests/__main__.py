"""`python -m loadtests` is the `gil-lab` command."""

from loadtests.cli.main import main

main()
