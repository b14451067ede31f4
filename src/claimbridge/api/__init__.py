"""The HTTP API under ``/api/v1``: reads input, calls one service, renders the result."""
