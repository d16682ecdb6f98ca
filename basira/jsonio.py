"""Moved to basira.core.jsonio; this shim keeps in-flight imports working until the redesign's last slice."""

from basira.core.jsonio import atomic_output, iter_jsonl  # noqa: F401
