"""Package faces that import their names on first use.

For packages whose modules cost real import time (the Azure SDK, papermill, pandas), so that
``import kit.azure`` or ``import kit.report.present`` stays cheap::

    __getattr__, __dir__ = lazy_exports(__name__, {"AzureTarget": "kit.azure.target", ...})

A name is imported once and then cached in the package's namespace. Type checkers see the
names through the package's ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` serving ``name → module`` from ``where``."""
    table = dict(where)

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *table})

    return __getattr__, __dir__
