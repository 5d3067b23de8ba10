"""Finding a table's extract files in the landing folder, and fingerprinting them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipelines.contract import TABLES, Table

EXTRACT_SUFFIXES = (".csv", ".parquet", ".jsonl")


@dataclass(frozen=True)
class LandedFile:
    """An extract file: its absolute path, its path relative to the landing folder, its size and
    modification time; its content hash is read (the whole file) only when asked for."""

    path: Path
    relative_path: str
    size: int
    mtime_ns: int

    @cached_property
    def content_hash(self) -> str:
        return file_hash(self.path)


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of a drop, whatever its name or time stamp."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_files(landing_dir: Path, table: Table) -> list[LandedFile]:
    """Every extract file of ``table`` (sub-folders included), sorted by relative path.

    Relative paths use ``/`` so that the change-data tie-break (path order) is the same on
    every machine.
    """
    folder = landing_dir / table.source / table.name
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXTRACT_SUFFIXES]
    landed = []
    for path in files:
        stat = path.stat()
        landed.append(
            LandedFile(path, path.relative_to(landing_dir).as_posix(), stat.st_size, stat.st_mtime_ns)
        )
    return sorted(landed, key=lambda f: f.relative_path.encode())


def listing_fingerprint(files: list[LandedFile]) -> str:
    """A fingerprint of files as listed (path, size, modification time), none of them read: what
    ingestion trusts to know that a file it loaded is unchanged."""
    digest = hashlib.sha256()
    for landed in files:
        digest.update(f"{landed.relative_path}\0{landed.size}\0{landed.mtime_ns}\n".encode())
    return digest.hexdigest()


EMPTY_LISTING = listing_fingerprint([])  # a table with no file


def landing_fingerprint(listings: dict[str, str]) -> str:
    """One fingerprint of the landing folder from each contract table's ``listing_fingerprint``
    ({table's qualified name: listing}); a table missing from ``listings`` counts as no file."""
    digest = hashlib.sha256()
    for spec in TABLES:
        listing = listings.get(spec.qualified_name, EMPTY_LISTING)
        digest.update(f"{spec.qualified_name}\0{listing}\n".encode())
    return digest.hexdigest()


def listed_landing(landing_dir: Path) -> str:
    """``landing_fingerprint`` of the landing folder as it is now."""
    return landing_fingerprint(
        {t.qualified_name: listing_fingerprint(table_files(landing_dir, t)) for t in TABLES}
    )
