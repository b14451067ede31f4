"""Billing: claims, 837P generation, 835 remittance posting, KPIs."""
