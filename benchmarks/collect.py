"""Concurrent vs sequential evidence collection against the lab with 200 ms per call.

    python benchmarks/collect.py [--scenario firewall-lockout] [--latency 0.2]

Starts the lab with the given latency on every call, collects the scenario's broken VM and
two known-good VMs with the kit's concurrent collector (after one unmeasured warm-up run that
pays the SDK imports for both), then makes the same calls with the
same client code awaited one after another, and prints both wall times and their ratio
(target: <= 0.35).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit.azure.collect import CollectionRequest, collect  # noqa: E402
from kit.azure.target import AzureTarget  # noqa: E402
from kit.lab import Faults, running_lab  # noqa: E402


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="firewall-lockout")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to every lab call")
    parser.add_argument("--scenario-dir", default=None, help="folder of scenarios (default: the built-in ones)")
    args = parser.parse_args()
    dirs = [args.scenario_dir] if args.scenario_dir else None
    with running_lab(faults=Faults(latency=args.latency), scenario_dirs=dirs) as lab, \
            tempfile.TemporaryDirectory() as scratch:
        info = lab.scenario(args.scenario)
        request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm,
                                    tuple(info.known_good[:2]), info.window_start, info.window_end)
        target = AzureTarget.for_lab(lab)
        collect(target, request, Path(scratch) / "warm-up", polling_interval=0.1)  # imports, TLS, token
        figures = {}
        for label, concurrent in (("concurrent", True), ("sequential", False)):
            began = time.perf_counter()
            result = collect(target, request, Path(scratch) / label, concurrent=concurrent, polling_interval=0.1)
            figures[label] = time.perf_counter() - began
            calls = sum(result.calls.values())
            failed = sum(len(items) for items in result.failures.values())
            print(f"{label:<11} {figures[label]:6.2f} s  ({len(result.bundles)} VMs, {calls} calls, {failed} failed)")
    ratio = figures["concurrent"] / figures["sequential"]
    print(f"ratio       {ratio:6.3f}  (concurrent / sequential; target <= 0.35) "
          f"latency {args.latency * 1000:.0f} ms/call, scenario {args.scenario}")
    return 0 if ratio <= 0.35 else 1


if __name__ == "__main__":
    raise SystemExit(main())
