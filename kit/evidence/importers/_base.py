"""The importer contract: what an importer finds (:class:`Artifact`), what it provides, and the registry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Artifact", "Importer", "Importers"]


@dataclass(frozen=True)
class Artifact:
    """One thing an importer found.

    Parameters
    ----------
    attribute
        The bundle attribute it fills (``vm``, ``nics``, ``effective_routes``, ``serial_log`` …).
    value
        The canonical (ARM REST) JSON value, or bytes for ``serial_log``/``screenshot``.
    name
        The resource name for folder attributes (``nics/<name>.json``); ``None`` otherwise.
    resource_id
        The ARM id when the content names it.
    """

    attribute: str
    value: Any
    name: str | None = None
    resource_id: str | None = None


@runtime_checkable
class Importer(Protocol):
    """What every importer provides."""

    name: str
    description: str

    def accepts(self, doc: Any) -> bool:
        """Whether ``doc`` (parsed JSON, or bytes for non-JSON files) is this importer's; cheap."""

    def load(self, doc: Any) -> list[Artifact]:
        """The artefacts in ``doc``, in ARM REST shape."""


class Importers:
    """A name → importer registry (instances only)."""

    def __init__(self) -> None:
        self._importers: dict[str, Importer] = {}

    def register(self, importer: Importer) -> Importer:
        """Add ``importer``; ``KeyError`` if one with that name exists."""
        key = importer.name.lower()
        if key in self._importers:
            raise KeyError(f"an importer named {importer.name!r} is already registered")
        self._importers[key] = importer
        return importer

    def deregister(self, name: str) -> None:
        """Remove the importer called ``name`` (for tests)."""
        del self._importers[name.lower()]

    def get(self, name: str) -> Importer:
        """The importer called ``name``; ``KeyError`` naming the known ones otherwise."""
        try:
            return self._importers[name.lower()]
        except KeyError:
            raise KeyError(f"no importer named {name!r}; known: {', '.join(self._importers)}") from None

    def find(self, doc: Any) -> Importer | None:
        """The first importer that accepts ``doc``, or ``None``."""
        for importer in self._importers.values():
            if importer.accepts(doc):
                return importer
        return None

    def __iter__(self) -> Iterator[Importer]:
        return iter(self._importers.values())

    def __len__(self) -> int:
        return len(self._importers)
