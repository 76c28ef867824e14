"""A raw file as the transform side leaves it for the load side: its clean tables as Parquet
objects, and one small message (JSON, well under SQS's 256 KB) with what the ledger needs.

The message holds the file's name, raw location (with its S3 version), checksum, event
sequencer, summary counts and the token key's fingerprint; never a row, a customer name or a
card number. Rows, rejected rows included, are only in the Parquet objects.
"""

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cafe_etl.errors import CafeEtlError
from cafe_etl.model import FileSummary

TABLES = ("transactions", "basket_items", "rejected_rows", "branches", "products")
"""The clean tables of a file, one Parquet object each (only those holding rows)."""
FORMAT = 1


class BadMessage(CafeEtlError):
    """A queue message that is not a staged file this version understands."""


@dataclass(frozen=True)
class StagedObject:
    uri: str
    size: int
    """Bytes: Redshift's manifest needs ``content_length`` for Parquet."""


@dataclass(frozen=True)
class StagedFile:
    """One version of one raw file, transformed: what its load needs."""

    name: str
    source_uri: str
    sha256: str
    file_id: int
    summary: FileSummary
    sequencer: str | None = None
    """The S3 event's sequencer: orders versions of one key."""
    key_fingerprint: str | None = None
    objects: dict[str, StagedObject] = field(default_factory=dict)

    def to_json(self) -> str:
        summary = self.summary
        return json.dumps({
            "format": FORMAT, "name": self.name, "source_uri": self.source_uri,
            "sha256": self.sha256, "file_id": self.file_id, "sequencer": self.sequencer,
            "key_fingerprint": self.key_fingerprint,
            "summary": {
                "rows_read": summary.rows_read, "rows_loaded": summary.rows_loaded,
                "rows_rejected": summary.rows_rejected, "variant": summary.variant,
                "reason": summary.reason, "branch_ids": sorted(summary.branch_ids),
                "business_dates": sorted(d.isoformat() for d in summary.business_dates),
                "rejects": dict(summary.rejects),
            },
            "objects": {t: [o.uri, o.size] for t, o in self.objects.items()},
        }, separators=(",", ":"))  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> "StagedFile":
        """The staged file a message describes; ``BadMessage`` for anything else."""
        try:
            body = json.loads(text)
            if body.get("format") != FORMAT:
                raise ValueError(f"format {body.get('format')!r}")
            return cls(
                name=str(body["name"]), source_uri=str(body["source_uri"]),
                sha256=str(body["sha256"]), file_id=int(body["file_id"]),
                summary=_summary(body["summary"]), sequencer=body.get("sequencer"),
                key_fingerprint=body.get("key_fingerprint"),
                objects={str(t): StagedObject(str(u), int(s))
                         for t, (u, s) in body["objects"].items() if t in TABLES},
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problem = f"{type(error).__name__}: {error}"
            raise BadMessage(f"not a staged-file message ({problem})") from None


def _summary(body: dict[str, Any]) -> FileSummary:
    summary = FileSummary(
        rows_read=int(body["rows_read"]), rows_loaded=int(body["rows_loaded"]),
        rows_rejected=int(body["rows_rejected"]), variant=body["variant"], reason=body["reason"],
    )  # fmt: skip
    summary.branch_ids.update(int(b) for b in body["branch_ids"])
    summary.business_dates.update(date.fromisoformat(d) for d in body["business_dates"])
    summary.rejects.update({str(k): int(v) for k, v in body["rejects"].items()})
    return summary


def sequencer_order(sequencer: str | None, width: int = 32) -> str:
    """A sort key for S3 event sequencers of one key: hex strings compared after padding to
    equal length (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
    Sequencers are compared only between events of the same key; none sorts first."""
    return (sequencer or "").upper().rjust(width, "0")


def newer(sequencer: str | None, than: str | None) -> bool:
    """True when ``sequencer`` orders after ``than`` (both of events for one key)."""
    if sequencer is None or than is None:
        return False
    width = max(len(sequencer), len(than))
    return sequencer_order(sequencer, width) > sequencer_order(than, width)
