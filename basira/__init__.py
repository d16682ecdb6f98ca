"""Basira (بصيرة): find and stop online terrorist recruitment without silencing those who write about it."""

__version__ = "0.1.0"
