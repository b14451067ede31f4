"""Vendors: risk questionnaires, scoring, BAAs and the engagement lifecycle.

- ``questionnaires/``: the risk questionnaire as versioned data files in the
  package (one ``<version>.json`` each), the loader that checks them and the
  registry by version id. Pure.
- ``scoring.py``: ``score_assessment`` turns answers and evidence into
  inherent and residual risk per section and overall, a rating and the
  reasons behind it. Pure and deterministic; ``today`` is a parameter.
"""
