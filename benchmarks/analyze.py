"""Benchmarks for kit.analyze: run ``python benchmarks/analyze.py``; every ``bench_*`` function runs.

Each section prints its own figures; nothing here is a test (no pass/fail).
"""

from __future__ import annotations

import os
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_ESC = "\x1b"
_OK = f"[{_ESC}[0;32m  OK  {_ESC}[0m] "
_BOOT = [
    "[    0.000000] Linux version 5.15.0-1051-azure (buildd@lcy02-amd64-017) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04)"
    " 11.4.0) #59-Ubuntu SMP",
    "[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-5.15.0-1051-azure root=PARTUUID=8b7c6d4e ro console=ttyS0"
    " earlyprintk=ttyS0",
    "[    0.000000] DMI: Microsoft Corporation Virtual Machine/Virtual Machine,"
    " BIOS Hyper-V UEFI Release v4.1 05/09/2022",
    "[    0.000000] Hypervisor detected: Microsoft Hyper-V",
    "[    0.281402] hv_vmbus: Vmbus version:5.2",
    "[    0.441190] hv_vmbus: registering driver hv_storvsc",
    "[    0.532001] Run /init as init process",
    "Loading, please wait...",
    "Begin: Loading essential drivers ... done.",
    "[    0.953322] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.",
    "[    1.201000] systemd[1]: Detected virtualization microsoft.",
    f"Welcome to {_ESC}[1mUbuntu 22.04.3 LTS{_ESC}[0m!",
    _OK + f"Started {_ESC}[0;1;39mJournal Service{_ESC}[0m.",
    "[    5.200000] cloud-init[523]: Cloud-init v. 23.3.3-0ubuntu0~22.04.1 running 'init-local'"
    " at Wed, 25 Nov 2026 09:13:50 +0000. Up 5.20 seconds.",
    "[    6.320000] cloud-init[598]: ci-info: |  eth0  | True |   10.0.0.4   | 255.255.255.0 | global"
    " | 00:0d:3a:5b:8c:2e |",
    "2026-11-25T09:13:58.631221Z INFO ExtHandler ExtHandler Wire server endpoint:168.63.129.16",
    _OK + f"Started {_ESC}[0;1;39mOpenBSD Secure Shell server{_ESC}[0m.",
    _OK + f"Reached target {_ESC}[0;1;39mMulti-User System{_ESC}[0m.",
    "",
    "Ubuntu 22.04.3 LTS vm-web-01 ttyS0",
    "",
    "vm-web-01 login: ",
]
_CHATTER = [
    "hv_balloon: Balloon request will be partially fulfilled. Balloon floor reached.",
    'audit: type=1400 audit(1764061991.123:456): apparmor="STATUS" operation="profile_replace" profile="unconfined"'
    ' name="snap-update-ns.lxd" pid=4312 comm="apparmor_parser"',
    "systemd-journald[345]: Data hash table of /var/log/journal/5d3c/system.journal has a fill level at 75.0"
    " (8533 of 11377 items, 6291456 file size, 737 bytes per hash table item), suggesting rotation.",
    "IPv6: ADDRCONF(NETDEV_CHANGE): enP12345s1: link becomes ready",
    "hv_netvsc 000d3a5b-8c2e-000d-3a5b-8c2e000d3a5b eth0: Data path switched to VF: enP12345s1",
    "mlx5_core 3039:00:02.0 enP12345s1: Link up",
    "loop3: detected capacity change from 0 to 96472",
    "hv_utils: TimeSync IC version 4.0",
    "EXT4-fs (sdb1): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.",
    "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.  Check SNMP counters.",
]
_UFW = ("[UFW BLOCK] IN=eth0 OUT= MAC=00:0d:3a:5b:8c:2e:12:34:56:78:9a:bc:08:00 SRC=198.51.100.{a} DST=10.0.0.4 LEN=40 "
        "TOS=0x00 PREC=0x00 TTL=242 ID={b} PROTO=TCP SPT={c} DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0 ")


