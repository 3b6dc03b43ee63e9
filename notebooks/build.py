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
# The VMs (defaults from the scenario for lab: sources; required for "azure")
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
                  arm_endpoint=arm_endpoint or None, cloud=cloud, credential=credential)
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
        md("## 1. Identity and scope\nWhat this report is about, where the evidence came from and who collected it."),
        code("from kit.report import triage as t\ndisplay(kv_table(t.identity(bundle, incident=incident, responder_ip=responder, source=src.source)))"),
        md("## 2. Power and provisioning state\nA VM that is not running cannot answer: check this before anything else."),
        code("power = t.power_state(bundle)\ndisplay(kv_table(power))"),
        md("## 3. Boot diagnostics and the boot log\nHow far the last boot got, and the log lines behind each finding."),
        code("""from kit.analyze.bootlog import boot_report_from_bundle
from kit.report import sections as s
display(kv_table(t.boot_diagnostics(bundle)))
boot = boot_report_from_bundle(bundle)
display(s.boot_section(boot, bundle.serial_log))"""),
        md("## 4. Timeline\nControl plane (Activity Log) and guest (boot log) on one UTC axis; dashed lines mark the reference times."),
        code("""from kit.analyze.timeline import build_timeline, timeline_figure
timeline = build_timeline(bundle)
timeline_figure(timeline, title=f"{bundle.name}: Activity Log, instance view and boot log").show()
display(s.notable_events(timeline))"""),
        md("## 5. Network path\nThe broken VM's NSGs and routes against the known-good VMs, the offline SSH/RDP verdict from the "
           "responder's address with the deciding rule, and the Activity Log operation that introduced the difference."),
        code("""from kit.analyze.network import load_network, diff_network, ssh_rdp_verdicts
net = load_network(bundle)
peer_nets = [load_network(p) for p in peers]
verdicts = ssh_rdp_verdicts(net, responder) if responder else {}
diff = diff_network(net, peer_nets, responder_ip=responder) if peer_nets else None
display(s.network_section(verdicts, diff, bundle))"""),
        md("## 6. Who may open the serial console\nRole assignments on the VM (inherited included). Opening the console needs "
           "Virtual Machine Contributor or higher, and boot diagnostics enabled."),
        code("display(table(t.console_access(bundle), caption='Role assignments'))"),
        md("## 7. Classification and next step\nHypotheses ranked by the evidence; each lists what supports and what contradicts it."),
        code("""from kit.analyze.verdict import classify
classification = classify(bundle, peers, responder_ip=responder)
display(s.classification_section(classification))"""),
        md("## 8. Reproduce the evidence with `az`\nThe same calls the collector made, for the ticket or a second pair of eyes."),
        code("display(code_block('\\n'.join(f\"# {r['evidence']}\\n{r['command']}\" for r in t.az_commands(bundle, responder_ip=responder))))"),
        md("## 9. Evidence manifest\nEvery file of every bundle with its sha256; `kit verify` recomputes them for the whole incident archive."),
        code("""for b in [bundle, *peers]:
    display(table(t.evidence_files(b), caption=f"{b.name} ({b.role}): {b.path.name}"))
    if b.failures:
        display(table(b.failures, caption=f"{b.name}: calls that failed during collection"))"""),
        code("""if run_dir:
    save_result(run_dir, "triage", s.triage_result(src, boot, verdicts, diff, classification, timeline, archive_dir))"""),
    ])


def main() -> None:
    for name, build in {"triage": triage}.items():
        nbformat.write(build(), HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
