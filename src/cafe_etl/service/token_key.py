"""The token-key policy: a warehouse keeps the fingerprint of the key its customer tokens
were made with, and refuses a run with another key or none (a silently changed key would
break every repeat-visit figure)."""

from cafe_etl.errors import ConfigError
from cafe_etl.warehouse.base import Warehouse

SETTING = "token_key_fingerprint"


def check_token_key(warehouse: Warehouse, fingerprint: str | None) -> None:
    """Record the key's fingerprint on first use; refuse a key other than the one recorded."""
    with warehouse.transaction():
        warehouse.lock(SETTING)
        rows = warehouse.execute("SELECT value FROM etl_settings WHERE name = ?", (SETTING,))
        stored = rows[0][0] if rows else None
        if stored is None and fingerprint is not None:
            warehouse.execute("INSERT INTO etl_settings VALUES (?, ?)", (SETTING, fingerprint))
    if stored is None:
        return
    if fingerprint is None:
        raise ConfigError(
            f"this warehouse's customer tokens were made with a key (fingerprint {stored}):"
            " set CAFE_ETL_TOKEN_KEY to that key"
        )
    if fingerprint != stored:
        raise ConfigError(
            f"CAFE_ETL_TOKEN_KEY differs from the key this warehouse was loaded with"
            f" (fingerprint {stored}, given {fingerprint}): set it back to the original key"
        )
