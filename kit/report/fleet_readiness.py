"""The fleet readiness report's data: the collection file, the per-machine tables, a filterable HTML table.

``kit fleet readiness`` collects (:mod:`kit.azure.fleet`), writes the collection with
:func:`write_collection` and runs ``notebooks/fleet-readiness.ipynb``, which reads it back with
:func:`load_collection`, judges it (:func:`kit.analyze.readiness.assess`) and shows it; both write
the per-machine table with :func:`write_tables` (CSV and Parquet, the same columns).

The collection file (``fleet-collection.json``)::

    {"kind": "kit-fleet-collection", "version": 1, "collected_at": "…Z", "summary": {…calls, pages…},
     "queries": [{"name", "purpose", "text"}], "rows": {"vms": […], "instances": […], "scale_sets": […],
     "ade_extensions": […], "storage_accounts": […]}, "agents": {"<vm id>": {instanceView}},
     "agent_subscriptions": […], "consoles": {"<subscription>": true|false|null}}
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.analyze.readiness import COLUMNS, REASONS, FleetInput, FleetReadiness
from kit.archive import atomic_write
from kit.azure.fleet_queries import QUERIES
from kit.errors import BundleFormatError
from kit.report.present import Html, table
from kit.times import utc_text

if TYPE_CHECKING:
    from kit.azure.fleet import FleetCollection

__all__ = ["COLLECTION_FILE", "CSV_FILE", "PARQUET_FILE", "LoadedCollection", "filterable_table",
           "load_collection", "write_collection", "write_tables"]

COLLECTION_FILE = "fleet-collection.json"
CSV_FILE = "fleet-readiness.csv"
PARQUET_FILE = "fleet-readiness.parquet"
_KIND = "kit-fleet-collection"
_ROW_KEYS = ("vms", "instances", "scale_sets", "ade_extensions", "storage_accounts")


@dataclass(frozen=True)
class LoadedCollection:
    """A collection file read back: the rows to judge, what the collection cost, and the queries sent."""

    rows: FleetInput
    summary: Mapping[str, Any]
    queries: tuple[Mapping[str, str], ...]
    collected_at: str


def write_collection(collection: FleetCollection, path: str | Path) -> Path:
    """Write ``collection`` (rows, agent states, console status, its summary, the queries) as JSON."""
    document = {
        "kind": _KIND, "version": 1, "collected_at": utc_text(), "summary": collection.summary(),
        "queries": [{"name": q.name, "purpose": q.purpose, "text": q.text} for q in QUERIES],
        "rows": {key: getattr(collection, key) for key in _ROW_KEYS},
        "agents": collection.agents, "agent_subscriptions": sorted(collection.agent_subscriptions),
        "consoles": collection.consoles,
    }
    target = Path(path)
    atomic_write(target, json.dumps(document, separators=(",", ":"), default=str).encode())
    return target


def load_collection(path: str | Path) -> LoadedCollection:
    """Read a collection file.

    Raises
    ------
    BundleFormatError
        Missing, not JSON, or not a collection file (the message says which part).
    """
    file = Path(path)
    try:
        document = json.loads(file.read_bytes())
    except FileNotFoundError:
        raise BundleFormatError(f"{file}: no such collection file (kit fleet readiness writes {COLLECTION_FILE})") \
            from None
    except (OSError, ValueError) as error:
        raise BundleFormatError(f"{file} is not a readable JSON collection file: {error}") from None
    if not isinstance(document, dict) or document.get("kind") != _KIND:
        raise BundleFormatError(f"{file} is not a fleet collection file (no \"kind\": \"{_KIND}\")")
    rows = document.get("rows")
    if not isinstance(rows, dict) or not all(isinstance(rows.get(k, []), list) for k in _ROW_KEYS):
        raise BundleFormatError(f"{file}: \"rows\" must hold lists {', '.join(_ROW_KEYS)}")
    agents, consoles = document.get("agents", {}), document.get("consoles", {})
    subs = document.get("agent_subscriptions", [])
    if not isinstance(agents, dict) or not isinstance(consoles, dict) or not isinstance(subs, list):
        raise BundleFormatError(f"{file}: \"agents\" and \"consoles\" must be objects, \"agent_subscriptions\" a list")
    queries: list[Any] = document["queries"] if isinstance(document.get("queries"), list) else []
    summary: dict[str, Any] = document["summary"] if isinstance(document.get("summary"), dict) else {}
    return LoadedCollection(
        rows=FleetInput(**{k: rows.get(k, []) for k in _ROW_KEYS}, agents=agents, agent_subscriptions=subs,
                        consoles=consoles),
        summary=summary, queries=tuple(q for q in queries if isinstance(q, dict)),
        collected_at=str(document.get("collected_at") or ""))


def write_tables(readiness: FleetReadiness, folder: str | Path) -> tuple[Path, Path]:
    """The per-machine table, worst first, as ``fleet-readiness.csv`` and ``fleet-readiness.parquet`` in ``folder``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rows = readiness.rows()
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    csv_path = out / CSV_FILE
    atomic_write(csv_path, text.getvalue().encode("utf-8"))
    columns = {name: [row[name] for row in rows] for name in COLUMNS}
    types = {"ready": pa.bool_(), "trusted_launch": pa.bool_(), "reason_count": pa.int32(), "weight": pa.int32()}
    arrays = {name: pa.array(values, type=types.get(name, pa.string())) for name, values in columns.items()}
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(arrays), sink)
    parquet_path = out / PARQUET_FILE
    atomic_write(parquet_path, sink.getvalue().to_pybytes())
    return csv_path, parquet_path


