"""Importers for non-JSON files: the serial (boot) log and the boot screenshot."""

from __future__ import annotations

import re
from typing import Any

from kit.evidence.importers._base import Artifact, Importers

__all__ = ["BootLogImporter", "ScreenshotImporter", "register"]

#: lines that only a console/boot log has (Linux kernel, systemd, GRUB, cloud-init, Windows SAC)
_BOOT_MARKERS = re.compile(
    rb"(\[\s*\d+\.\d{6}\]|Linux version \d|systemd\[1\]|GNU GRUB|cloud-init\[|Booting `|login: ?$|"
    rb"Hyper-V|hv_vmbus|Special Administration Console|SAC>|Computer is booting|EVENT: The CMD command)",
    re.MULTILINE,
)


class BootLogImporter:
    """``az vm boot-diagnostics get-boot-log`` saved as text (or as the JSON string az prints)."""

    name = "boot-log"
    description = "az vm boot-diagnostics get-boot-log (raw serial log text)"

    def accepts(self, doc: Any) -> bool:
        """Text (bytes or a JSON string) with kernel, systemd, GRUB, cloud-init or SAC lines."""
        if isinstance(doc, str):
            doc = doc.encode("utf-8", "surrogateescape")
        return isinstance(doc, bytes) and not doc.startswith(b"BM") and bool(_BOOT_MARKERS.search(doc[:1 << 20]))

    def load(self, doc: Any) -> list[Any]:
        """The log bytes, unchanged."""
        data = doc.encode("utf-8") if isinstance(doc, str) else doc
        return [Artifact("serial_log", data)]


class ScreenshotImporter:
    """The boot-diagnostics screenshot (a BMP file)."""

    name = "screenshot"
    description = "boot diagnostics screenshot (.bmp)"

    def accepts(self, doc: Any) -> bool:
        """Bytes starting with the BMP signature."""
        return isinstance(doc, bytes) and doc.startswith(b"BM") and len(doc) > 26

    def load(self, doc: Any) -> list[Any]:
        """The image bytes."""
        return [Artifact("screenshot", doc)]


def register(registry: Importers) -> None:
    """Add the file importers to ``registry``."""
    registry.register(BootLogImporter())
    registry.register(ScreenshotImporter())
