"""The shapes of the archive's two extension points, and one way to chain hooks.

- ``record(root, event, after_write=hook)``: ``hook(manifest_path, manifest_bytes)`` runs under
  the incident lock right after ``manifests/<n>.json`` is written (sign it, witness its hash).
- ``verify_archive(root, checks=[check, …])``: ``check(root, chain)`` gets the incident folder
  and the chain's ``(manifest path, manifest bytes)`` in order, and returns problem sentences.

The producers: :func:`kit.archive.signing.ssh_signer` / :func:`~kit.archive.signing.signature_check`
and :func:`kit.archive.witness.witness_append` / :func:`~kit.archive.witness.witness_check`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["AfterWrite", "ExtraCheck", "Manifests", "after_each"]

#: The chain as a check receives it: every manifest's path and bytes, oldest first.
Manifests = list[tuple[Path, bytes]]
#: ``after_write(manifest_path, manifest_bytes)``; raises to report a failure.
AfterWrite = Callable[[Path, bytes], None]
#: ``check(incident_root, chain) -> problem sentences`` (empty: nothing found). It may carry
#: ``covers``: the ``kit.archive.verify.LIMITS`` keys it detects (``{"recomputed"}`` for a signer).
ExtraCheck = Callable[[Path, Manifests], list[str]]


def after_each(*hooks: AfterWrite | None) -> AfterWrite | None:
    """One ``after_write`` hook running ``hooks`` in order (``None`` entries skipped); ``None`` if none is left.

    Order matters: sign before witnessing, so a witnessed head always has its signature on disk.
    The first hook that raises stops the rest.
    """
    chosen = [hook for hook in hooks if hook is not None]
    if not chosen:
        return None
    if len(chosen) == 1:
        return chosen[0]

    def run(path: Path, data: bytes) -> None:
        for hook in chosen:
            hook(path, data)

    return run
