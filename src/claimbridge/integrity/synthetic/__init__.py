"""Labelled synthetic claim sets: clean claims, violations injected at known rates, their labels.

``labelled_claims(seed, claims=..., providers=..., rates=Rates())`` builds,
from its seed alone, ``ScrubClaim`` records, the reference tables they
are scrubbed against (NCCI PTP and MUE, the LEIE, the encounter log,
earlier batches), a ``ScrubContext`` holding them, and one ``Label`` for
each finding a correct scrub makes (a claim with no attested visit has
one per line, as the rule reports it; a shifted provider one). Clean
claims get none. ``evaluate(labelled, findings)`` sets a scrub's findings
against the labels: precision and recall per family of rules
(``bench/bench_integrity.py``, ``tests/unit/integrity``).

The world is one quarter, January to March of the fiscal year of the
shipped ICD-10-CM release (so no diagnosis is checked against another
year's codes), scrubbed on 15 April under a commercial payer's 90-day
filing limit (a year-old service would fall in another fiscal year), the
practice's encounter log kept since 1 November.

Clean claims are clean under every rule by construction: one claim per
patient, provider and date, so no two meet on a service day; an E/M
visit and up to two procedures, at most one of them a column 1 code of
the PTP table, the others codes no edit names (numbers from ``FREE_FROM``),
so no edit can join two of them; units within the MUE; billable ICD-10-CM
codes, valid NPIs, no timed codes, received within 30 days, every visit
attested. The PTP table is the first ``ptp_pairs`` edits of
``synthetic_ptp_edits(seed=seed)`` and the MUE table
``synthetic_mue_edits(mue_codes, seed=seed)``: the labels hold against any
longer prefix of that PTP table up to ``MAX_PTP_PAIRS``, and the claims'
lookups take the same paths in it (the benchmark's two million pairs).

Each family's violations (``Rates``: a share of claims; for ``hours`` and
``upcoding`` a share of providers) cycle through their kinds, at least one
of each. Decoys look like violations and are not (an indicator 1 pair
with modifier 59, a provider reinstated before the service, exactly 24
hours): a rule that over-reaches loses precision on them. Upcoding
providers move each E/M visit up one level with probability
``upcoding_shift``; the others draw from their specialty's peer mix. Each
bills 300 to 1,500 visits a quarter, those not in the set given as
``em_history``.

The map:

* ``generate``    ``labelled_claims`` and ``Rates``: the plan of kinds, run, and the set finished
* ``coding``      the kinds of NCCI, MUE, duplicate and code violations, and their decoys
* ``encounters``  the kinds of excluded-provider, date, encounter and hours violations, and decoys
* ``builder``     ``Builder``: patients, claims on days of their own, the encounter log, history
* ``world``       the quarter, the PTP and MUE tables of a seed, the providers and their E/M mixes
* ``labels``      ``Label``, ``LabelledSet``, and ``evaluate``: findings scored against the labels
"""

from __future__ import annotations

from claimbridge.integrity.synthetic.coding import HEADER_DIAGNOSES, UNKNOWN_DIAGNOSES
from claimbridge.integrity.synthetic.generate import Rates, labelled_claims
from claimbridge.integrity.synthetic.labels import (
    FAMILIES,
    Evaluation,
    Label,
    LabelledSet,
    Score,
    evaluate,
    family_of_rule,
    finding_key,
)
from claimbridge.integrity.synthetic.world import (
    BILLABLE,
    FREE_FROM,
    MAX_PTP_PAIRS,
    shifted_shares,
)

__all__ = [
    "BILLABLE",
    "FAMILIES",
    "FREE_FROM",
    "HEADER_DIAGNOSES",
    "MAX_PTP_PAIRS",
    "UNKNOWN_DIAGNOSES",
    "Evaluation",
    "Label",
    "LabelledSet",
    "Rates",
    "Score",
    "evaluate",
    "family_of_rule",
    "finding_key",
    "labelled_claims",
    "shifted_shares",
]
