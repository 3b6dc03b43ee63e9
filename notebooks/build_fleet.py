"""Write ``notebooks/fleet-readiness.ipynb`` (outputs empty, ``parameters`` cell tagged), as ``build.py`` does.

Run ``python notebooks/build_fleet.py`` after editing; ``kit fleet readiness`` runs the notebook.
Logic lives in ``kit/`` (:mod:`kit.analyze.readiness`, :mod:`kit.report.fleet_readiness`); these
cells hold narrative and presentation only.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from build import code, md, notebook

HERE = Path(__file__).parent

PARAMETERS = '''# The collection file `kit fleet readiness` wrote (fleet-collection.json in its --out folder)
collection = ""
worst = 25               # how many worst offenders to list
incident = "FLEET"       # filled in by `kit report --incident`
# Filled in by `kit report`: where this run's results go
run_dir = ""
archive_dir = ""'''


def fleet_readiness() -> nbformat.NotebookNode:
    return notebook([
        md("""
# Fleet readiness: could we get into each VM if it broke tonight?

For every VM and scale-set instance in scope: is it running, does boot diagnostics work (and can its
storage account be reached), is the subscription's serial console on, is the VM agent Ready, is there a
password to log in with on the console, and would the repair-VM flow work (Azure Disk Encryption,
confidential VMs)? Every machine that is not ready says why and which command fixes it.

The data comes from Azure Resource Graph (the queries are at the end, ready to paste into Resource Graph
Explorer), one VM list per subscription for the VM agent and one serial console status per subscription:
no call per VM. Run with `kit fleet readiness --subscription S … --out DIR` (or `--management-group MG`).
"""),
        code(PARAMETERS, "parameters"),
        code('''from IPython.display import display
from kit.report.present import setup, table, kv_table, code_block, callout, details, save_result
from kit.report.fleet_readiness import filterable_table, load_collection, write_tables
from kit.analyze.readiness import assess
display(setup())
loaded = load_collection(collection)
report = assess(loaded.rows)'''),
        md("## 1. Summary\nHow many machines a responder could get into tonight, and what stops the others."),
        code('''machines = len(report.machines)
not_ready = machines - report.ready
share = report.ready / machines if machines else 1.0
kind = "good" if not_ready == 0 else ("warn" if share >= 0.9 else "bad")
display(callout(f"{report.ready:,} of {machines:,} machines are ready ({share:.1%}); {not_ready:,} are not.",
                kind=kind, title="Readiness"))
calls = loaded.summary.get("calls", {})
display(kv_table({"collected at": loaded.collected_at, "scope": loaded.summary.get("scope"),
                  "VMs": loaded.summary.get("vms"), "scale-set instances": loaded.summary.get("scale_set_instances"),
                  "subscriptions with machines": loaded.summary.get("subscriptions"),
                  "ARM calls": calls.get("total"), "ARM calls by operation": calls.get("by_operation"),
                  "Resource Graph pages": loaded.summary.get("pages"),
                  "throttled answers / quota waits": f"{calls.get('throttled', 0)} / {calls.get('quota_waits', 0)}",
                  "collection seconds": loaded.summary.get("seconds")}, caption="The collection"))
display(table(report.by_reason(), ["reason", "title", "machines", "subscriptions", "why", "example_fix"],
              caption="Not ready, by reason (most machines first)", empty="every machine is ready"))
if loaded.summary.get("failures"):
    display(table(loaded.summary["failures"], caption="Calls that failed (their machines carry a note)"))'''),
        md("## 2. By subscription\nWorst first: the subscriptions with the most machines that are not ready."),
        code('''from kit.analyze.readiness import REASONS
subs = report.by_subscription()
shown = ["subscription_id", "machines", "ready", "not_ready", "ready_share"]
shown += [code for code in REASONS if any(row[code] for row in subs)]
display(table(subs, shown, caption="Readiness by subscription"))'''),
        md("## 3. Worst offenders\nThe machines a responder would be most stuck on, each reason with its fix."),
        code('''display(table([{"machine": m.name, "subscription": m.subscription_id,
                "resource group": m.resource_group, "reason": f.reason, "what says so": f.detail, "fix": f.fix}
               for m in report.worst(worst) for f in m.findings],
              caption=f"The {worst} worst machines", empty="every machine is ready"))'''),
        md("## 4. Every machine\nType to filter (name, subscription, reason, OS …) or pick a reason."),
        code('''columns = ["name", "subscription_id", "resource_group", "ready", "reasons", "power_state",
           "boot_diagnostics", "agent_status", "serial_console", "security_type", "fixes"]
display(filterable_table(report.rows(), columns, caption="Every VM and scale-set instance, worst first"))'''),
        md("""
## 5. The queries
What the collection sent to Azure Resource Graph, as sent: paste one into Resource Graph Explorer
(portal), or run it with `az graph query -q "…" --first 1000`.
"""),
        code('''for query in loaded.queries:
    display(code_block(query.get("text", ""), caption=f"{query.get('name')}: {query.get('purpose')}"))'''),
        code('''if run_dir:
    write_tables(report, run_dir)
    save_result(run_dir, "fleet-readiness", {"machines": machines, "ready": report.ready, "not_ready": not_ready,
                                             "by_reason": report.by_reason(), "by_subscription": subs,
                                             "collection": dict(loaded.summary)})'''),
    ])


def main() -> None:
    nbformat.write(fleet_readiness(), HERE / "fleet-readiness.ipynb")


if __name__ == "__main__":
    main()
