"""Boot-log rules, one module per message family; importing this package registers them all.

Each module declares its family as a :class:`Rule` of :class:`Signature` objects and registers
it at its bottom. Every module of this package whose name does not start with ``_`` is a family
and is imported here, in name order (the order only matters for display: every rule sees every
line that holds one of its literals).
"""

import importlib
import pkgutil

from kit.analyze.bootlog.rules._base import REGISTRY, Context, Hit, Rule, RuleRegistry, Signature, register

__all__ = ["FAMILIES", "REGISTRY", "Context", "Hit", "Rule", "RuleRegistry", "Signature", "register"]

#: The family modules, in import order.
FAMILIES: tuple[str, ...] = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))
for _family in FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")
