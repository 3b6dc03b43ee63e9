"""Write the training walkthroughs (outputs empty, ``parameters`` cell tagged, kernelspec python3).

Run ``python notebooks/training/build.py`` after editing. The cells hold narrative; the work is
done by :mod:`kit.train` (``open_drill`` and the ``Drill`` it returns).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

INTRO = {
    "firewall-lockout": "A Linux VM stopped accepting SSH. Find out whether Azure or the guest is refusing you, "
                        "and recover it the way the runbook says.",
    "fstab-emergency": "A Linux VM did not come back after a reboot. The portal says it is running.",
    "sshd-broken": "A Linux VM refuses SSH connections, and a restart did not help.",
    "windows-rdp": "A Windows VM refuses RDP; its peers are fine.",
    "nsg-deny": "A Linux VM is unreachable over SSH while its application still answers.",
    "kernel-panic": "A Linux VM has not come back since its patch reboot.",
}


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip())


def code(text: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def parameters(scenario: str) -> str:
    return f'''scenario = "{scenario}"
seed = None                  # the variant: None means the one the training lab serves
solution = False             # True: the notebook performs the fix itself (papermill proves it solvable)
trainee = ""                 # your name, for `kit train report`
approval = "CHG-TRAIN-0001"  # the approval reference recorded with the console session
archive_root = "archive"     # where the drill is recorded (one incident folder per drill)
drill_id = ""                # default: DRILL-<scenario>-s<seed>-<UTC time>
postmortem = True            # generate your postmortem at the end
figures = True               # draw the interactive timeline (headless test runs leave it out)'''


def triage_cells() -> list[nbformat.NotebookNode]:
    return [
        md("""
## 1. Triage: collect the evidence

The kit collects the VM, its healthy peers, their network, the Activity Log and the serial log from the
lab's ARM API, exactly as it would from Azure. First, the boot log: how far did the last boot get?
"""),
        code("""
t = drill.triage()
display(s.boot_section(t.boot, t.bundle.serial_log))
"""),
        md("""
## 2. Timeline

Control plane (Activity Log) and guest (boot log) on one UTC axis. Which change came just before the outage?
"""),
        code("""
if figures:
    timeline_figure(t.timeline, title=f"{drill.info.broken_vm}: Activity Log, instance view and boot log").show()
display(s.notable_events(t.timeline, limit=25))
"""),
        md("""
## 3. Network verdict

Can your connection reach the VM as far as Azure is concerned (NSGs, routes), compared with the peers?
"""),
        code("display(s.network_section(t.verdicts, t.diff, t.bundle, assumed_responder=t.assumed_responder))"),
        md("""
### Question 1: guest-level or platform-level?

Choose your answer and press **Check** (or type it in the cell and run it). The hints stay folded until you open them.
"""),
        code("""
level = ""   # "guest" or "platform"
if solution:
    level = drill.expected("level")
drill.question("level", level)
"""),
        md("""
## 4. Classification

The kit ranks hypotheses from all the evidence; each lists what supports and contradicts it. Decide for yourself
first, then compare.
"""),
        code("""
hypothesis = ""   # e.g. "guest_firewall", "nsg_deny", "boot_failure:fstab"
if solution:
    hypothesis = drill.expected("hypothesis")
drill.question("hypothesis", hypothesis)
"""),
        code("display(s.classification_section(t.classification))"),
        md("""
### Question 2: what is the right next step?
"""),
        code("""
next_step = ""   # "serial_console", "change_nsg", "repair_vm", ...
if solution:
    next_step = drill.expected("next_step")
drill.question("next_step", next_step)
"""),
    ]


def console_cells(scenario: str) -> list[nbformat.NotebookNode]:
    return [
        md("""
## 5. Recover the VM through the serial console

Opening the serial console is break-glass access: the approval reference (`approval` in the parameters cell) is
recorded in the transcript with who opened it. Log in with the lab-only account from the briefing (the password
you type is never recorded), find what blocks access and fix it so that it **survives a reboot**. The admin
buttons (NMI, SysRq, reset) ask for confirmation first.
"""),
        code("""
session = drill.console(approval)
terminal = console_widget(session)
terminal.show()
"""),
        code("""
if solution:  # the reference fix, typed through the same session (it reads what the console shows first)
    drill.solve(session)
