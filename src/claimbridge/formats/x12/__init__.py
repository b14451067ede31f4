"""X12 5010: streaming, validating readers and writers for 837P, 837I, 835 and 999.

Bytes or binary streams in, typed frozen records out; no database, no
configuration. The map of the package:

* ``isa``        the fixed-width ISA header and the separators it names
* ``lexer``      chunked splitting of a stream into segments
* ``errors``     the error tree, each error with its position and 999/TA1 codes
* ``envelope``   ISA/IEA, GS/GE, ST/SE checks and their 999-shaped results
* ``reader``     ``read_transactions``: the driver that hands each set's body
                 to the reader of its kind and collects results per set
* ``context``    ``TransactionContext``: what a set's reader is told, and how it reports
* ``writer``     ``write_interchange``: ST/SE, GS/GE, ISA/IEA around set bodies
* ``x837p``, ``x837i``, ``write837p`` (+ ``records837`` …)  claims, 005010X222A1 / X223A2
* ``x835``, ``segments835``, ``values835``, ``records835``, ``write835``
                 remittances, 005010X221A1, with balancing
* ``x999``, ``write999``  implementation acknowledgments, 005010X231A1, and TA1

Every reader returns a ``Reading``: iterate it for records, then look at
``.results`` (one ``SetResult`` per transaction set: accepted, accepted
with errors, or rejected, each error with its position) or call
``.raise_for_errors()``. Only ``X12Error`` is ever raised for bad input.
"""

from __future__ import annotations

from claimbridge.formats.x12.envelope import GroupResult, InterchangeResult, Outcome, SetResult
from claimbridge.formats.x12.errors import Position, X12Error
from claimbridge.formats.x12.lexer import DEFAULT_SEPARATORS, Segments, Separators, tokenize
from claimbridge.formats.x12.reader import Reading, TransactionContext, read_transactions
from claimbridge.formats.x12.records835 import (
    ClaimPayment,
    Payment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from claimbridge.formats.x12.write835 import write_835
from claimbridge.formats.x12.write837p import write_837p
from claimbridge.formats.x12.write999 import acknowledge, write_999, write_ta1
from claimbridge.formats.x12.writer import OutgoingSet, write_interchange
from claimbridge.formats.x12.x835 import check_balance, read_835
from claimbridge.formats.x12.x837i import InstitutionalClaim, read_837i
from claimbridge.formats.x12.x837p import ProfessionalClaim, read_837p
from claimbridge.formats.x12.x999 import Acknowledgment, SetAcknowledgment, read_999

__all__ = [
    "DEFAULT_SEPARATORS",
    "Acknowledgment",
    "ClaimPayment",
    "GroupResult",
    "InstitutionalClaim",
    "InterchangeResult",
    "Outcome",
    "OutgoingSet",
    "Payment",
    "Position",
    "ProfessionalClaim",
    "ProviderAdjustment",
    "Reading",
    "Remittance",
    "Segments",
    "Separators",
    "ServicePayment",
    "SetAcknowledgment",
    "SetResult",
    "TransactionContext",
    "X12Error",
    "acknowledge",
    "check_balance",
    "read_835",
    "read_837i",
    "read_837p",
    "read_999",
    "read_transactions",
    "tokenize",
    "write_835",
    "write_837p",
    "write_999",
    "write_interchange",
    "write_ta1",
]
