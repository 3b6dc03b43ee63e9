"""Azure Monitor platform metrics of the lab's VMs: ``{resourceUri}/providers/Microsoft.Insights/metrics``
and ``…/metricDefinitions``, in the REST shapes of api-version 2024-02-01.

The numbers come from :mod:`kit.lab._metrics` (each scenario's story, the lab's own writes).
Query parameters as Azure reads them: ``metricnames`` (comma separated, at most 20),
``timespan`` (``start/end``; the last hour when absent), ``interval`` (one of the grains VM
metrics support; PT1M when absent), ``aggregation`` (the metric's primary one when absent),
``metricnamespace`` (``Microsoft.Compute/virtualMachines``). A metric the VM has no
configuration for is answered as Azure does: 400 ``BadRequest`` "Failed to find metric
configuration for provider: …, Valid metrics: …", body ``{"code", "message"}``; a resource without
VM metrics here (a scale-set instance, an NSG) gets Azure's "Failed to find resource mapping …".
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

from aiohttp import web

from kit import ids
from kit.lab._arm import arm_json, arm_route, find, state_of
from kit.lab._metrics import CATALOG, GRAINS, NAMESPACE, MetricSpec, conditions, lab_now, series, unsupported
from kit.times import parse_time

__all__ = ["MAX_METRICS", "MAX_POINTS", "add_routes"]

#: metric names one call may ask for
MAX_METRICS = 20
#: the lab refuses answers larger than this many points per metric (a guard, not an Azure figure)
MAX_POINTS = 50_000
_AGGREGATIONS = ("average", "minimum", "maximum", "total", "count")
_DEFAULT = "Percentage CPU"


def add_routes(app: web.Application) -> None:
    """Register the metrics and metric-definitions routes."""
    arm_route(app, "GET", "{scope*}/providers/Microsoft.Insights/metrics", _metrics_list)
    arm_route(app, "GET", "{scope*}/providers/Microsoft.Insights/metricDefinitions", _definitions)


def _bad(message: str) -> web.Response:
    """The metrics API's error body (``code`` and ``message`` at the top level)."""
    return arm_json({"code": "BadRequest", "message": message}, 400)


def _vm(request: web.Request, scope: str) -> tuple[dict[str, Any] | None, web.Response | None]:
    """The VM whose metrics are asked for, or Azure's answer for a wrong resource or metric namespace."""
    rid = ids.try_parse(scope)
    if rid is None or not rid.is_kind(ids.VM) or rid.resource_group is None:
        provider = rid.namespace if rid is not None else None
        kind = "/".join(rid.types) if rid is not None else ""
        return None, _bad(f"Failed to find resource mapping for provider: {provider}, resourceType: {kind}, "
                          f"id: {scope}, traceId: {{{uuid.uuid4()}}}")
    vm, problem = find(state_of(request), rid.subscription_id, rid.resource_group, "Microsoft.Compute",
                       "virtualMachines", rid.name)
    if vm is None:
        return None, problem
    namespace_problem = _namespace_problem(request)
    return (None, namespace_problem) if namespace_problem is not None else (vm, None)


def _supported(vm: dict[str, Any]) -> list[MetricSpec]:
    refused = unsupported(vm)
    return [spec for spec in CATALOG if spec.name.lower() not in refused]


def _namespace_problem(request: web.Request) -> web.Response | None:
    namespace = request.query.get("metricnamespace")
    if namespace and namespace.lower() != NAMESPACE.lower():
        return _bad(f"Failed to find metric namespace: {namespace} for resource type: {NAMESPACE}. "
                    f"Valid namespaces: {NAMESPACE}")
    return None


