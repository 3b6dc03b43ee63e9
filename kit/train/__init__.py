"""Training walkthroughs: guided break-glass drills on the lab, checked automatically.

- :func:`open_drill` / :class:`Drill`: what a walkthrough notebook's cells call (briefing, triage,
  checked questions with folded hints, the console, the NSG change, the check, the postmortem).
- :func:`list_walkthroughs`, :func:`get_walkthrough`: the six walkthroughs.
- :func:`training_lab`, :func:`connect_lab`: a lab serving seeded variants (``kit.lab.variants``),
  reached from JupyterLab kernels through the environment.
- :func:`run_walkthrough`: papermill a walkthrough (``solution=True`` performs the fix).
- :func:`drill_rows`, :func:`format_report`: the drills recorded in an archive.
"""

from kit.train.drill import CheckOutcome, Drill, open_drill
from kit.train.lab import RemoteLab, TrainingLab, connect_lab, training_lab
from kit.train.questions import AnswerResult, Question, check_answer, questions_for
from kit.train.records import DrillRow, drill_rows, format_report
from kit.train.registry import Walkthrough, get_walkthrough, list_walkthroughs
from kit.train.runner import WalkthroughRun, run_walkthrough

__all__ = [
    "AnswerResult",
    "CheckOutcome",
    "Drill",
    "DrillRow",
    "Question",
    "RemoteLab",
    "TrainingLab",
    "Walkthrough",
    "WalkthroughRun",
    "check_answer",
    "connect_lab",
    "drill_rows",
    "format_report",
    "get_walkthrough",
    "list_walkthroughs",
    "open_drill",
    "questions_for",
    "run_walkthrough",
    "training_lab",
]
