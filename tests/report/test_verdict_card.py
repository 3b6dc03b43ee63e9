"""The verdict card's words: escaped evidence, 'none' said plainly, the change or its absence."""

from __future__ import annotations

from datetime import UTC, datetime

from kit.analyze.attribution import Attribution
from kit.report.verdict_card import card

TOP = {"kind": "nsg_deny", "level": "platform", "confidence": 0.8399, "summary": "<script>alert(1)</script> denies",
       "next_step": "change_nsg", "next_step_text": "change it", "commands": ["az network nsg rule show -n <x>"],
       "contradicting": [{"summary": "Resource Health says <b>Available</b>"}]}


def test_evidence_text_is_escaped_and_confidence_printed_as_the_cli_does() -> None:
    change = Attribution(datetime(2026, 11, 25, 9, 14, 27, tzinfo=UTC), "<img src=x>", None,
                         "Microsoft.Network/networkSecurityGroups/securityRules/write", None, "Succeeded",
                         "network diff")
    page = card(TOP, change, vm="vm<1>", subscription="sub")
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; denies" in page
    assert "confidence 0.84" in page
    assert "&lt;img src=x&gt; · 2026-11-25 09:14:27 UTC · Microsoft.Network" in page
    assert "Resource Health says &lt;b&gt;Available&lt;/b&gt;" in page
    assert "az network nsg rule show -n &lt;x&gt;" in page and 'class="kit-copy"' in page


def test_no_fault_says_level_none_and_no_attributable_change() -> None:
    page = card({"kind": "no_fault_found", "level": "none", "confidence": 0.8, "summary": "Every check passed"},
                None, vm="vm", subscription=None)
    assert "none: no fault named" in page
    assert "no attributable change in the Activity Log" in page
    assert "nothing contradicts it; a serial-console session or more evidence would" in page


def test_a_saved_attribution_reads_the_same_as_a_live_one() -> None:
    saved = {"time": "2026-11-24T21:46:58.413698+00:00", "caller": "9d2f", "caller_name": "sp-climsim-gitops",
             "operation": "Microsoft.Compute/virtualMachines/runCommand/action", "status": "Succeeded"}
    live = Attribution(datetime.fromisoformat(saved["time"]), "9d2f", "sp-climsim-gitops", saved["operation"], None,
                       "Succeeded", "verdict evidence")
    assert live.text in card(TOP, saved, vm="vm", subscription=None)
