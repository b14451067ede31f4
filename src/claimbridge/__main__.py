"""``python -m claimbridge`` is the ``claimbridge`` command."""

from claimbridge.cli.main import main

main()