def realistic_log(size: int = 50 * 1024 * 1024, seed: int = 7) -> bytes:
    """A long-running Azure VM's serial log: a reboot every ~2 MB, runtime kernel chatter, some
    ``[UFW BLOCK]`` noise (about 1 line in 50), ``\\r\\n`` line ends and NUL padding at the end."""
    rnd = random.Random(seed)
    parts: list[str] = []
    total, uptime, since_boot = 0, 0.0, 0
    while total < size:
        if since_boot == 0:
            uptime = 10.0
            for line in _BOOT:
                parts.append(line)
                total += len(line) + 2
        uptime += rnd.random() * 3
        if rnd.random() < 0.02:
            text = _UFW.format(a=rnd.randrange(256), b=rnd.randrange(65536), c=rnd.randrange(1024, 65535))
        else:
            text = rnd.choice(_CHATTER)
        line = f"[{uptime:12.6f}] {text}"
        parts.append(line)
        total += len(line) + 2
        since_boot += len(line) + 2
        if since_boot > 2 * 1024 * 1024:
            since_boot = 0
    return ("\r\n".join(parts) + "\r\n").encode() + b"\x00" * 4096


def _best_of(function: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds over ``runs`` (CPU time is steadier on a shared machine)."""
    wall = cpu = float("inf")
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def bench_bootlog() -> None:
    """parse_boot_log over a 50 MB log, against decode + splitlines + one regex scan."""
    from kit.analyze.bootlog import parse_boot_log
    from kit.analyze.bootlog.rules import REGISTRY

    data = realistic_log()
    megabytes = len(data) / 1e6
    pattern = re.compile(r"Kernel panic|Failed to start|emergency mode")

    def baseline() -> None:
        text = data.decode(errors="replace")
        text.splitlines()
        pattern.findall(text)

    base, base_cpu = _best_of(baseline)
    ours, ours_cpu = _best_of(lambda: parse_boot_log(data))
    report = parse_boot_log(data)
    print(f"bootlog: {megabytes:.1f} MB, {report.lines:,} lines, {report.boots} boots, {len(report.events):,} events"
          f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"bootlog: parse_boot_log {ours:.3f} s wall = {megabytes / ours:.0f} MB/s; {ours_cpu:.3f} s CPU = "
          f"{megabytes / ours_cpu:.0f} MB/s (target >= 150 MB/s)")
    print(f"bootlog: baseline decode+splitlines+1 regex {base:.3f} s wall = {megabytes / base:.0f} MB/s; "
          f"{base_cpu:.3f} s CPU = {megabytes / base_cpu:.0f} MB/s")
    print(f"bootlog: parse_boot_log runs at {base / ours:.2f}x the baseline's speed (wall), "
          f"{base_cpu / ours_cpu:.2f}x (CPU); {sum(len(r.signatures) for r in REGISTRY.rules())} signatures in "
          f"{len(REGISTRY.rules())} families")
    one_line = b"x" * (1 << 20) + b" Kernel panic - not syncing: test " + b"y" * (1 << 20)
    wall, _ = _best_of(lambda: parse_boot_log(one_line))
    print(f"bootlog: one 2 MB line with a panic in the middle: {wall * 1000:.1f} ms")


def bench_timeline() -> None:
    """100k Activity Log records + 100k boot events -> timeline + figure (< 1 s, >= 3x baseline), HTML (<= 5 MB)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _timeline

    _timeline.run()


def _big_bundle(scratch: Path, serial: bytes) -> tuple[Any, list[Any], str]:
    """The firewall-lockout bundles collected from the lab, the broken VM's serial.log replaced by ``serial``."""
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget
    from kit.evidence import load_bundle
    from kit.evidence.writer import BundleWriter
    from kit.lab import running_lab

    with running_lab(scenarios=["firewall-lockout"]) as lab:
        info = lab.scenario("firewall-lockout")
        request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, info.known_good,
                                    start=info.window_start, end=info.window_end, source="lab:firewall-lockout")
        collected = load_bundle(collect(AzureTarget.for_lab(lab), request, scratch / "lab").subject)
    with BundleWriter(scratch / "big" / collected.name) as writer:
        for entry in collected.manifest["files"]:
            data = serial if entry["path"] == "serial.log" else (collected.path / entry["path"]).read_bytes()
            writer.add_bytes(entry["path"], data, call=entry["call"], api_version=entry.get("api_version"))
        writer.commit({k: v for k, v in collected.manifest.items() if k not in ("files", "failures")})
    return load_bundle(scratch / "big" / collected.name), collected.peers(), info.responder_ip


