"""Importers: recognise saved ``az … -o json`` outputs (or raw ARM bodies) by content.

A papermill-shaped registry of instances that follow the :class:`Importer` protocol:
a unique ``name``, a cheap ``accepts(doc)`` and ``load(doc)`` returning
:class:`Artifact` s in the canonical ARM REST shape. :data:`IMPORTERS` holds the built-in
ones; a duplicate name raises ``KeyError``. The first importer that accepts a document
loads it, in registration order.
"""

from __future__ import annotations

from kit.evidence.importers import arm, files, metrics
from kit.evidence.importers._base import Artifact, Importer, Importers

__all__ = ["IMPORTERS", "Artifact", "Importer", "Importers"]

#: The built-in importers, in the order they are asked.
IMPORTERS = Importers()
arm.register(IMPORTERS)
files.register(IMPORTERS)
metrics.register(IMPORTERS)
