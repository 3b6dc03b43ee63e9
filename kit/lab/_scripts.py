"""Where the lab's Run Command runs a script: the VM's guest, or a runner registered for the VM.

The Run Command routes (:mod:`kit.lab.arm_runcommand`) ask :func:`script_runner` for the VM named
in the URL. A runner registered with :func:`register_script_runner` wins (a repair VM, whose
guest is a rescue shell with the broken VM's disk attached); otherwise the routes fall back to
the scenario guest the serial console talks to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kit.lab._state import LabState

__all__ = ["ScriptRun", "ScriptRunner", "register_script_runner", "script_runner", "unregister_script_runner"]


@dataclass(frozen=True)
class ScriptRun:
    """What one script printed and how it ended, as the VM agent reports it.

    Parameters
    ----------
    stdout, stderr
        Everything the script wrote to each stream (the routes truncate as Azure does).
    exit_code
        The script's exit status.
    """

    stdout: str
    stderr: str
    exit_code: int


#: ``runner(script, shell)`` with ``shell`` ``"bash"`` or ``"powershell"``; runs the script in the guest.
ScriptRunner = Callable[[str, str], Awaitable[ScriptRun]]


def _runners(state: LabState) -> dict[str, ScriptRunner]:
    runners: dict[str, ScriptRunner] = state.extras.setdefault("script_runners", {})
    return runners


def register_script_runner(state: LabState, vm_id: str, runner: ScriptRunner) -> None:
    """Run the scripts sent to ``vm_id`` with ``runner`` (replaces any runner it had)."""
    _runners(state)[vm_id.lower()] = runner


def unregister_script_runner(state: LabState, vm_id: str) -> None:
    """Forget ``vm_id``'s runner (the VM was deleted)."""
    _runners(state).pop(vm_id.lower(), None)


def script_runner(state: LabState, vm_id: str) -> ScriptRunner | None:
    """The runner registered for ``vm_id``, or ``None`` (use the scenario's guest)."""
    return _runners(state).get(vm_id.lower())
