"""Errors that stop a run. Each message is one line that names what to fix.

A bad row or an unreadable file is data, never an exception; these are for settings and
infrastructure (exit code 1), and ``TransientError`` marks what a retry may cure.
"""


class CafeEtlError(Exception):
    """An operational failure: a setting, a path or a warehouse the user must fix."""


class ConfigError(CafeEtlError):
    """A setting is missing or wrong."""


class WarehouseError(CafeEtlError):
    """The warehouse cannot be reached, read or written."""


class TransientError(WarehouseError):
    """A failure a retry may cure (serialization failure, deadlock, lost connection)."""
