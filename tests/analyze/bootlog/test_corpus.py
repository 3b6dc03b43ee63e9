"""The documented-message corpus: a real-form line per message the field's tools and Microsoft's
articles document, each with its source, and how many the rules recognise with the right family.

``corpus/<family>.jsonl`` rows: ``{"kind": "boot:<family>:<what>", "line": "...", "source": "URL or rule"}``.
A line counts as recognised when the parser gives it a finding or event of the row's family.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from kit.analyze.bootlog import parse_boot_log

CORPUS = Path(__file__).parent / "corpus"
ROWS = [(path.stem, json.loads(text)) for path in sorted(CORPUS.glob("*.jsonl"))
        for text in path.read_text().splitlines() if text.strip()]
#: Share of each family's documented messages the rules must recognise.
MINIMUM = 0.95


def _family(kind: str) -> str:
    return kind.split(":")[1]


def _recognised(row: dict[str, str]) -> bool:
    report = parse_boot_log(row["line"].encode() + b"\r\n")
    last = row["line"].count("\n") + 1
    return any(_family(event.kind) == _family(row["kind"]) for event in report.events if event.line == last)


def test_every_row_names_its_source_and_a_kind_of_its_file() -> None:
    assert len(ROWS) >= 100
    for family, row in ROWS:
        assert row["source"].strip() and row["line"].strip(), row
        assert row["kind"].startswith("boot:") and _family(row["kind"]) == family, row


@pytest.mark.parametrize("family", sorted({family for family, _ in ROWS}))
def test_the_rules_recognise_95_percent_of_each_family(family: str) -> None:
    rows = [row for name, row in ROWS if name == family]
    missed = [row["line"] for row in rows if not _recognised(row)]
    score = 1 - len(missed) / len(rows)
    assert score >= MINIMUM, f"{family}: {score:.0%} of {len(rows)} recognised; missed: {missed}"


def test_the_whole_corpus_score() -> None:
    per_family: dict[str, list[bool]] = defaultdict(list)
    for family, row in ROWS:
        per_family[family].append(_recognised(row))
    total = sum(sum(found) for found in per_family.values()) / len(ROWS)
    assert total >= MINIMUM, {family: f"{sum(found)}/{len(found)}" for family, found in per_family.items()}
