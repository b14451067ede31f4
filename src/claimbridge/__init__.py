"""claimbridge: a secure billing exchange between practices and billing companies.

The package is layered; imports point down only (an import-linter contract
in ``pyproject.toml`` keeps it so)::

    interfaces   api/  web/  cli/
    services     exchange/  billing/  integrity/  vendors/  compliance/  demo/
    gateway      phi/
    security     access/  audit/  crypto/
    storage      storage/
    formats      formats/
    core         config  errors  clock  types

See ``DESIGN.md`` in the docs for the map.
"""

__version__ = "0.1.0"
