"""Access: identity, authentication and the policy of who may do what.

Roles per organisation map to permissions (``scope:resource:action``) and
field views. Decisions are values; enforcement raises ``AccessDenied``.
"""
