"""Write the kit's report notebooks (outputs empty, ``parameters`` cell tagged, kernelspec python3).

Run ``python notebooks/build.py`` after editing; the .ipynb files are what ``kit report`` runs
and what people open in JupyterLab. Logic lives in ``kit/``; these cells hold narrative and
presentation only.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

PARAMETERS = '''# Where the evidence comes from: "lab:<scenario>", "azure" or "bundle:<path to a bundle>"
source = "lab:firewall-lockout"
# The VMs (defaults from the scenario for lab: sources; required for "azure", or vm as the full ARM id
# of a VM or of a scale-set instance, whose known-good peers are then instance ids)
subscription = ""
resource_group = ""
vm = ""
known_good = ""          # comma-separated names of healthy VMs to compare against
incident = "TRIAGE"      # filled in by `kit report --incident`
# Activity Log window: ISO 8601 with a zone, or the last window_hours hours
window_start = ""
window_end = ""
window_hours = None
responder_ip = ""        # the address the responder connects from (SSH/RDP verdict)
# Target options for source="azure": a credential *kind*; secrets only ever come from the environment
arm_endpoint = ""
cloud = "AzureCloud"
credential = "default"
ca_bundle = ""           # a PEM file to trust for arm_endpoint (Azure Stack Hub, a TLS-inspecting proxy)
# Filled in by `kit report`: where this run's results and the incident's evidence go
run_dir = ""
archive_dir = ""'''

LOAD = '''from IPython.display import display
from kit.report.present import setup, table, kv_table, log_excerpt, code_block, callout, heading, save_result
from kit.report.sources import load_source
display(setup())
src = load_source(source, subscription=subscription or None, resource_group=resource_group or None, vm=vm or None,
                  known_good=known_good or None, archive_dir=archive_dir or None, window_start=window_start or None,
                  window_end=window_end or None, window_hours=window_hours, responder_ip=responder_ip or None,
                  arm_endpoint=arm_endpoint or None, cloud=cloud, credential=credential, ca_bundle=ca_bundle or None)
bundle, peers = src.subject, src.peers
responder = src.responder_ip'''


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip())


def code(text: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index:02d}"  # stable ids: rebuilding gives byte-identical files
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    })


def triage() -> nbformat.NotebookNode:
    return notebook([
        md("""
# Triage: why can't we reach this VM?

The first ten minutes of an unreachable-VM incident, in the order of the runbook: who and what,
power state, boot diagnostics and the boot log, the timeline, the network path, who may open the serial
console, then the classification and the next step. Every number below comes from the evidence bundle
listed at the end; the `az` commands that reproduce each piece are there too.

Run headless with `kit report triage --incident INC-1234 -p source lab:firewall-lockout`, or open it in
JupyterLab and edit the parameters cell.
"""),
        code(PARAMETERS, "parameters"),
        code(LOAD),
        md("One pass over the evidence: the boot log, the Activity Log and the network are each read once, and every "
           "section below shows a part of that one analysis."),
        code("""from kit.analyze.triage import triage
result = triage(bundle, peers, responder_ip=responder)"""),
        code("""from kit.analyze.attribution import attribute
from kit.report.contents import contents
from kit.report.verdict_card import verdict_card
attribution = attribute(result)
causal = attribution.marker if attribution else None
display(verdict_card(result, bundle, attribution))
display(contents(["1. Identity and scope", "2. Power and provisioning state", "3. Boot diagnostics and the boot log",
                  "4. Timeline", "5. Network path", "6. Who may open the serial console",
                  "7. Classification and next step", "8. Reproduce the evidence with az", "9. Evidence manifest"]))"""),
        md("## 1. Identity and scope\nWhat this report is about, where the evidence came from and who collected it."),
        code("from kit.report import triage as t\n"
             "display(kv_table(t.identity(bundle, incident=incident, responder_ip=responder, source=src.source)))"),
        md("## 2. Power and provisioning state\n"
           "A VM that is not running cannot answer: check this before anything else."),
        code("""power = t.power_state(bundle)
if t.power_note(power):
    display(callout(t.power_note(power), kind="bad", title="Not running"))
display(kv_table(power))"""),
        md("## 3. Boot diagnostics and the boot log\n"
           "How far the last boot got, and the log lines behind each finding."),
        code("""from kit.report import sections as s
