"""The fleet readiness report's table filters in a real browser, offline: typed words and the reason picker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser]

SUB = "0d7c1a2b-0000-4000-8000-000000000001"
OTHER = "0d7c1a2b-0000-4000-8000-000000000002"
READY = {"vmAgent": {"vmAgentVersion": "2.9.1.1", "statuses": [{"code": "ProvisioningState/succeeded",
                                                                "displayStatus": "Ready"}]}}


def vm_row(name: str, sub: str = SUB, **changes: Any) -> dict[str, Any]:
    """A row of kit.azure.fleet_queries.VMS."""
    return {"id": f"/subscriptions/{sub}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/{name}",
            "name": name, "resourceGroup": "rg-web", "subscriptionId": sub, "location": "westeurope",
            "powerState": "PowerState/running", "osType": "Linux", "bootDiagnostics": "true", "bootStorageUri": "",
            "disablePasswordAuthentication": "false", "securityType": "", **changes}

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kit.azure.fleet import FleetCollection, FleetScope
    from kit.report.fleet_readiness import write_collection
    from kit.report.runner import run_report

    root = tmp_path_factory.mktemp("fleet")
    rows = [vm_row("web-ok"), vm_row("web-nopass", disablePasswordAuthentication="true"),
            vm_row("db-off", powerState="PowerState/deallocated", bootDiagnostics="false"),
            vm_row("app-console", sub=OTHER)]
    collection = FleetCollection(scope=FleetScope(subscriptions=(SUB, OTHER)), vms=rows,
                                 agents={r["id"].lower(): READY for r in rows},
                                 agent_subscriptions={SUB, OTHER}, consoles={SUB: True, OTHER: False})
    path = write_collection(collection, root / "fleet-collection.json")
    run = run_report("fleet-readiness", incident="FLEET-B", archive_root=root / "archive",
                     parameters={"collection": str(path)})
    assert run.html is not None
    return run.html


@pytest.fixture(scope="module")
def page(report_html: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        left: list[str] = []
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                      else (left.append(r.request.url), r.abort()))
        opened = context.new_page()
        opened.goto(report_html.as_uri())
        yield opened
        assert not left, f"the report fetched {left}"
        browser.close()


def _visible(page: Any) -> list[str]:
    block = page.locator("[id^=kit-filter-]")
    return [row.locator("td").first.inner_text() for row in block.locator("tbody tr").all() if row.is_visible()]


def test_typed_words_and_the_reason_picker_narrow_the_table(page: Any) -> None:
    block = page.locator("[id^=kit-filter-]")
    assert sorted(_visible(page)) == ["app-console", "db-off", "web-nopass", "web-ok"]
    assert block.locator(".kit-count").inner_text() == "4 of 4 shown"
    block.locator("input").fill("web-")
    assert sorted(_visible(page)) == ["web-nopass", "web-ok"]
    block.locator("select").select_option("ready")
    assert _visible(page) == ["web-ok"]
    block.locator("input").fill("")
    block.locator("select").select_option("serial_console_disabled")
    assert _visible(page) == ["app-console"]
    assert block.locator(".kit-count").inner_text() == "1 of 4 shown"
