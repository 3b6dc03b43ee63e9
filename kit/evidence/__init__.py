"""The on-disk evidence bundle: layout, writer, loader, ``az`` importers, summary."""

from __future__ import annotations

from kit.evidence.bundle import Bundle, load_bundle
from kit.evidence.importing import ImportResult, import_folder
from kit.evidence.sas import strip_sas
from kit.evidence.source import EvidenceSource, parse_source
from kit.evidence.summary import summarize
from kit.evidence.writer import BundleWriter

__all__ = [
    "Bundle",
    "BundleWriter",
    "EvidenceSource",
    "ImportResult",
    "import_folder",
    "load_bundle",
    "parse_source",
    "strip_sas",
    "summarize",
]