display(kv_table(t.boot_diagnostics(bundle)))
display(s.boot_section(result.boot, bundle.serial_log))
display(s.screenshot_section(bundle.screenshot))"""),
        md("## 4. Timeline\n"
           "Control plane (Activity Log) and guest (boot log) on one UTC axis, opened on the incident: the red star is "
           "the causal change, dashed lines the reference times; the slider and buttons widen it."),
        code("""from kit.report.timeline_view import timeline_view
display(timeline_view(result.timeline, title=f"{bundle.name}: Activity Log, instance view and boot log", causal=causal))
display(s.notable_events(result.timeline, causal=causal))"""),
        md("## 5. Network path\n"
           "The broken VM's NSGs and routes against the known-good VMs, the offline SSH/RDP verdict from the "
           "responder's address with the deciding rule, and the Activity Log operation that introduced the "
           "difference."),
        code("display(s.network_section(result.verdicts, result.diff, bundle, "
             "assumed_responder=result.assumed_responder))"),
        md("## 6. Who may open the serial console\n"
           "Role assignments on the VM (inherited included). Opening the console needs "
           "Virtual Machine Contributor or higher, and boot diagnostics enabled."),
        code("display(table(t.console_access(bundle), caption='Role assignments'))"),
        md("## 7. Classification and next step\n"
           "Hypotheses ranked by the evidence; each lists what supports and what contradicts it."),
        code("display(s.classification_section(result.classification))"),
        md("## 8. Reproduce the evidence with `az`\n"
           "The same calls the collector made, for the ticket or a second pair of eyes."),
        code("from kit.report.present import details\n"
             "display(details('az commands that reproduce every piece of evidence', code_block('\\n'.join("
             "f\"# {r['evidence']}\\n{r['command']}\" for r in t.az_commands(bundle, responder_ip=responder)))))"),
        md("## 9. Evidence manifest\n"
           "Every file of every bundle with its sha256, each bundle behind a click; `kit verify` "
           "recomputes them for the whole incident archive."),
        code("""for b in [bundle, *peers]:
    files = table(t.evidence_files(b), caption=f"{b.name} ({b.role}): {b.path.name}", nowrap=("bytes", "api-version"))
    display(details(f"{b.name} ({b.role}): {len(b.manifest.get('files', []))} files with sha256", files))
    if b.failures:
        display(table(b.failures, caption=f"{b.name}: calls that failed during collection"))"""),
        code("""if run_dir:
    save_result(run_dir, "triage", s.triage_result(src, result, archive_dir))"""),
    ])


def network_diff() -> nbformat.NotebookNode:
    return notebook([
        md("""
# Network comparison: one VM against its known-good peers

The deep version of the triage report's network section: every NSG rule on the path side by side,
a flow matrix (inbound TCP ports × sources → verdict, computed offline the way Network Watcher's
IP flow verify would), the routes, and each difference rated by whether it changes the SSH/RDP verdict.

`kit report network-diff --incident INC-1234 -p source bundle:archive/INC-1234/evidence/<when>/<vm>`
"""),
        code(PARAMETERS + '\nports = "22,3389,80,443,5986"  # ports in the flow matrix', "parameters"),
        code(LOAD),
        code("""from kit.analyze.network import load_network, diff_from_bundles
from kit.report import network_view as nv, sections as s
net = load_network(bundle)
peer_nets = [load_network(p) for p in peers]
wanted_ports = [int(p) for p in str(ports).replace(",", " ").split()]
display(callout(f"{bundle.name} against {', '.join(p.name for p in peers) or 'no known-good VM'}; "
                f"responder {responder or 'not given'}", title="Scope"))"""),
        code("""from kit.report.verdict_card import diff_card
diff = diff_from_bundles(bundle, peers, responder_ip=responder or None) if peers else None
display(diff_card(diff, bundle))"""),
        md("## Rules side by side\nOne row per rule name and hop; rows where the VMs disagree come first."),
        code("display(table(nv.rules_side_by_side(net, peer_nets), caption='Custom NSG rules (subnet and NIC NSGs)',\n"
             "              nowrap=('differs', 'hop', 'direction')))"),
        md("## Flow matrix\n"
           "Inbound TCP from each source to each port of each VM: the NSG answer and the deciding rule."),
        code("""matrix_sources = nv.sources_for(net, responder)