_FILTER_SCRIPT = """<script>
(function () {
  var root = document.getElementById("%(id)s");
  if (!root) { return; }
  var text = root.querySelector("input"), pick = root.querySelector("select"), count = root.querySelector(".kit-count");
  var rows = Array.prototype.slice.call(root.querySelectorAll("tbody tr"));
  function apply() {
    var words = text.value.toLowerCase().split(/\\s+/).filter(Boolean), reason = pick.value, shown = 0;
    rows.forEach(function (row) {
      var all = row.textContent.toLowerCase(), cell = row.getAttribute("data-reasons") || "";
      var ok = words.every(function (w) { return all.indexOf(w) >= 0; }) &&
               (!reason || (reason === "ready" ? cell === "" : (";" + cell + ";").indexOf(";" + reason + ";") >= 0));
      row.style.display = ok ? "" : "none";
      shown += ok ? 1 : 0;
    });
    count.textContent = shown + " of " + rows.length + " shown";
  }
  text.addEventListener("input", apply);
  pick.addEventListener("change", apply);
  apply();
})();
</script>"""


def filterable_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, caption: str,
                     max_rows: int = 2000) -> Html:
    """:func:`kit.report.present.table` with a text filter and a reason picker that work offline (exported HTML too).

    Each row carries its ``reasons`` in a ``data-reasons`` attribute; the filter keeps rows whose text
    holds every typed word and, if a reason is picked, that reason (or none, for "ready").
    """
    block = f"kit-filter-{uuid.uuid4().hex[:10]}"
    shown = table(rows, list(columns), caption=caption, max_rows=max_rows, nowrap=("kind", "ready", "power_state"))
    marked = iter(rows[:max_rows])
    body = str(shown).split("<tbody>", 1)
    if len(body) == 2:
        head, rest = body
        parts = rest.split("<tr>")
        rest = parts[0] + "".join(f'<tr data-reasons="{_attr(next(marked, {}).get("reasons", ""))}">{p}'
                                  for p in parts[1:])
        shown = Html(f"{head}<tbody>{rest}")
    options = "".join(f'<option value="{code}">{reason.title}</option>' for code, reason in REASONS.items())
    controls = (f'<div id="{block}"><p><input type="search" placeholder="filter: name, subscription, reason …" '
                f'style="width:28em"> <select><option value="">every machine</option><option value="ready">ready'
                f'</option>{options}</select> <span class="kit-count"></span></p>{shown}</div>')
    return Html(controls + _FILTER_SCRIPT % {"id": block})


def _attr(value: Any) -> str:
    return "".join(c for c in str(value) if c.isalnum() or c in "_;")
