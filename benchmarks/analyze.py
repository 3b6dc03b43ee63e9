"""Benchmarks for kit.analyze: run ``python benchmarks/analyze.py``; every ``bench_*`` function runs.

Each section prints its own figures; nothing here is a test (no pass/fail).
"""

from __future__ import annotations

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
    "[    0.000000] Linux version 5.15.0-1051-azure (buildd@lcy02-amd64-017) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0) #59-Ubuntu SMP",
    "[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-5.15.0-1051-azure root=PARTUUID=8b7c6d4e ro console=ttyS0 earlyprintk=ttyS0",
    "[    0.000000] DMI: Microsoft Corporation Virtual Machine/Virtual Machine, BIOS Hyper-V UEFI Release v4.1 05/09/2022",
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
    "[    5.200000] cloud-init[523]: Cloud-init v. 23.3.3-0ubuntu0~22.04.1 running 'init-local' at Wed, 25 Nov 2026 09:13:50 +0000. Up 5.20 seconds.",
    "[    6.320000] cloud-init[598]: ci-info: |  eth0  | True |   10.0.0.4   | 255.255.255.0 | global | 00:0d:3a:5b:8c:2e |",
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
    'audit: type=1400 audit(1764061991.123:456): apparmor="STATUS" operation="profile_replace" profile="unconfined" name="snap-update-ns.lxd" pid=4312 comm="apparmor_parser"',
    "systemd-journald[345]: Data hash table of /var/log/journal/5d3c/system.journal has a fill level at 75.0 (8533 of 11377 items, 6291456 file size, 737 bytes per hash table item), suggesting rotation.",
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


