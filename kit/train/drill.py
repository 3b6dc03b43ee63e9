"""A drill: one trainee working one walkthrough against one variant, recorded in the archive.

The walkthrough notebooks hold narrative; this object does the work a cell asks for::

    drill = open_drill("firewall-lockout", seed=None, archive_root="archive")
    drill.briefing()                 # what on-call knows (and the lab-only console credentials)
    t = drill.triage()               # collect evidence, boot log, timeline, network verdict, classification
    drill.ask("level", "guest")      # checked answer (hints: drill.hints("level"), folded)
    session = drill.console("CHG-4711")   # the serial console (approval reference recorded)
    drill.check()                    # does the lab agree the VM is recovered? records time to repair
    drill.postmortem()               # the trainee's postmortem from the drill's archive

The lab is the training lab named by the environment (``kit train start``), or one started in
this process for the variant asked for.
"""

from __future__ import annotations

import contextlib
import html
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kit.analyze.network import load_network, ssh_rdp_verdicts
from kit.analyze.triage import TriageResult, triage
from kit.archive import atomic_write, incident_dir, new_incident
from kit.azure.changes import delete_security_rule, list_security_rules
from kit.azure.collect import CollectionRequest
from kit.azure.sealing import sealed
from kit.azure.target import AzureTarget
from kit.console.open import open_lab_session
from kit.console.session import Session
from kit.errors import LabError, UsageError
from kit.evidence import load_bundle
from kit.report import sections
from kit.report.present import Html, save_result
from kit.report.runner import ReportRun, run_report
from kit.report.sources import Sources, collect_into_archive
from kit.times import utc_text
from kit.train.lab import DrillLab, connect_lab, served_seed, training_lab
from kit.train.questions import AnswerResult, check_answer, hints_html, question_form, questions_for
from kit.train.records import drill_prefix, format_duration, record_event
from kit.train.solutions import solve_console

__all__ = ["CheckOutcome", "Drill", "open_drill"]

NETWORK_FIX = ("change_nsg", "change_route")


@dataclass(frozen=True)
class CheckOutcome:
    """The lab's verdict on the drill.

    Attributes
    ----------
    passed
        Whether the VM is really recovered (or, for a decision drill, the decision is right).
    message
        What a trainee reads: what is still wrong, or why it is fixed.
    attempt
        Which check this was (1, 2 …).
    time_to_repair_s
        Seconds from the drill's start to this passing check (``None`` while failing).
    """

    passed: bool
    message: str
    attempt: int
    time_to_repair_s: float | None = None

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        title = "RECOVERED" if self.passed else "NOT RECOVERED YET"
        ttr = f"<br>time to repair: {format_duration(self.time_to_repair_s)}" if self.passed else ""
        return (f'<div class="kit-check" data-passed="{str(self.passed).lower()}" style="border:2px solid {colour};'
                f'padding:6px 10px;margin:6px 0"><b style="color:{colour}">{title}</b> (check {self.attempt})<br>'
                f"{html.escape(self.message)}{ttr}</div>")

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}: {self.message}"