matrix = nv.flow_matrix([net, *peer_nets], matrix_sources, wanted_ports)
display(table(matrix, caption="Inbound TCP verdicts", nowrap=("VM",)))"""),
        md("## Routes\nThe primary NIC's routes (effective when captured, else system routes plus UDRs)."),
        code("""for n in [net, *peer_nets]:
    display(table(nv.route_rows(n), caption=f"Routes of {n.vm_name}",
                  nowrap=("VM", "from", "prefix", "next hop", "next hop IP", "source", "state")))"""),
        md("## Differences and what they change"),
        code("""display(s.network_section(diff.subject_verdicts if diff else {}, diff, bundle))"""),
        md("## Every rule, in evaluation order"),
        code("""for n in [net, *peer_nets]:
    display(table(nv.rule_rows(n, include_default=True), caption=f"NSG rules on the path of {n.vm_name}",
                  nowrap=("hop", "direction", "priority", "access", "protocol")))"""),
        code("""if run_dir:
    save_result(run_dir, "network-diff", {"vm": bundle.name, "peers": [p.name for p in peers],
                "responder_ip": responder, "diff": diff.to_json() if diff else None, "flow_matrix": matrix})"""),
    ])


POSTMORTEM_PARAMETERS = """incident = "TRIAGE"     # filled in by `kit report --incident`
archive_dir = ""        # filled in by `kit report`: the incident folder to read
run_dir = ""            # filled in by `kit report`: where this run's results go
service = ""            # the affected service, for the summary
owner = ""              # who owns the follow-ups"""


