"""Permissions (CONTRACT §5): who acts (``Actor``), roles and their grants, joint
followers, and the one access policy every service asks (``policy.AccessPolicy``),
which reads the superior chain and the department tree (``storage.hierarchy``).
Its JSON API is ``propolis.platform.api.permissions``."""
