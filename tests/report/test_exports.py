"""kit.report's modules export exactly their public names."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = ["kit.report", "kit.report.archive", "kit.report.runner", "kit.report.params", "kit.report.present",
           "kit.report.sources", "kit.report.triage", "kit.report.sections", "kit.report.network_view",
           "kit.report.postmortem", "kit.report.export", "kit.report.kernel", "kit.report.demo"]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_and_public_definitions_are_listed(name: str) -> None:
    module = importlib.import_module(name)
    assert all(hasattr(module, item) for item in module.__all__)
    if name == "kit.report":
        return
    defined = {n for n, obj in vars(module).items()
               if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
               and obj.__module__ == name}
    assert defined <= set(module.__all__), defined - set(module.__all__)
