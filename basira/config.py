"""Moved to basira.core.settings; this shim keeps in-flight imports working until the redesign's last slice."""

from basira.core.settings import DEFAULT_DB_PATH, Settings, settings  # noqa: F401
