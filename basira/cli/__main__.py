"""`python -m basira.cli ...`: the same app as the `basira` entry point."""

from basira.cli import main

main()
