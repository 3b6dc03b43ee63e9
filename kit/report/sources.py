"""Where a report's evidence comes from: ``lab:<scenario>``, ``azure`` or ``bundle:<path>``.

Collections made for a report land in the incident archive, next to the reports that use
them::

    archive/<incident>/evidence/<UTC timestamp>/<vm>/     one bundle per VM (broken VM + peers)

Under ``kit report`` the notebook's ``archive_dir`` is the run's staging folder
(``<incident>/.staging/<id>/``, same layout): the bundles are written there and moved to the
incident's ``evidence/`` when the run is recorded, so a run killed while collecting leaves no
half-written bundle in the incident; a path relative to ``archive_dir`` stays right after the move.

The lab's token and any Azure credential stay in this process's memory/environment; only the
bundles (which never hold a token) reach the archive. The Azure SDK and the lab are imported only
when a source collects (together about 1.3 s), so a report on a ``bundle:`` source starts fast.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.archive import incident_of, new_evidence_dir
from kit.azure.request import CollectionRequest, CollectionResult
from kit.errors import BundleFormatError, UsageError
from kit.evidence import Bundle, load_bundle, parse_source
from kit.times import require_time

if TYPE_CHECKING:
    from kit.azure.target import AzureTarget
    from kit.lab import ScenarioInfo

__all__ = ["Sources", "collect_into_archive", "load_source", "parse_names"]


@dataclass
class Sources:
    """The loaded evidence a report works on.

    Attributes
    ----------
    subject
        The broken VM's bundle.
    peers
        The known-good VMs' bundles.
    source
        What the report was given (``lab:firewall-lockout``, ``azure``, ``bundle:…``).
    scenario
        The lab scenario's ``ScenarioInfo`` for ``lab:`` sources, else ``None``.
    responder_ip
        The responder's source address: the parameter, else the scenario's, else ``None``.
    """

    subject: Bundle
    peers: list[Bundle] = field(default_factory=list)
    source: str = ""
    scenario: ScenarioInfo | None = None
    responder_ip: str | None = None

    @property
    def bundles(self) -> list[Bundle]:
        """The broken VM's bundle followed by the peers'."""
        return [self.subject, *self.peers]


def parse_names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """VM names from a list or a comma/space separated string (``"vm-b, vm-c"``)."""
    if value is None:
        return ()
    items = value.replace(",", " ").split() if isinstance(value, str) else [str(v).strip() for v in value]
    return tuple(item for item in items if item)


def _window_time(value: str | dt.datetime | None, what: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    return require_time(value, what)


def _inside_incident(path: Path, archive_dir: Path) -> bool:
    """Whether ``path`` already lies in the incident ``archive_dir`` belongs to (or in its staging folder)."""
    return path.resolve().is_relative_to(incident_of(archive_dir.resolve()))


def _copy_into_archive(subject: Bundle, archive_dir: Path) -> Bundle:
    """Copy a verified bundle and its peers' into ``<archive_dir>/evidence/<timestamp>/`` and load the copy,
    so the archive holds, and ``kit verify`` covers, the evidence the report was made from."""
    target = new_evidence_dir(archive_dir)
    for bundle in (subject, *subject.peers()):
        shutil.copytree(bundle.path, target / bundle.path.name)
    return load_bundle(target / subject.path.name)


def collect_into_archive(target: AzureTarget, request: CollectionRequest, archive_dir: str | Path | None,
                         **kwargs: Any) -> CollectionResult:
    """Collect ``request`` with ``target`` into ``<archive_dir>/evidence/<timestamp>/``.

    Returns the collector's ``CollectionResult`` (bundle paths, broken VM first).
    """
    from kit.azure.collect import collect  # the SDK (~0.7 s), only when collecting

    return collect(target, request, new_evidence_dir(archive_dir), **kwargs)


@contextlib.contextmanager
def _lab_target(scenario: str) -> Iterator[tuple[ScenarioInfo, AzureTarget]]:
    """A lab serving ``scenario`` and an ``AzureTarget`` for it (the token stays in the target)."""
    from kit.azure.target import AzureTarget
    from kit.lab import running_lab  # aiohttp and the scenario data (~0.6 s), only for lab: sources

    with running_lab(scenarios=[scenario]) as lab:
        yield lab.scenario(scenario), AzureTarget.for_lab(lab)


def _bundle_paths(path: Path, vm: str | None) -> Path:
    """The subject bundle at ``path``: the bundle itself, or the subject among its children."""
    if (path / "manifest.json").is_file():
        return path
    if not path.is_dir():
        raise UsageError(f"bundle source {str(path)!r} does not exist")
    children = sorted(p for p in path.iterdir() if (p / "manifest.json").is_file())
    if vm:
        for child in children:
            if child.name == vm:
                return child
    subjects = [c for c in children if load_bundle(c).role == "subject"]
    if len(subjects) == 1:
        return subjects[0]
    raise UsageError(
        f"{str(path)!r} holds {len(subjects)} broken-VM bundles; point source at one (bundle:{path}/<vm>) or set vm"
    )


def load_source(
    source: str,
    *,
    subscription: str | None = None,
    resource_group: str | None = None,
    vm: str | None = None,
    known_good: str | Sequence[str] | None = None,
    archive_dir: str | Path | None = None,
    window_start: str | dt.datetime | None = None,
    window_end: str | dt.datetime | None = None,
    window_hours: float | None = None,
    responder_ip: str | None = None,
    arm_endpoint: str | None = None,
    cloud: str = "AzureCloud",
    credential: str = "default",
    ca_bundle: str | None = None,
) -> Sources:
    """Load (collecting first when needed) the bundles a report works on.

    Parameters
    ----------
    source
        ``lab:<scenario>`` starts the lab in this process and collects the scenario's broken
        VM and known-good VMs; ``azure`` collects from ARM with the target options;
        ``bundle:<path>`` loads a collected bundle (or the broken VM's among a folder's) and,
        with ``archive_dir``, copies it and its peers' into the incident's ``evidence/`` first
        (not when it is already in the incident).
    subscription, resource_group, vm, known_good
        The VMs (defaults from the scenario for ``lab:``, a scale-set scenario's broken instance and
        its peers by instance id; required for ``azure``, where ``vm`` may instead be the full ARM id of
        a VM or of a uniform scale-set instance, whose ``known_good`` are instance ids).
    archive_dir
        The incident folder; collections go to its ``evidence/<timestamp>/``.
    window_start, window_end, window_hours
        The Activity Log window (ISO 8601; a time without a zone is UTC); default: the
        scenario's, else the ``window_hours`` (24) before ``window_end`` (now).
    responder_ip
        The responder's source address for the SSH/RDP verdict.
    arm_endpoint, cloud, credential, ca_bundle
        Target options for ``azure`` (a credential *kind*, secrets come from the environment; a PEM
        file to trust for the endpoint).

    Raises
    ------
    UsageError
        Unknown source form or missing coordinates.
    """
    where = parse_source(source)
    start, end = _window_time(window_start, "window_start"), _window_time(window_end, "window_end")
    if window_hours is not None and start is None:
        end = end or dt.datetime.now(dt.UTC)
        start = end - dt.timedelta(hours=float(window_hours))
    peers_wanted = parse_names(known_good)
    if where.path is not None:
        subject = load_bundle(_bundle_paths(where.path, vm))
        if archive_dir and not _inside_incident(subject.path, Path(archive_dir)):
            subject = _copy_into_archive(subject, Path(archive_dir))
        peers = subject.peers()
        if peers_wanted:
            peers = [p for p in peers if p.name in peers_wanted]
            missing = sorted(set(peers_wanted) - {p.name for p in peers})
            if missing:
                raise BundleFormatError(f"no bundle for known-good VM(s) {', '.join(missing)} next to {subject.path}")
        return Sources(subject=subject, peers=peers, source=source, responder_ip=responder_ip)
    if where.scenario is not None:
        with _lab_target(where.scenario) as (info, target):
            s, e = info.window
            if info.scale_set and not vm:  # the broken instance and its peers, by instance id
                request = CollectionRequest(
                    info.subscription_id, info.resource_group, info.instance_id(info.broken_vm),
                    tuple(peers_wanted) or tuple(info.instance_id(name) for name in info.known_good),
                    start=start or s, end=end or e, source=str(where), scale_set=info.scale_set)
            elif vm and vm.startswith("/"):
                request = CollectionRequest.for_vm_id(vm, known_good=tuple(peers_wanted), start=start or s,
                                                      end=end or e, source=str(where))
            else:
                request = CollectionRequest(
                    subscription or info.subscription_id, resource_group or info.resource_group,
                    vm or info.broken_vm, peers_wanted or info.known_good, start=start or s, end=end or e,
                    source=str(where))
            result = collect_into_archive(target, request, archive_dir)
        subject = load_bundle(result.subject)
        return Sources(subject=subject, peers=subject.peers(), source=source, scenario=info,
                       responder_ip=responder_ip or info.responder_ip)
    from kit.azure.target import AzureTarget  # the SDK's credentials, only when collecting

    if vm and vm.startswith("/"):  # a VM's or a scale-set instance's full id names everything
        request = CollectionRequest.for_vm_id(vm, known_good=tuple(peers_wanted), start=start, end=end, source="azure")
    else:
        missing = [n for n, v in (("subscription", subscription), ("resource_group", resource_group), ("vm", vm))
                   if not v]
        if missing:
            raise UsageError(f"source 'azure' needs {', '.join(missing)} (or vm as the VM's or scale-set "
                             "instance's full ARM resource id)")
        request = CollectionRequest(str(subscription), str(resource_group), str(vm), peers_wanted,
                                    start=start, end=end, source="azure")
    target = AzureTarget(arm_endpoint=arm_endpoint or "", cloud=cloud, credential=credential,
                         ca_bundle=Path(ca_bundle) if ca_bundle else None)
    subject = load_bundle(collect_into_archive(target, request, archive_dir).subject)
    return Sources(subject=subject, peers=subject.peers(), source=source, responder_ip=responder_ip)
