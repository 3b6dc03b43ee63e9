"""``__all__`` of the collection and evidence packages names exactly what can be imported."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["kit.azure", "kit.azure.target", "kit.azure.credentials", "kit.azure.errors",
                                    "kit.azure.collect", "kit.evidence", "kit.evidence.bundle",
                                    "kit.evidence.writer", "kit.evidence.importers", "kit.evidence.importing",
                                    "kit.evidence.sas", "kit.evidence.summary", "kit.evidence.manifest"])
def test_all_names_are_importable_and_sorted(module: str) -> None:
    loaded = importlib.import_module(module)
    assert loaded.__all__ == sorted(loaded.__all__)
    for name in loaded.__all__:
        assert getattr(loaded, name) is not None, name


def test_importing_ids_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    code = "import sys, kit.azure.ids, kit.evidence.bundle; print(any(m.startswith('azure.') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "False"
