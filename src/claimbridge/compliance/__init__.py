"""Compliance: accounting of disclosures, breach impact, scheduled reports."""
