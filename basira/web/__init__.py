"""web — see docs/ and the issue tracker for what lands here."""
