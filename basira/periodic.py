"""Moved to basira.core.periodic; this shim keeps in-flight imports working until the redesign's last slice."""

from basira.core.periodic import PeriodicLoop  # noqa: F401
