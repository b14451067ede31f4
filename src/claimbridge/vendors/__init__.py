"""Vendors: risk assessment, selection, BAAs, the engagement lifecycle and its end.

The gate itself lives below, in ``access/engagements.py``; everything here
writes what it reads, and runs it after every change. See docs/vendors.md.

Questionnaire and scoring (pure):

- ``questionnaires/``: the risk questionnaire as versioned data files in the
  package (one ``<version>.json`` each), the loader that checks them and the
  registry by version id.
- ``scoring.py``: ``score_assessment`` turns answers and evidence into
  inherent and residual risk per section and overall, a rating and the
  reasons behind it; deterministic, ``today`` is a parameter.
- ``answers.py``: answers from JSON, typed for scoring, stored as text.

The assessment workflow:

- ``parties.py``, ``steps.py``: who may see an engagement and take a step
  on it; refusals audited.
- ``assessments.py``: invite, reassess, answer, submit, approve or reject.
- ``evidence.py``: documents behind the answers, sealed under the vendor's key.
- ``reviews.py``: the practice's verdict per question, and remediation.
- ``records.py``, ``views.py``: an assessment read back, as each side sees it.
- ``selection.py``: candidates side by side (pure ``compare`` plus a loader).

Agreements and the watch:

- ``agreements.py``: the signed BAA, its key terms and its sealed document.
- ``overview.py``: engagements as their parties see them (standing, notices).
- ``watch.py``: the sweep (lapses, reminders), delivery, the watcher thread.
- ``notify.py``: store-only, webhook (HMAC-signed) and e-mail notifiers.

The end of an engagement:

- ``offboarding.py``: terminate, export, confirm receipt (the entry points).
- ``terminations.py``: a termination's states and why.
- ``returns.py``: the return package (ZIP + manifest, passphrase-sealed), and
  ``unpack`` for the practice, offline.
- ``shredding.py``: destroy the practice's keys, prove it, certify it.
- ``destruction.py``: the signed certificate of destruction and its offline check.
"""
