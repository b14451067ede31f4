"""The instance: setting up and opening one claimbridge data directory.

- ``setup.py``  ``init``: the folder, config, database at head, blob folder, TLS
- ``open.py``   what ``serve`` and every command use to reach an instance
"""
