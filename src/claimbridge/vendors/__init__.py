"""Vendors: risk questionnaires, scoring, BAAs and the engagement lifecycle."""