def bench_triage() -> None:
    """kit.analyze.triage.triage (each source read once) against the analyses the triage report ran one by one."""
    import tempfile

    from kit.analyze.bootlog import boot_report_from_bundle
    from kit.analyze.network import diff_network, load_network, ssh_rdp_verdicts
    from kit.analyze.timeline import build_timeline
    from kit.analyze.triage import triage
    from kit.analyze.verdict import classify

    with tempfile.TemporaryDirectory() as scratch:
        bundle, peers, responder = _big_bundle(Path(scratch), realistic_log(20 * 1024 * 1024))

        def one_by_one() -> None:  # what notebooks/triage.ipynb and the drill did before triage()
            boot_report_from_bundle(bundle)
            build_timeline(bundle)
            net = load_network(bundle)
            ssh_rdp_verdicts(net, responder)
            diff_network(net, [load_network(p) for p in peers], responder_ip=responder)
            classify(bundle, peers, responder_ip=responder)

        base, base_cpu = _best_of(one_by_one)
        ours, ours_cpu = _best_of(lambda: triage(bundle, peers, responder_ip=responder))
    print(f"triage: 20 MB serial.log, {len(peers)} peers: one by one {base:.2f} s wall ({base_cpu:.2f} s CPU), "
          f"triage() {ours:.2f} s wall ({ours_cpu:.2f} s CPU)")
    print(f"triage: triage() costs {ours / base:.2f}x the one-by-one analyses (wall), {ours_cpu / base_cpu:.2f}x (CPU)")


def bench_screenshot() -> None:
    """OCR time per lab screen: kit's read_screenshot against plain pytesseract on the raw image (same run)."""
    import io
    import resource
    import shutil

    import pytesseract
    from PIL import Image

    from kit.analyze.screenshot import read_screenshot
    from kit.lab._screens import SCREENS, Screen, render_bmp, screen_from_log

    if shutil.which("tesseract") is None:
        print("screenshot: tesseract is not installed (apt-get install tesseract-ocr); skipped")
        return
    root = Path(__file__).resolve().parents[1] / "kit" / "lab" / "scenarios"
    screens = {kind: render_bmp(Screen(kind, code="0xc000000e" if kind != "stop_code" else "CRITICAL_PROCESS_DIED",
                                       file="\\Windows\\system32\\winload.exe", info="The selected entry could not "
                                       "be loaded because the application is missing or corrupt."))
               for kind in SCREENS if kind != "linux_console"}
    for log in ("firewall-lockout/serial/sched-02.log", "fstab-emergency/serial/customs-proc-01.log",
                "kernel-panic/serial/hist-app-01.log"):
        screens[f"linux {log.split('/')[-1]}"] = render_bmp(screen_from_log((root / log).read_bytes(), windows=False))

    def timed(function: Callable[[], object]) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, _cpu = _best_of(function)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / 3

    threads = os.environ.pop("OMP_THREAD_LIMIT", None)  # the baseline runs as pytesseract would by default
    plain = {name: timed(lambda data=data: pytesseract.image_to_string(Image.open(io.BytesIO(data))))
             for name, data in screens.items()}
    if threads is not None:
        os.environ["OMP_THREAD_LIMIT"] = threads
    ours = {name: timed(lambda data=data: read_screenshot(data)) for name, data in screens.items()}
    for name in screens:
        (base, base_cpu), (kit, kit_cpu) = plain[name], ours[name]
        print(f"screenshot: {name:<34} read_screenshot {kit:.2f} s ({kit_cpu:.2f} s CPU), plain image_to_string "
              f"{base:.2f} s ({base_cpu:.2f} s CPU): {base / kit:.1f}x faster")
    total_base, total_kit = sum(w for w, _ in plain.values()), sum(w for w, _ in ours.values())
    print(f"screenshot: {len(screens)} screens, mean {total_kit / len(screens):.2f} s per screenshot "
          f"(plain {total_base / len(screens):.2f} s, {total_base / total_kit:.1f}x)")


_METRICS = ("VmAvailabilityMetric", "Percentage CPU", "Available Memory Bytes", "Network In Total", "Network Out Total",
            "Inbound Flows", "Outbound Flows", "Disk Read Operations/Sec", "OS Disk Queue Depth",
            "OS Disk IOPS Consumed Percentage")