"""),
    ]


def network_cells() -> list[nbformat.NotebookNode]:
    return [
        md("""
## 5. Recover the VM through ARM

The guest is fine: the serial console would not help here. The fix is a change to Azure's network
configuration, made through the ARM API with the Azure SDK (the lab's ARM API here; the same call works in
Azure with the right role). Read the rules as they are now:
"""),
        code("display(table(drill.nsg_rules(), caption='NSG rules on the path, read from ARM now'))"),
        md("### Question 3: which rule denies SSH?"),
        code("""
rule = ""   # the rule's name, as in the table
if solution:
    rule = drill.expected("rule")
drill.question("rule", rule)
"""),
        code("""
nsg = ""    # the NSG that holds it (the table's first column)
if solution:
    nsg = drill.facts["nsg"]
if rule and nsg:
    print(drill.delete_nsg_rule(nsg, rule))
else:
    display(callout("Set rule and nsg above, then run this cell to delete the rule through ARM.", kind="todo"))
"""),
    ]


def decision_cells() -> list[nbformat.NotebookNode]:
    return [
        md("""
## 5. The decision

Look at the end of the boot log above. Is there a shell on the serial console to fix this from? The check
below judges your answer to question 2: for this VM the right call is made before anyone types a command.
In production the next steps would be `az vm repair create …`, fixing `/boot` in a chroot on the repair VM,
then `az vm repair restore …` (see the classification's commands).
"""),
    ]


def tail_cells() -> list[nbformat.NotebookNode]:
    return [
        md("""
## 6. Check: is the VM really recovered?

The lab judges the VM's real state (for the network walkthrough: the offline verdict on freshly collected
evidence). The first passing check records your **time to repair**, from the start of this drill. Not yet?
Read the message, keep fixing, and run this cell again.
"""),
        code("""
outcome = drill.check()
display(outcome)
display(table([{"question": k, "your answer": a.given, "right": a.correct} for k, a in drill.answers.items()],
              caption="Your answers", empty="no answers yet"))
"""),
        md("""
## 7. Your postmortem

Generated from this drill's archive by `postmortem.ipynb`: your triage, the evidence, the console transcript.
Complete the **TO COMPLETE** sections as you would after a real incident.
"""),
        code("""
if postmortem and outcome.passed:
    pm = drill.postmortem()
    display(callout(f"Postmortem: {pm.html}", kind="good", title="Your postmortem"))
elif postmortem:
    display(callout("Recover the VM first (the check above), then run this cell again.", kind="todo"))
"""),
        code("""
if solution:
    drill.close()
"""),
    ]


def walkthrough(scenario: str, kind: str) -> nbformat.NotebookNode:
    body = {"console": console_cells(scenario), "nsg": network_cells(), "decision": decision_cells()}[kind]
    cells = [
        md(f"""
# Training walkthrough: {scenario}

{INTRO[scenario]} This is a drill on the kit's lab: a stand-in for Azure that the kit reaches exactly as it
reaches Azure. Work through the steps in order; each question is checked here, and the check at the end asks the
lab whether the VM is really recovered.

Start it with `kit train start {scenario}` (JupyterLab opens this notebook with a fresh copy), or run all cells
with a lab of its own. `kit train report` lists the drills, pass/fail and time to repair.
"""),
        code(parameters(scenario), "parameters"),
        code(("from kit.console.notebook import console_widget\n" if kind == "console" else "") + """
from IPython.display import display
from kit.report.present import setup, table, callout
from kit.report import sections as s
from kit.analyze.timeline import timeline_figure
from kit.train import open_drill
display(setup())
drill = open_drill(scenario, seed=seed, archive_root=archive_root, drill_id=drill_id or None, trainee=trainee,
                   mode="solution" if solution else "interactive")
drill.briefing()
"""),
        *triage_cells(),
        *body,
        *tail_cells(),
    ]
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index:02d}"
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    })


def main() -> None:
    import sys

    sys.path.insert(0, str(HERE.parents[1]))
    from kit.train.registry import list_walkthroughs

    for item in list_walkthroughs():
        nbformat.write(walkthrough(item.scenario, item.fix), HERE / f"{item.scenario}.ipynb")


if __name__ == "__main__":
    main()