def _best_of(function: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def bench_bootlog() -> None:
    """parse_boot_log over a 50 MB log, against decode + splitlines + one regex scan."""
    from kit.analyze.bootlog import parse_boot_log

    data = realistic_log()
    megabytes = len(data) / 1e6
    pattern = re.compile(r"Kernel panic|Failed to start|emergency mode")

    def baseline() -> None:
        text = data.decode(errors="replace")
        text.splitlines()
        pattern.findall(text)

    base = _best_of(baseline)
    ours = _best_of(lambda: parse_boot_log(data))
    report = parse_boot_log(data)
    print(f"bootlog: {megabytes:.1f} MB, {report.lines:,} lines, {report.boots} boots, {len(report.events):,} events")
    print(f"bootlog: parse_boot_log {ours:.3f} s = {megabytes / ours:.0f} MB/s (target >= 50 MB/s)")
    print(f"bootlog: baseline decode+splitlines+1 regex {base:.3f} s = {megabytes / base:.0f} MB/s; "
          f"parse_boot_log takes {ours / base:.2f}x the baseline")
    one_line = b"x" * (1 << 20) + b" Kernel panic - not syncing: test " + b"y" * (1 << 20)
    print(f"bootlog: one 2 MB line with a panic in the middle: {_best_of(lambda: parse_boot_log(one_line)) * 1000:.1f} ms")


_OPS = (
    ("Microsoft.Network/networkSecurityGroups/securityRules/write", "Create or Update Security Rule",
     "Microsoft.Network/networkSecurityGroups/nsg-{g}/securityRules/rule-{i}"),
    ("Microsoft.Compute/virtualMachines/start/action", "Start Virtual Machine", "Microsoft.Compute/virtualMachines/vm-{g}-{i}"),
    ("Microsoft.Network/routeTables/routes/write", "Create or Update Route", "Microsoft.Network/routeTables/rt-{g}/routes/r-{i}"),
    ("Microsoft.Compute/virtualMachines/runCommand/action", "Run Command on Virtual Machine",
     "Microsoft.Compute/virtualMachines/vm-{g}-{i}"),
)


def activity_records(count: int, seed: int = 1) -> list[dict[str, object]]:
    """``count`` Activity Log records in the REST shape: operations of 2–3 records sharing a
    correlationId (Started/Accepted/Succeeded, 3% Failed) over ~17k resources, shuffled."""
    from datetime import UTC, datetime, timedelta

    rnd = random.Random(seed)
    sub = "1f3a2b4c-0000-4000-8000-000000000001"
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    out: list[dict[str, object]] = []
    n = 0
    while len(out) < count:
        op, label, path = rnd.choice(_OPS)
        rid = f"/subscriptions/{sub}/resourceGroups/rg-{n % 7}/providers/" + path.format(g=n % 13, i=rnd.randint(1, 150))
        corr = f"{n:08x}-0000-4000-8000-{rnd.getrandbits(48):012x}"
        caller = f"user{rnd.randint(1, 40)}@contoso.com"
        moment += timedelta(seconds=rnd.random() * 20)
        statuses = ["Started", "Accepted", "Succeeded"] if rnd.random() < 0.5 else ["Started", "Succeeded"]
        if rnd.random() < 0.03:
            statuses[-1] = "Failed"
        for k, status in enumerate(statuses):
            at = moment + timedelta(seconds=k * rnd.random() * 30)
            out.append({
                "caller": caller, "correlationId": corr, "eventDataId": f"{corr}-{k}",
                "category": {"value": "Administrative", "localizedValue": "Administrative"},
                "level": "Error" if status == "Failed" else "Informational",
                "operationName": {"value": op, "localizedValue": label},
                "status": {"value": status, "localizedValue": status}, "subStatus": {"value": "", "localizedValue": ""},
                "eventTimestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "3Z",
                "submissionTimestamp": (at + timedelta(seconds=12)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "1Z",
                "resourceId": rid, "httpRequest": {"clientIpAddress": "203.0.113.7", "method": "PUT"},
                "properties": {"statusCode": "OK"},
            })
        n += 1
    rnd.shuffle(out)
    return out[:count]


def event_heavy_log(events: int, seed: int = 3) -> bytes:
    """A serial log in which nearly every line is an event the bootlog records: a dated cloud-init
    anchor, then ``[UFW BLOCK]`` drops (some on SSH/RDP), sshd/waagent starts, kernel lines."""
    rnd = random.Random(seed)
    lines = [_BOOT[0], _BOOT[2], _BOOT[4], _BOOT[13]]
    uptime = 6.0
    while len(lines) < events * 1.2:
        uptime += rnd.random() * 0.5
        if rnd.random() < 0.85:
            lines.append(f"[{uptime:12.6f}] " + _UFW.format(a=rnd.randrange(256), b=rnd.randrange(65536),
                                                            c=rnd.randrange(1024, 65535)).replace("DPT=23", f"DPT={rnd.choice((22, 23, 445, 3389))}"))
        else:
            lines.append(_OK + f"Started {_ESC}[0;1;39mOpenBSD Secure Shell server{_ESC}[0m.")
    return ("\r\n".join(lines) + "\r\n").encode()


def _timeline_bundle(root: Path, records: list[dict[str, object]], serial: bytes) -> object:
    from kit.evidence import BundleWriter, load_bundle
    from kit.evidence.manifest import new_manifest

    sub = "1f3a2b4c-0000-4000-8000-000000000001"
    manifest = new_manifest(source="import", subscription_id=sub, resource_group="rg-0", vm_name="vm-0-1",
                            vm_id=f"/subscriptions/{sub}/resourceGroups/rg-0/providers/Microsoft.Compute/virtualMachines/vm-0-1",
                            window={"start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"})
    with BundleWriter(root / "vm-0-1") as writer:
        writer.add_json("activity_log.json", {"value": records}, call="activity_logs.list")
        writer.add_json("instance_view.json", {"statuses": [{"code": "PowerState/running", "displayStatus": "VM running"}]},
                        call="virtual_machines.instance_view")
        writer.add_bytes("serial.log", serial, call="boot_diagnostics")
        return load_bundle(writer.commit(manifest))


def bench_timeline() -> None:
    """100k Activity Log records + 100k boot events → timeline DataFrame + figure (< 3 s) and a
    self-contained HTML page (<= 8 MB), against a baseline of plotly express on a flat table."""
    import tempfile

    import pandas as pd
    import plotly.express as px

    from kit.analyze.bootlog import parse_boot_log
    from kit.analyze.timeline import build_timeline, timeline_figure, write_timeline_html

    records = activity_records(100_000)
    serial = event_heavy_log(100_000)
    with tempfile.TemporaryDirectory() as folder:
        bundle: Any = _timeline_bundle(Path(folder), records, serial)
        started = time.perf_counter()
        report = parse_boot_log(bundle.serial_log)
        parse = time.perf_counter() - started
        boot_events = len(report.events)

        started = time.perf_counter()
        df = build_timeline(bundle, boot_report=report)
        frame = time.perf_counter() - started
        started = time.perf_counter()
        fig = timeline_figure(df)
        figure = time.perf_counter() - started
        started = time.perf_counter()
        size = write_timeline_html(fig, Path(folder) / "timeline.html")
        page = time.perf_counter() - started

        # Baseline, same run and same data: a flat table of the raw records and boot events
        # (pandas json_normalize, no grouping, no anchoring) plotted with plotly express, the
        # usual notebook approach, written with plotly's own write_html.
        started = time.perf_counter()
        flat = pd.json_normalize(records)
        flat["time"] = pd.to_datetime(flat["eventTimestamp"], utc=True, format="ISO8601")
        boot = pd.DataFrame({"time": [e.time for e in report.events], "text": [e.text for e in report.events]})
        table = pd.concat([flat.assign(source="activity_log", text=flat["operationName.value"])[["time", "source", "text", "caller"]],
                           boot.assign(source="boot_log", caller="")], ignore_index=True)
        base_table = time.perf_counter() - started
        started = time.perf_counter()
        base_fig = px.scatter(table, x="time", y="source", hover_data=["caller", "text"], render_mode="webgl")
        base_figure = time.perf_counter() - started
        base_path = Path(folder) / "baseline.html"
        started = time.perf_counter()
        base_fig.write_html(base_path, include_plotlyjs=True)
        base_page = time.perf_counter() - started
        base_size = base_path.stat().st_size

    operations = int((df["source"] == "activity_log").sum())
    ours, base = frame + figure, base_table + base_figure
    print(f"timeline: input {len(records):,} Activity Log records ({operations:,} operations) + {boot_events:,} boot events "
          f"({len(serial) / 1e6:.1f} MB serial log) -> {len(df):,} rows")
    print(f"timeline: parse_boot_log (bootlog, reported apart) {parse:.2f} s")
    print(f"timeline: build_timeline {frame:.2f} s + timeline_figure {figure:.2f} s = {ours:.2f} s (target < 3 s; "
          f"{'met' if ours < 3 else 'NOT met'}); WebGL traces: {fig.layout.meta['kit']['webgl']}")
    print(f"timeline: self-contained HTML {size / 1e6:.2f} MB in {page:.2f} s (target <= 8 MB; "
          f"{'met' if size <= 8e6 else 'NOT met'})")
    print(f"timeline: baseline json_normalize + px.scatter {base_table:.2f} s + {base_figure:.2f} s = {base:.2f} s, "
          f"write_html {base_size / 1e6:.2f} MB in {base_page:.2f} s")
    print(f"timeline: ratio kit/baseline: time {ours / base:.2f}x (the kit also groups operations, anchors uptime and "
          f"builds hover text), HTML size {size / base_size:.2f}x")


def main() -> int:
    """Run every ``bench_*`` function in this module, in source order."""
    module = sys.modules[__name__]
    for name, function in vars(module).items():
        if name.startswith("bench_") and callable(function):
            print(f"--- {name}")
            function()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
