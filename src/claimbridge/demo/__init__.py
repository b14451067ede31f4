"""The demo: synthetic, deterministic practices, vendors, users and patients."""
