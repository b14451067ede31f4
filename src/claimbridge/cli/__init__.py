"""The ``claimbridge`` console command, one module per command group."""
