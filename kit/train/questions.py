"""The questions a walkthrough asks, checked against the scenario's expected answer, with folded hints.

Answers come from ``scenario.yaml`` (``expected``: level, hypothesis, next step) and its facts, so
they follow the variant a drill runs on. A hint is rendered as a closed ``<details>`` element: it
stays folded until the trainee asks for it by opening it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kit.errors import UsageError

if TYPE_CHECKING:
    from kit.lab import ScenarioInfo

__all__ = ["AnswerResult", "Question", "answer_html", "check_answer", "hints_html", "question_form", "questions_for"]

_LEVEL_HINTS = (
    "Start from the network verdict: does Azure (NSG, routes) let your SSH/RDP connection reach the NIC?",
    "Compare with the known-good peers: same subnet, same NSG? Then look at what the guest's boot log says.",
)
_NEXT_STEPS = ("serial_console", "change_nsg", "change_route", "repair_vm", "start_vm", "restart_vm", "redeploy_vm",
               "wait", "restore_backup", "escalate")
_HYPOTHESES = ("guest_firewall", "boot_failure:fstab", "boot_failure:kernel_panic", "service_failure:sshd",
               "service_failure:rdp", "nsg_deny", "route_blackhole", "vm_not_running", "platform")

_EXPLAIN = {
    "guest": "The platform path is open (NSG and routes allow the connection; the peers share them), "
             "but the guest itself refuses: a guest-level fault, fixed inside the VM.",
    "platform": "The guest is healthy; Azure's network configuration drops the connection before it "
                "reaches the VM: a platform-level (control-plane) fault, fixed through ARM.",
    "serial_console": "The guest boots far enough to offer a console: the serial console reaches it below "
                      "the broken network path, with an approval reference recorded.",
    "change_nsg": "The fix is an NSG change through ARM (here the lab's ARM API with the SDK); the console "
                  "would not help, the guest is fine.",
    "repair_vm": "The kernel panics before userspace: there is no shell on the serial console to fix "
                 "anything. Attach the OS disk to a repair VM, fix /boot there, swap it back.",
    "restart_vm": "The guest hung but nothing on its disk is broken: a restart brings it back; collect again "
                  "after it to see whether it hangs again.",
    "redeploy_vm": "The fault is the host or its storage path, not the guest: a redeploy moves the VM to another "
                   "host and keeps its disks (the temporary disk is lost).",
    "wait": "The guest is busy (updates, Group Policy or a disk check), not broken: restarting it now can cut "
            "an update short; watch the boot screenshot until it stops moving.",
}


@dataclass(frozen=True)
class Question:
    """One checked question.

    Attributes
    ----------
    key
        ``level``, ``hypothesis``, ``next_step`` or ``rule``.
    prompt
        What the trainee reads.
    choices
        Accepted answers (empty: free text, such as a rule name).
    answer
        The expected answer for this variant.
    hints
        Shown folded, one ``<details>`` each.
    explanation
        Shown once the answer is right.
    """

    key: str
    prompt: str
    choices: tuple[str, ...]
    answer: str
    hints: tuple[str, ...] = ()
    explanation: str = ""


@dataclass(frozen=True)
class AnswerResult:
    """The verdict on one answer."""

    key: str
    given: str
    correct: bool
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        return answer_html(self)


def questions_for(info: ScenarioInfo) -> dict[str, Question]:
    """The questions of the scenario ``info`` (a ``ScenarioInfo``), keyed by ``Question.key``."""
    expected = info.expected
    facts = _facts(info)
    questions = {
        "level": Question("level", f"Is {info.broken_vm}'s outage guest-level or platform-level?",
                          ("guest", "platform"), expected.level, _LEVEL_HINTS, _EXPLAIN.get(expected.level, "")),
        "hypothesis": Question(
            "hypothesis", "Which hypothesis explains the outage best?", _HYPOTHESES, expected.hypothesis,
            ("The classification ranks hypotheses; read what supports and contradicts the top one.",
             "The boot log's findings and the network verdict decide between guest and platform causes."),
            ""),
        "next_step": Question(
            "next_step", "What is the right next step?", _NEXT_STEPS, expected.next_step,
            ("Can the serial console reach a shell on this VM? Look at the end of the boot log.",
             "If Azure blocks the path, change Azure; if the guest cannot boot to a shell, work on its disk."),
            _EXPLAIN.get(expected.next_step, "")),
    }
    if facts.get("rule") and expected.next_step == "change_nsg":
        questions["rule"] = Question(
            "rule", f"Which rule of {facts.get('nsg')} denies SSH?", (), str(facts["rule"]),
            ("The network verdict names the deciding rule for port 22.",
             "Compare the NSG's rules with a peer's NSG: which rule only this VM has?"),
            "That rule has a lower priority number than the SSH allow rule, so it wins.")
    return questions


def _facts(info: ScenarioInfo) -> dict[str, Any]:
    import yaml

    path = getattr(info, "path", None)
    if path is None or not (path / "scenario.yaml").is_file():
        return {}
    return dict((yaml.safe_load((path / "scenario.yaml").read_text(encoding="utf-8")) or {}).get("facts") or {})


def _normal(text: Any) -> str:
    return str(text or "").strip().lower().replace(" ", "_").replace("-", "_")


def check_answer(question: Question, given: Any) -> AnswerResult:
    """Check ``given`` against ``question`` (case, spaces and dashes do not matter).

    Raises
    ------
    UsageError
        ``given`` is not one of the question's choices (the message lists them).
    """
    text = str(given or "").strip()
    if not text:
        return AnswerResult(question.key, "", False, f"Not answered yet: {question.prompt} Type your answer "
                            "in the cell above and run it again.")
    if question.choices:
        normal = {_normal(c): c for c in question.choices}
        if _normal(text) not in normal:
            raise UsageError(f"{text!r} is not an answer to {question.prompt!r}; choose one of: "
                             f"{', '.join(question.choices)}")
        text = normal[_normal(text)]
        correct = _normal(text) == _normal(question.answer)
    else:
        correct = text.strip().lower() == question.answer.strip().lower()
    if correct:
        return AnswerResult(question.key, text, True, f"Right: {text}. {question.explanation}".strip())
    return AnswerResult(question.key, text, False, f"Not quite: {text} is not it. Look again, or open a hint below.")


def hints_html(question: Question) -> str:
    """The question's hints, each folded in a closed ``<details>`` until the trainee opens it."""
    return "".join(f'<details class="kit-hint"><summary>Hint {i}</summary><p>{html.escape(hint)}</p></details>'
                   for i, hint in enumerate(question.hints, 1))


