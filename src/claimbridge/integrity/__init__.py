"""Claim integrity: rules that catch unbundling, upcoding and services not provided."""
