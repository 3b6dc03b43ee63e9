"""Fixtures for the boot-log tests (helpers live in ``bootlog_data``)."""

from __future__ import annotations

import pytest
from bootlog_data import without_esc


@pytest.fixture(params=["esc", "no-esc"])
def ansi_form(request: pytest.FixtureRequest):
    """Both ANSI forms of a log: with the ESC byte and without it (``[[0;1;31mFAILED``)."""
    return (lambda data: data) if request.param == "esc" else without_esc
