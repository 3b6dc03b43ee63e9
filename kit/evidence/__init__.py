"""The on-disk evidence bundle: layout, writer, loader, ``az`` importers, summary."""

from __future__ import annotations

from kit.evidence.bundle import Bundle, load_bundle
from kit.evidence.importing import ImportResult, import_folder
from kit.evidence.sas import strip_sas
from kit.evidence.summary import summarize
from kit.evidence.writer import BundleWriter

__all__ = ["Bundle", "BundleWriter", "ImportResult", "import_folder", "load_bundle", "strip_sas", "summarize"]
