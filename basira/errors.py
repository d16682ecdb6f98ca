"""Moved to basira.core.errors; this shim keeps in-flight imports working until the redesign's last slice."""

from basira.core.errors import BasiraError, InputError  # noqa: F401