class Drill:
    """One drill; build it with :func:`open_drill`."""

    def __init__(self, scenario: str, *, seed: int | None, archive_root: str | Path, drill_id: str | None,
                 trainee: str, mode: str) -> None:
        self._stack = contextlib.ExitStack()
        self.scenario = scenario
        lab: DrillLab
        remote = connect_lab()
        if remote is not None:
            if scenario not in remote.scenario_names:
                raise LabError(f"the training lab serves {', '.join(remote.scenario_names)}, not {scenario!r}: "
                               f"start it with `kit train start {scenario}`")
            lab = remote
            served = served_seed(lab.scenario(scenario).path)
            if seed is not None and seed != served:
                raise UsageError(f"the training lab serves seed {served} of {scenario}, not {seed}: "
                                 f"leave seed as None, or restart with `kit train start {scenario} --seed {seed}`")
            seed = served
        else:
            seed = 0 if seed is None else int(seed)
            lab = self._stack.enter_context(training_lab({scenario: seed})).lab
        self.lab = lab
        self.seed = int(seed)
        self.info = lab.scenario(scenario)
        self.facts = dict((yaml.safe_load((self.info.path / "scenario.yaml").read_text(encoding="utf-8")) or {})
                          .get("facts") or {})
        self.questions = questions_for(self.info)
        self.answers: dict[str, AnswerResult] = {}
        self.mode = mode
        self.trainee = trainee
        self.root = incident_dir(archive_root, drill_id) if drill_id else new_incident(archive_root, drill_prefix(
            scenario, self.seed))
        self.id = self.root.name
        self.archive_root = Path(archive_root)
        self._work = Path(tempfile.mkdtemp(prefix="kit-drill-"))
        self._stack.callback(shutil.rmtree, self._work, True)
        self.sessions: list[Session] = []
        self.actions: list[dict[str, Any]] = []
        self.sources: Sources | None = None
        self.triage_result: TriageResult | None = None
        self._started = time.monotonic()
        self.started_at = utc_text()
        self._checks = 0
        self._passed: CheckOutcome | None = None
        record_event(self.root, "start", {"scenario": scenario, "seed": self.seed, "mode": mode,
                                          "trainee": trainee, "started_at": self.started_at, "vm": self.info.broken_vm},
                     files={"start.json": {"scenario": scenario, "seed": self.seed, "mode": mode, "trainee": trainee,
                                           "started_at": self.started_at, "vm": self.info.broken_vm,
                                           "title": self.info.title}})

    # ------------------------------------------------------------------ briefing
    @property
    def kind(self) -> str:
        """``console`` (fixed through the serial console), ``network`` (an ARM change) or ``decision``."""
        step = self.info.expected.next_step
        if step in NETWORK_FIX:
            return "network"
        return "console" if step == "serial_console" else "decision"

    def briefing(self) -> Html:
        """What the on-call engineer knows: symptom, VM, time; and the lab-only console account."""
        info = self.info
        rows = [("VM", info.broken_vm), ("subscription", info.subscription_id), ("resource group", info.resource_group),
                ("region", info.location), ("healthy peers", ", ".join(info.known_good) or "none"),
                ("you connect from", info.responder_ip),
                ("Activity Log window", f"{info.window_start:%Y-%m-%d %H:%M} – {info.window_end:%Y-%m-%d %H:%M} UTC")]
        table = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in rows)
        guest = info.guest or {}
        account = (f"<p><small>Lab-only console account (scenario data, not a secret): "
                   f"<code>{html.escape(str(guest.get('username', '')))}</code> / "
                   f"<code>{html.escape(str(guest.get('password', '')))}</code>. The password you type is "
                   "never recorded in the transcript.</small></p>") if self.kind != "network" else ""
        return Html(f'<div class="kit-briefing"><h3>{html.escape(info.title)}</h3>'
                    f"<p>{html.escape(info.briefing)}</p><table>{table}</table>{account}"
                    f"<p><small>Drill {html.escape(self.id)} · variant seed {self.seed}</small></p></div>")

    # ------------------------------------------------------------------ triage
    def target(self) -> AzureTarget:
        """An ``AzureTarget`` for the lab (it holds the lab's token in memory)."""
        return AzureTarget.for_lab(self.lab)

    def collect(self, *, peers: bool = True) -> Sources:
        """Collect the broken VM (and its peers) into the drill's ``evidence/``, recorded; the ``Sources``."""
        info = self.info
        request = CollectionRequest.for_scenario(info, peers=peers)
        with sealed(self.root, "evidence", about={"source": request.source}) as stage:
            result = collect_into_archive(self.target(), request, stage.folder)
            stage.commit({"kind": "evidence", "source": request.source,
                          "bundles": [stage.relative(path) for path in result.bundles]})
        subject = load_bundle(stage.final(result.subject))
        return Sources(subject=subject, peers=subject.peers(), source=f"lab:{info.name}", scenario=info,
                       responder_ip=info.responder_ip)

    def triage(self) -> TriageResult:
        """Collect, then run the triage pipeline (:func:`kit.analyze.triage.triage`) on the evidence.

        The result is archived as a triage run (``reports/<time>-triage/triage.json``), so the
        postmortem finds it.
        """
        src = self.sources = self.collect()
        self.triage_result = triage(src.subject, src.peers, responder_ip=src.responder_ip)
        with sealed(self.root, "triage", about={"notebook": f"training/{self.scenario}.ipynb"}) as stage:
            run = stage.run_dir("triage")
            save_result(run, "triage", sections.triage_result(src, self.triage_result, self.root))
            stage.commit({"kind": "report", "notebook": f"training/{self.scenario}.ipynb (triage step)",
                          "run": stage.relative(run), "parameters": {"incident": self.id}, "status": "ok",
                          "error": None, "started_at": self.started_at, "finished_at": utc_text()})
        return self.triage_result

    # ------------------------------------------------------------------ questions
    def ask(self, key: str, answer: Any) -> AnswerResult:
        """Check the trainee's ``answer`` to question ``key``; an empty answer only reminds."""
        if key not in self.questions:
            raise UsageError(f"no question {key!r} in this walkthrough; questions: {', '.join(self.questions)}")
        result = check_answer(self.questions[key], answer)
        if result.given:
            self.answers[key] = result
            record_event(self.root, "answer", {"question": key, "correct": result.correct, "answer": result.given})
        return result

    def question(self, key: str, answer: Any = "") -> Any:
        """The question as a small form (choice, **Check** button, verdict, folded hints).

        ``answer`` (from the cell, or solution mode) is filled in and checked at once.
        """
        return question_form(self.questions[key], lambda given: self.ask(key, given), answer)

    def hints(self, key: str) -> Html:
        """The question's hints, folded (``<details>``) until opened."""
        question = self.questions[key]
        return Html(f"<p><b>{html.escape(question.prompt)}</b> "
                    f"{'(' + ' / '.join(question.choices) + ')' if question.choices else ''}</p>{hints_html(question)}")

    def expected(self, key: str) -> str:
        """The right answer to question ``key`` for this variant (solution mode; facilitators)."""
        return self.questions[key].answer

    # ------------------------------------------------------------------ acting
    def console(self, approval: str) -> Session:
        """A serial-console session to the broken VM (opened by the widget or ``with``).

        The transcript is redacted (the typed password never reaches it) and archived with the
        drill once the check passes.
        """
        if not str(approval or "").strip():
            raise UsageError("opening the serial console needs an approval reference: set approval = 'CHG-…'")
        transcript = self._work / f"{self.id}-console-{len(self.sessions) + 1}.cast"
        session = open_lab_session(self.lab, self.scenario, approval=approval, transcript=transcript, timeout=20)
        self.sessions.append(session)
        return session

    def solve(self, session: Session) -> list[str]:
        """Perform the reference fix through ``session`` (solution mode)."""
        guest = self.info.guest or {}
        if session.state.name == "UNOPENED":
            session.open()
        outputs = solve_console(self.scenario, session, str(guest.get("username", "azureuser")),
                                str(guest.get("password", "")), self.facts)
        self.actions.append({"action": "console fix (solution mode)", "at": utc_text()})
        return outputs

    def nsg_rules(self, nsg: str | None = None) -> list[dict[str, Any]]:
        """The rules of ``nsg`` (default: every NSG on the broken VM's path), read from ARM now."""
        names = [nsg] if nsg else self._path_nsgs()
        rows = []
        for name in names:
            for rule in list_security_rules(self.target(), self.info.subscription_id, self.info.resource_group, name):
                rows.append({"nsg": name, **rule})
        return rows

    def _path_nsgs(self) -> list[str]:
        if self.triage_result is None:
            self.triage()
        assert self.triage_result is not None
        return sorted(self.triage_result.bundle.nsgs)

    def delete_nsg_rule(self, nsg: str, rule: str) -> str:
        """Delete ``rule`` from ``nsg`` through the lab's ARM API (the Azure SDK), as in production."""
        if not nsg or not rule:
            raise UsageError("name the NSG and the rule to delete")
        delete_security_rule(self.target(), self.info.subscription_id, self.info.resource_group, nsg, rule)
        self.actions.append({"action": f"deleted NSG rule {rule} from {nsg}", "at": utc_text()})
        record_event(self.root, "action", {"action": "delete_nsg_rule", "nsg": nsg, "rule": rule})
        return f"deleted {rule} from {nsg}"

    # ------------------------------------------------------------------ the check
    def _judge(self) -> tuple[bool, str]:
        if self.kind == "console":
            result = self.lab.check(self.scenario)
            return bool(result.passed), str(result.message)
        if self.kind == "network":
            src = self.collect(peers=False)
            port = 3389 if (self.info.guest or {}).get("os") == "windows" else 22
            verdict = ssh_rdp_verdicts(load_network(src.subject), self.info.responder_ip)[port]
            rule = verdict.flow.rule
            if verdict.reachable:
                return True, (f"Azure now lets {self.info.responder_ip} reach {self.info.broken_vm} on port {port} "
                              f"(the offline verdict on fresh evidence: {verdict.access} by {rule or 'no NSG'}).")
            return False, (f"Azure still drops {self.info.responder_ip} → {self.info.broken_vm}:{port}: "
                           f"{verdict.access} by rule {rule or '?'} (fresh evidence, offline verdict). "
                           "Change that NSG through ARM.")
        given = self.answers.get("next_step")
        if given is None:
            return False, ("No decision recorded yet: answer the 'next step' question. Is there a shell on the "
                           "serial console to fix this from?")
        if given.correct:
            return True, f"Right decision: {given.given}. {self.questions['next_step'].explanation}"
        return False, (f"{given.given} will not recover this VM: the kernel panics before userspace, so nothing "
                       "on the console can run a fix. Decide again.")

    def check(self) -> CheckOutcome:
        """Ask the lab whether the VM is really recovered; record the attempt and time to repair."""
        passed, message = self._judge()
        self._checks += 1
        ttr = None
        if passed:
            ttr = round(time.monotonic() - self._started, 1) if self._passed is None else self._passed.time_to_repair_s
        outcome = CheckOutcome(passed, message, self._checks, ttr)
        if passed and self._passed is None:
            self._passed = outcome
            for session in self.sessions:  # the drill is over: close the console, archive what it saw
                with contextlib.suppress(Exception):
                    session.close()
            self.archive_transcripts()
        answers = {k: {"answer": a.given, "correct": a.correct} for k, a in self.answers.items()}
        record_event(self.root, "check", {"attempt": self._checks, "passed": passed, "message": message,
                                          "time_to_repair_s": ttr},
                     files={f"check-{self._checks}.json": {"attempt": self._checks, "passed": passed,
                                                          "message": message, "time_to_repair_s": ttr,
                                                          "answers": answers, "actions": self.actions,
                                                          "checked_at": utc_text()}})
        return outcome

    def archive_transcripts(self) -> list[Path]:
        """Record the console transcripts so far in the drill's ``transcripts/`` (once each)."""
        new = []
        for session in self.sessions:
            cast = Path(session.transcript.cast_path) if session.transcript is not None else None
            if cast is not None:
                new += [p for p in (cast, cast.with_suffix(".txt"))
                        if p.is_file() and not (self.root / "transcripts" / p.name).exists()]
        if not new:
            return []
        with sealed(self.root, "transcripts", about={"sessions": len(self.sessions)}) as stage:
            for source in new:
                atomic_write(stage.folder / "transcripts" / source.name, source.read_bytes())
            stage.commit({"kind": "drill", "event": "transcripts", "at": utc_text(),
                          "transcripts": [f"transcripts/{p.name}" for p in new]})
        return [self.root / "transcripts" / p.name for p in new]

    # ------------------------------------------------------------------ after
    def postmortem(self, *, service: str = "") -> ReportRun:
        """The trainee's postmortem: ``postmortem.ipynb`` run on this drill's archive (a ``ReportRun``)."""
        self.archive_transcripts()
        return run_report("postmortem", incident=self.id, archive_root=self.archive_root,
                          parameters={"service": service or self.info.title, "owner": self.trainee or "trainee"})

    def close(self) -> None:
        """Close the console sessions and stop a lab this drill started."""
        for session in self.sessions:
            with contextlib.suppress(Exception):
                session.close()
        self._stack.close()

    def __enter__(self) -> Drill:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Drill {self.id} {self.scenario} seed={self.seed} checks={self._checks}>"


def open_drill(scenario: str, *, seed: int | None = None, archive_root: str | Path = "archive",
               drill_id: str | None = None, trainee: str = "", mode: str = "interactive") -> Drill:
    """Start a drill of ``scenario``: connect to the training lab (or start one), record the start.

    Parameters
    ----------
    scenario
        A walkthrough's scenario (``kit train list``).
    seed
        The variant; ``None`` takes what the training lab serves (0 when this call starts the lab).
    archive_root
        Where the drill's incident folder (``DRILL-…``) goes.
    drill_id
        The incident id (default ``DRILL-<scenario>-s<seed>-<UTC time>``).
    trainee
        Who is drilling (shown in ``kit train report``).
    mode
        ``interactive`` or ``solution`` (recorded).
    """
    return Drill(scenario, seed=seed, archive_root=archive_root, drill_id=drill_id, trainee=trainee, mode=mode)
