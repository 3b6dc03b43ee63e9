"""Scenario data for the lab: one folder per scenario (see docs/architecture.md, "Scenario data").

The files under each ``<name>/`` folder are rendered by :mod:`kit.lab.scenarios.build` from the
story definitions in ``_render/stories/`` and committed; edit the stories, then re-run
``python -m kit.lab.scenarios.build``.
"""

from pathlib import Path

SCENARIOS_DIR = Path(__file__).resolve().parent

__all__ = ["SCENARIOS_DIR"]