def _timespan(text: str | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | str:
    if not text:
        return now - dt.timedelta(hours=1), now
    start_text, _, end_text = text.partition("/")
    start, end = parse_time(start_text), parse_time(end_text)
    if start is None or end is None:
        return f"Invalid timespan: '{text}'. Expected 'startDateTime_ISO/endDateTime_ISO'."
    if start >= end:
        return f"Invalid timespan: '{text}'. The start time must be before the end time."
    return start, end


def _aligned(moment: dt.datetime, seconds: int) -> dt.datetime:
    stamp = math.floor(moment.timestamp() / seconds) * seconds
    return dt.datetime.fromtimestamp(stamp, dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _metrics_list(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    vm, problem = _vm(request, params["scope"])
    if vm is None:
        assert problem is not None
        return problem
    state = state_of(request)
    supported = _supported(vm)
    by_name = {spec.name.lower(): spec for spec in supported}
    names = [name.strip() for name in request.query.get("metricnames", _DEFAULT).split(",") if name.strip()]
    if len(names) > MAX_METRICS:
        return _bad(f"Requested metrics count: {len(names)} bigger than allowed max: {MAX_METRICS}")
    for name in names:
        if name.lower() not in by_name:
            return _bad(f"Failed to find metric configuration for provider: Microsoft.Compute, resource Type: "
                        f"virtualMachines, metric: {name}, Valid metrics: {','.join(spec.name for spec in supported)}")
    grain = request.query.get("interval") or "PT1M"
    if grain.upper() not in GRAINS:
        return _bad(f"Invalid time grain duration: {grain}, supported ones are: "
                    "00:01:00,00:05:00,00:15:00,00:30:00,01:00:00,06:00:00,12:00:00,1.00:00:00")
    grain = grain.upper()
    now = lab_now(state)
    span = _timespan(request.query.get("timespan"), now)
    if isinstance(span, str):
        return _bad(span)
    start, end = span
    seconds = GRAINS[grain]
    first = _aligned(start, seconds)
    buckets = math.ceil((end - first).total_seconds() / seconds)
    if buckets > MAX_POINTS:
        return _bad(f"The lab answers at most {MAX_POINTS} points per metric; {buckets} were asked for "
                    f"({grain} over {request.query.get('timespan')}). Choose a coarser interval.")
    asked = [item.strip().lower() for item in request.query.get("aggregation", "").split(",") if item.strip()]
    for item in asked:
        if item not in _AGGREGATIONS:
            return _bad(f"Invalid aggregation type: {item}. Valid aggregation types: "
                        "Average, Count, Minimum, Maximum, Total")
    info = state.scenario_for(ids.parse_resource_id(str(vm["id"])).subscription_id)
    found = conditions(state, info, str(vm["id"])) if info is not None else []
    value = []
    for name in names:
        spec = by_name[name.lower()]
        data = series(spec, vm, found, first, grain, buckets, asked or [spec.primary], now)
        value.append({
            "id": f"{vm['id']}/providers/Microsoft.Insights/metrics/{spec.name}",
            "type": "Microsoft.Insights/metrics",
            "name": {"value": spec.name, "localizedValue": spec.localized},
            "displayDescription": spec.description,
            "unit": spec.unit,
            "timeseries": [{"metadatavalues": [], "data": data}],
            "errorCode": "Success",
        })
    return arm_json({"cost": buckets * len(names) * max(1, len(asked)),
                     "timespan": f"{_stamp(start)}/{_stamp(end)}", "interval": grain, "value": value,
                     "namespace": NAMESPACE, "resourceregion": str(vm.get("location", ""))})


async def _definitions(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
    vm, problem = _vm(request, params["scope"])
    if vm is None:
        assert problem is not None
        return problem
    vm_id = str(vm["id"])
    value = [{
        "id": f"{vm_id}/providers/microsoft.insights/metricdefinitions/{spec.name}",
        "resourceId": vm_id,
        "namespace": NAMESPACE,
        "category": spec.category,
        "name": {"value": spec.name, "localizedValue": spec.localized},
        "displayDescription": spec.description,
        "isDimensionRequired": False,
        "unit": spec.unit,
        "primaryAggregationType": spec.primary,
        "supportedAggregationTypes": ["None", "Average", "Minimum", "Maximum", "Total", "Count"],
        "metricAvailabilities": [{"timeGrain": grain, "retention": "P93D"} for grain in GRAINS],
    } for spec in _supported(vm)]
    return arm_json({"value": value})
