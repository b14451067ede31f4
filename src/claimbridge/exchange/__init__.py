"""Exchange: signed batches in, signed receipts out, atomic ingest."""