def postmortem() -> nbformat.NotebookNode:
    return notebook([
        md("""
# Postmortem

Generated from the incident archive: the triage run's results, the evidence bundles it used and the
serial-console transcripts. Sections marked **TO COMPLETE** need a person; everything else is traced
to evidence in the archive (`kit verify` checks it has not changed).

`kit report postmortem --incident INC-1234` (run `kit report triage --incident INC-1234 …` first).
"""),
        code(POSTMORTEM_PARAMETERS, "parameters"),
        code("""from IPython.display import display
from kit.report.present import setup, table, kv_table, log_excerpt, callout, save_result
from kit.report import postmortem as pm, sections as s
from kit.evidence.bundle import load_bundle
display(setup())
record = pm.read_incident(archive_dir)
triage = record.triage
if triage is None:
    raise RuntimeError(f"no successful triage run in {archive_dir}: "
                       f"run `kit report triage --incident {incident}` first")
top = triage["top_hypothesis"] or {}
recorded = pm.actions(archive_dir)
times = pm.durations(triage, recorded)"""),
        code("""from kit.report.verdict_card import saved_verdict_card
display(saved_verdict_card(triage))"""),
        md("## Summary"),
        code("""display(callout(f"{triage['vm']} could not be reached over SSH/RDP. "
                f"Most likely cause: {top.get('kind')} (next step: {top.get('next_step')}). "
                f"{top.get('summary') or ''}", kind="bad", title=f"Incident {incident}"))
display(kv_table({"incident": incident, "service": service or "TO COMPLETE", "VM": triage["vm"],
                  "subscription": triage["subscription_id"], "resource group": triage["resource_group"],
                  "triage run": record.triage_run.relative_to(record.root).as_posix(),
                  "reports in archive": len(record.reports)}))
display(callout("Customer and business impact, who was paged, how it was noticed.", kind="todo",
                title="TO COMPLETE: impact"))"""),
        md("## Impact window"),
        code("display(kv_table({k: (v.isoformat() if hasattr(v, 'isoformat') else v) or 'unknown: TO COMPLETE' "
             "for k, v in times.items()}))"),
        md("## Timeline from first change to recovery\nThe broken VM's timeline, rebuilt from the archived evidence."),
        code("""from kit.analyze.attribution import Attribution
from kit.analyze.timeline import build_timeline
from kit.report.timeline_view import timeline_view
subject_path = record.bundle_path(triage["vm"])
subject = load_bundle(subject_path) if subject_path else None
timeline = build_timeline(subject) if subject is not None else None
causal = Attribution.from_json(triage["attribution"]).marker if triage.get("attribution") else None
if timeline is not None:
    display(timeline_view(timeline, title=f"{triage['vm']}: from first change to recovery", causal=causal))
    display(s.notable_events(timeline, causal=causal))
else:
    display(callout("The triage run names no bundle for this VM.", kind="warn"))"""),
        md("## Root cause and evidence"),
        code("""display(table([{"rank": i + 1, "hypothesis": h.get("kind"), "next step": h.get("next_step"),
                 "summary": h.get("summary") or ""} for i, h in enumerate(triage["hypotheses"][:5])],
              caption="Hypotheses from triage"))
explaining = [d for d in ((triage.get("network_diff") or {}).get("differences") or []) if d.get("changes_verdict")]
if explaining:
    display(table([{"difference": d["description"], "introduced by": (d.get("operation") or {}).get("operation_name"),
                    "caller": (d.get("operation") or {}).get("caller"), "at": (d.get("operation") or {}).get("start")}
                   for d in explaining], caption="Network differences that explain the outage"))
boot = triage.get("boot") or {}
problems = [f for f in boot.get("findings") or [] if f.get("severity") != "info"]
if problems:
    display(table(s.group_findings(problems),
                  caption=f"Boot log findings, warnings and worse, by kind ({len(problems)} lines)",
                  nowrap=("severity", "finding", "count", "lines")))
display(callout("Why the change was made and why it was not caught earlier.", kind="todo",
                title="TO COMPLETE: contributing factors"))"""),
        md("## What the console session did\nFrom the redacted transcripts in the archive (no secrets are recorded)."),
        code("""sessions = pm.transcripts(archive_dir)
if sessions:
    display(table([{k: v for k, v in t.items() if k != "tail"} for t in sessions], caption="Console sessions"))
    for t in sessions:
        display(log_excerpt(t["tail"], caption=f"{t['id']}: last lines"))
elif not pm.fix_actions(recorded):
    display(callout("No console transcript in the archive: describe the fix as applied.", kind="todo",
                    title="TO COMPLETE: recovery actions"))
else:
    display(callout("No console session: the fix went through the channels below.", kind="info"))"""),
        md("## How it was fixed\nThe recorded fix actions (Run Command, repair VM, console), their approval and "
           "every ARM write they made, then the recovery check that proves the VM is back."),
        code("""fixes = pm.fix_actions(recorded, sessions)
if fixes:
    display(table([{k: f[k] for k in ("kind", "status", "approval", "responder", "started", "ended", "summary")}
                   for f in fixes], caption="Fix actions"))
    for f in fixes:
        if f["writes"]:
            display(table([{"operation": w.get("operation"), "target": w.get("target"), "time": w.get("time"),
                            "result": w.get("result")} for w in f["writes"]],
                          caption=f"ARM writes of the {f['kind']} ({f['run']})"))
else:
    display(callout("No fix is recorded (no Run Command, repair or console transcript): describe how the VM was "
                    "fixed.", kind="todo", title="TO COMPLETE: how it was fixed"))
check = pm.newest_recovery_check(recorded)
if check is not None:
    display(callout(check.get("summary") or "", kind="good" if check.get("status") == "passed" else "bad",
                    title=f"Recovery check {check.get('status')} ({check.get('run')})"))
    display(table([{"proof": p.get("name"), "passed": p.get("passed"), "seen": p.get("seen"), "where": p.get("where")}
                   for p in (check.get("details") or {}).get("proofs") or []], caption="Proofs"))
elif fixes:
    display(callout("No recovery check is recorded: run `kit recover-check` to prove the VM is back.",
                    kind="warn"))"""),
        md("## Follow-up actions"),
        code("""actions = pm.follow_ups(top.get("kind"))
display(table([{"action": a, "owner": owner or "TO COMPLETE", "due": "TO COMPLETE"} for a in actions],
              caption="Follow-ups", empty="no standard follow-up for this cause: TO COMPLETE"))
display(callout("Add follow-ups specific to this incident.", kind="todo", title="TO COMPLETE: more follow-ups"))"""),
        code("""if run_dir:
    save_result(run_dir, "postmortem", {"incident": incident, "vm": triage["vm"], "cause": top.get("kind"),
                "next_step": top.get("next_step"), "follow_ups": actions, "sessions": [t["id"] for t in sessions],
                "fixes": [{k: f[k] for k in ("kind", "status", "approval", "run")} for f in fixes],
                "times": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in times.items()}})"""),
    ])


def main() -> None:
    for name, build in {"triage": triage, "network-diff": network_diff, "postmortem": postmortem}.items():
        nbformat.write(build(), HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
