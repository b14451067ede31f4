"""Pages for people (Jinja2 + htmx): read input, call one service, render."""
