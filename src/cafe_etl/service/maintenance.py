"""Putting right what is loaded: forget a file, find the raw files to load again."""

from cafe_etl.errors import ConfigError
from cafe_etl.extract import sources as storage
from cafe_etl.extract.sources import Source
from cafe_etl.load import ledger
from cafe_etl.load.unit_of_work import Hook, UnitOfWork
from cafe_etl.model import FileStatus, LedgerRow
from cafe_etl.warehouse.base import Warehouse


class Maintenance:
    def __init__(self, warehouse: Warehouse, *, hook: Hook | None = None) -> None:
        self.warehouse = warehouse
        self._hook = hook

    def forget(self, name: str) -> LedgerRow:
        """Remove everything one file loaded and mark it ``forgotten`` in the ledger."""
        with UnitOfWork(self.warehouse, hook=self._hook) as work:
            self.warehouse.lock(f"name:{name}")  # a loader of this name waits, and vice versa
            versions = ledger.versions_of(self.warehouse, name)
            current = versions[-1] if versions else None
            if current is None or current.status == FileStatus.FORGOTTEN:
                raise ConfigError(f"no file named {name!r} is loaded: see cafe-etl status")
            work.remove(current.file_id, current.business_date)
            work.set_status(current.file_id, FileStatus.FORGOTTEN)
            work.commit()
        return current

    def sources_to_reprocess(self, names: list[str] | None) -> list[Source]:
        """The raw sources behind the named files (every file not forgotten when ``None``)."""
        current = ledger.current_files(self.warehouse)
        if names is None:
            rows = [row for row in current if row.status != FileStatus.FORGOTTEN]
        else:
            by_name = {row.file_name: row for row in current}
            missing = [name for name in names if name not in by_name]
            if missing:
                raise ConfigError(
                    f"no file named {missing[0]!r} in the ledger: see cafe-etl status"
                )
            rows = [by_name[name] for name in names]
        return [storage.open_uri(row.source_uri) for row in rows]