def answer_html(result: AnswerResult) -> str:
    """A coloured box with the verdict on an answer."""
    colour = "#1a7f37" if result.correct else ("#9a6700" if not result.given else "#cf222e")
    mark = "✔" if result.correct else ("…" if not result.given else "✘")
    return (f'<div class="kit-answer" data-key="{html.escape(result.key)}" '
            f'data-correct="{str(result.correct).lower()}" '
            f'style="border-left:4px solid {colour};padding:4px 8px;margin:4px 0">'
            f'<b>{mark} {html.escape(result.key)}</b>: {html.escape(result.message)}</div>')


def question_form(question: Question, ask: Callable[[Any], AnswerResult], answer: Any = "") -> Any:
    """An ipywidgets form: the choice (or a text field), a **Check** button, the verdict, folded hints.

    ``ask(given)`` checks and records an answer; a non-empty ``answer`` is filled in and checked at once.
    The elements carry ``kit-question-<key>``, ``kit-check-<key>`` and ``kit-verdict-<key>`` classes.
    """
    import ipywidgets as w

    key = question.key
    if question.choices:
        field = w.Dropdown(options=["", *question.choices], value="", description="answer",
                           layout=w.Layout(width="340px"))
    else:
        field = w.Text(value="", placeholder="type the name", description="answer", layout=w.Layout(width="340px"))
    field.add_class(f"kit-question-{key}")
    button = w.Button(description="Check", button_style="primary")
    button.add_class(f"kit-check-{key}")
    verdict = w.HTML()
    verdict.add_class(f"kit-verdict-{key}")

    def on_check(_: Any = None) -> None:
        try:
            verdict.value = answer_html(ask(field.value))
        except UsageError as error:
            verdict.value = f"<div class='kit-answer' style='color:#cf222e'>{html.escape(str(error))}</div>"

    button.on_click(on_check)
    if answer:
        normal = {c.lower(): c for c in question.choices}
        value = normal.get(str(answer).strip().lower()) if question.choices else str(answer)
        if value is None:
            ask(answer)  # raises UsageError naming the choices
        field.value = value
        on_check()
    prompt = w.HTML(f"<b>{html.escape(question.prompt)}</b>")
    return w.VBox([prompt, w.HBox([field, button]), verdict, w.HTML(hints_html(question))])