def _metrics_documents(days: int = 30, seed: int = 11) -> list[dict[str, Any]]:
    """One metrics.list answer per metric (REST shape), ``days`` at PT1M: a daily cycle, noise, 0.4% of
    minutes without data, and a story: flows and traffic stop two days before the end, the VM goes down a
    day before it and comes back 40 minutes later; the last bucket is partial."""
    from datetime import UTC, datetime, timedelta

    rng = random.Random(seed)
    start = datetime(2026, 10, 26, tzinfo=UTC)
    count = days * 1440
    stamps = [(start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ") for n in range(count)]
    stop, down = count - 2 * 1440, count - 1440
    documents = []
    for name in _METRICS:
        aggregation = "total" if name.endswith("Total") else "average"
        base = {"VmAvailabilityMetric": 1.0, "Percentage CPU": 30.0, "Available Memory Bytes": 6e9,
                "Network In Total": 4e6, "Network Out Total": 3e6, "Inbound Flows": 60.0, "Outbound Flows": 45.0,
                "OS Disk IOPS Consumed Percentage": 20.0}.get(name, 5.0)
        data: list[dict[str, Any]] = []
        for n, stamp in enumerate(stamps):
            if rng.random() < 0.004:
                data.append({"timeStamp": stamp})
                continue
            if name == "VmAvailabilityMetric":
                value = 0.0 if down <= n < down + 40 else 1.0
            else:
                cycle = 1 + 0.3 * ((n % 1440) / 720 - 1) ** 2
                value = base * cycle * (1 + rng.uniform(-0.15, 0.15))
                if name in ("Inbound Flows", "Network In Total") and stop <= n < stop + 90:
                    value *= 0.01
            data.append({"timeStamp": stamp, aggregation: value})
        documents.append({
            "cost": count, "timespan": f"{stamps[0]}/{(start + timedelta(minutes=count - 0.5)).isoformat()}",
            "interval": "PT1M", "namespace": "Microsoft.Compute/virtualMachines", "resourceregion": "westeurope",
            "value": [{"id": f"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/"
                             f"providers/Microsoft.Insights/metrics/{name}", "type": "Microsoft.Insights/metrics",
                       "name": {"value": name, "localizedValue": name}, "unit": "Count",
                       "timeseries": [{"metadatavalues": [], "data": data}], "errorCode": "Success"}]})
    return documents


def _naive_metrics(documents: list[dict[str, Any]]) -> int:
    """The per-point baseline: every timeStamp parsed with kit.times.parse_time, one state machine step per point."""
    from kit.times import parse_time

    changes = 0
    for document in documents:
        for metric in document["value"]:
            points = metric["timeseries"][0]["data"]
            values = [p.get("average", p.get("total")) for p in points]
            known = sorted(v for v in values if v is not None)
            usual = known[int(len(known) * 0.9)] if known else 0.0
            state, run = None, 0
            for point, value in zip(points, values, strict=True):
                parse_time(point["timeStamp"])
                if value is None:
                    continue
                bad = value <= 0.05 * usual
                if bad != state:
                    run += 1
                    if run >= 5:
                        changes += state is not None
                        state, run = bad, 0
                else:
                    run = 0
    return changes


def bench_metrics() -> None:
    """30 days x 10 metrics at 1-minute grain (432k points) -> series + change points (target < 0.3 s)."""
    from kit.analyze.metrics import read_metrics

    documents = _metrics_documents()
    points = sum(len(m["timeseries"][0]["data"]) for d in documents for m in d["value"])
    ours, ours_cpu = _best_of(lambda: read_metrics(documents))
    base, base_cpu = _best_of(lambda: _naive_metrics(documents), runs=1)
    reading = read_metrics(documents)
    print(f"metrics: {len(documents)} metrics x 30 days at PT1M = {points:,} points, {len(reading.changes)} change "
          f"points ({', '.join(sorted({c.kind for c in reading.changes}))}) (load average {os.getloadavg()[0]:.1f})")
    print(f"metrics: read_metrics {ours:.3f} s wall, {ours_cpu:.3f} s CPU (target < 0.3 s)")
    print(f"metrics: naive per-point baseline {base:.3f} s wall, {base_cpu:.3f} s CPU")
    print(f"metrics: read_metrics runs at {base / ours:.1f}x the baseline's speed (wall), "
          f"{base_cpu / ours_cpu:.1f}x (CPU)")


def main() -> int:
    """Run every ``bench_*`` function in this module, in source order (only those named: ``analyze.py metrics``)."""
    module = sys.modules[__name__]
    only = {f"bench_{name}" for name in sys.argv[1:]}
    for name, function in vars(module).items():
        if name.startswith("bench_") and callable(function) and (not only or name in only):
            print(f"--- {name}")
            function()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
