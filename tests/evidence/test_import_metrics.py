"""``kit import`` of saved ``az monitor metrics list -o json``: back to the REST shape the collector stores.

The az output is made the way azure-cli makes it: the SDK's model of a real answer (here the lab's,
through azure-mgmt-monitor) printed by a converter that does what ``az``'s ``todict`` does
(datetimes ``isoformat()`` with ``+00:00``, every attribute present, ``null`` included, camelCase
keys, ``resourceGroup`` added to objects with an ``id``), and the interval as the ``h:mm:ss`` text
of the ``timedelta`` az's own SDK model holds (``"interval": "0:01:00"`` in Microsoft's documented output).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.monitor import MonitorManagementClient

from kit.azure.target import AzureTarget
from kit.errors import BundleFormatError
from kit.evidence import import_folder, load_bundle
from kit.evidence.importers.metrics import rest_interval
from kit.evidence.manifest import new_manifest
from kit.evidence.writer import BundleWriter

NAMES = "Percentage CPU,Inbound Flows,VmAvailabilityMetric"


def _camel(key: str) -> str:
    return re.sub(r"_([a-z])", lambda match: match.group(1).upper(), key)


def az_todict(value: Any) -> Any:
    """What ``az … -o json`` prints for an SDK model (azure-cli's ``todict`` and its resource-group transform)."""
    if isinstance(value, dict):
        return {key: az_todict(item) for key, item in value.items()}
    if isinstance(value, list):
        return [az_todict(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if hasattr(value, "__dict__") and not isinstance(value, (str, int, float)):
        out = {_camel(key): az_todict(item) for key, item in sorted(vars(value).items())
               if not key.startswith("_") and key != "additional_properties" and not callable(item)}
        group = re.search(r"/resourceGroups/([^/]+)/", str(out.get("id") or ""), re.IGNORECASE)
        if group is not None:
            out["resourceGroup"] = group.group(1)
        return out
    return value


def az_output(model: Any) -> dict[str, Any]:
    """``az monitor metrics list -o json`` for a ``metrics.list`` model."""
    printed = az_todict(model)
    grain = re.fullmatch(r"PT(\d+)([MH])|P(\d+)D", printed["interval"])
    assert grain is not None
    minutes, unit, days = grain.groups()
    if days:
        span = dt.timedelta(days=int(days))
    else:
        span = dt.timedelta(minutes=int(minutes)) if unit == "M" else dt.timedelta(hours=int(minutes))
    return {**printed, "interval": str(span)}


def _answers(lab: Any, scenario: str, interval: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The VM body, the REST answer and the SDK model of the same ``metrics.list`` call."""
    info = lab.scenario(scenario)
    target = AzureTarget.for_lab(lab)
    client = MonitorManagementClient(target.sync_credential(), info.subscription_id, **target.client_kwargs())
    timespan = f"{info.window_start:%Y-%m-%dT%H:%M:%SZ}/{info.window_end:%Y-%m-%dT%H:%M:%SZ}"
    raw: dict[str, Any] = {}

    def keep(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
        raw.update(pipeline_response.http_response.json())
        return deserialized

    model = client.metrics.list(info.vm_id(info.broken_vm), timespan=timespan, interval=interval, metricnames=NAMES,
                                aggregation="average,maximum,count", cls=keep)
    resources = json.loads((info.path / "resources.json").read_text())["value"]
    vm = next(body for body in resources if body["id"].lower() == info.vm_id(info.broken_vm).lower())
    return vm, raw, model


def test_az_metrics_output_imports_as_the_rest_answer(lab: Any, tmp_path: Path) -> None:
    vm, rest, model = _answers(lab, "kernel-panic", "PT15M")
    printed = az_output(model)
    assert printed["interval"] == "0:15:00" and printed["value"][0]["resourceGroup"] == "rg-historian-prod"
    point = printed["value"][0]["timeseries"][0]["data"][0]
    assert point["timeStamp"].endswith("+00:00") and point["total"] is None  # az's shape, as it prints it
    folder = tmp_path / "az"
    folder.mkdir()
    (folder / "vm.json").write_text(json.dumps(vm))
    (folder / "cpu-and-flows.json").write_text(json.dumps(printed, indent=2))
    result = import_folder(folder, tmp_path / "bundle")
    assert result.recognised["cpu-and-flows.json"] == "metrics"
    bundle = load_bundle(result.bundle)
    assert bundle.metrics == [rest]
    entry = next(item for item in bundle.manifest["files"] if item["path"] == "metrics/1.json")
    assert entry["call"] == "import:metrics" and entry["source_file"] == "cpu-and-flows.json"


def test_several_metrics_files_are_kept_in_file_order(lab: Any, tmp_path: Path) -> None:
    vm, rest, model = _answers(lab, "nsg-deny", "PT1H")
    folder = tmp_path / "az"
    folder.mkdir()
    (folder / "vm.json").write_text(json.dumps(vm))
    saved = []
    for number in range(11):  # 1..11: metrics/10.json and 11.json come after 9.json
        document = az_output(model)
        document["cost"] = number
        saved.append(number)
        (folder / f"m{number:02d}.json").write_text(json.dumps(document))
    bundle = load_bundle(import_folder(folder, tmp_path / "bundle").bundle)
    assert [document["cost"] for document in bundle.metrics] == saved
    assert bundle.metrics[0]["value"] == rest["value"]


def test_a_saved_rest_answer_imports_unchanged(lab: Any, tmp_path: Path) -> None:
    vm, rest, _ = _answers(lab, "nsg-deny", "PT30M")
    folder = tmp_path / "rest"
    folder.mkdir()
    (folder / "vm.json").write_text(json.dumps(vm))
    (folder / "metrics.json").write_text(json.dumps(rest))  # az rest --url …/providers/Microsoft.Insights/metrics
    assert load_bundle(import_folder(folder, tmp_path / "bundle").bundle).metrics == [rest]


def test_a_bundle_without_metrics_has_none(lab: Any, tmp_path: Path) -> None:
    vm, _, _ = _answers(lab, "nsg-deny", "PT1H")
    folder = tmp_path / "az"
    folder.mkdir()
    (folder / "vm.json").write_text(json.dumps(vm))
    assert load_bundle(import_folder(folder, tmp_path / "bundle").bundle).metrics == []


@pytest.mark.parametrize(("text", "iso"), [("0:01:00", "PT1M"), ("0:05:00", "PT5M"), ("0:30:00", "PT30M"),
                                           ("1:00:00", "PT1H"), ("12:00:00", "PT12H"), ("1 day, 0:00:00", "P1D"),
                                           ("PT6H", "PT6H")])
def test_az_intervals_become_iso_durations(text: str, iso: str) -> None:
    assert rest_interval(text) == iso


def _folder_with(tmp_path: Path, vm: dict[str, Any], text: str) -> Path:
    folder = tmp_path / "az"
    folder.mkdir()
    (folder / "vm.json").write_text(json.dumps(vm))
    (folder / "metrics.json").write_text(text)
    return folder


def test_broken_metrics_json_is_named_and_nothing_is_written(lab: Any, tmp_path: Path) -> None:
    vm, rest, _ = _answers(lab, "nsg-deny", "PT1H")
    text = json.dumps(rest, indent=2)
    folder = _folder_with(tmp_path, vm, text[: len(text) // 2])  # cut off half-way, as a failed copy leaves it
    with pytest.raises(BundleFormatError, match=r"metrics.json: malformed JSON at line \d+ column \d+"):
        import_folder(folder, tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize(("change", "named"), [
    (lambda doc: doc["value"][0].update(timeseries="none"), r"value\[0\]\.timeseries is str"),
    (lambda doc: doc["value"][1]["timeseries"][0]["data"][2].update(timeStamp="yesterday"),
     r"value\[1\]\.timeseries\[0\]\.data\[2\]\.timeStamp 'yesterday'"),
    (lambda doc: doc["value"][0]["timeseries"][0]["data"][0].update(average="12%"), r"data\[0\]\.average is '12%'"),
    (lambda doc: doc.update(interval="5 minutes"), r"interval '5 minutes'"),
    (lambda doc: doc["value"][2].update(name=["VmAvailabilityMetric"]), r"value\[2\]\.name is \["),
])
def test_a_metrics_answer_of_the_wrong_shape_is_a_clear_error(lab: Any, tmp_path: Path, change: Any,
                                                              named: str) -> None:
    vm, _, model = _answers(lab, "nsg-deny", "PT1H")
    printed = az_output(model)
    change(printed)
    folder = _folder_with(tmp_path, vm, json.dumps(printed))
    with pytest.raises(BundleFormatError, match=r"metrics.json: looks like 'metrics' output but a field has the "
                                                r"wrong shape \(ValueError: .*" + named):
        import_folder(folder, tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


def _bundle_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A bundle (hashes right) holding ``files`` beside a VM model."""
    manifest = new_manifest(source="import", subscription_id="11111111-2222-3333-4444-555555555555",
                            resource_group="rg", vm_name="web-01", vm_id="/subscriptions/11111111-2222-3333-4444-"
                            "555555555555/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-01",
                            window={"start": None, "end": None})
    with BundleWriter(tmp_path / "bundle") as writer:
        writer.add_json("vm.json", {"name": "web-01"}, call="virtual_machines.get")
        for path, data in files.items():
            writer.add_bytes(path, data, call="metrics.list")
        return writer.commit(manifest)


@pytest.mark.parametrize(("data", "message"), [
    (b'{"cost": 1, "value": [', r"bundle/metrics/2.json: malformed JSON at line 1 column \d+"),
    (b'[{"cost": 1}]', r"bundle/metrics/2.json: expected a JSON object, got a list"),
])
def test_a_broken_metrics_file_in_a_bundle_is_named_when_read(tmp_path: Path, data: bytes, message: str) -> None:
    good = json.dumps({"cost": 0, "timespan": "a/b", "interval": "PT1M", "value": []}).encode()
    bundle = load_bundle(_bundle_with(tmp_path, {"metrics/1.json": good, "metrics/2.json": data}))
    with pytest.raises(BundleFormatError, match=message):
        _ = bundle.metrics
