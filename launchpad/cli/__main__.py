"""`python -m launchpad.cli ...`: how the Pulumi program and the tests run the command."""

from launchpad.cli import main

main()
