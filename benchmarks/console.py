"""Keystroke-to-echo latency through a console session over the lab's websocket.

    python benchmarks/console.py [--keys 400] [--scenario firewall-lockout]

Starts the lab, logs in to the scenario's broken VM through the kit's session (ARM connect POST,
wss gateway with TLS verified, token as first frame), then types one key at a time and times how
long each takes to come back as echo (session.async_send → the on_output hook). In the same run,
the same round trip is measured over a bare ``websockets`` connection to the same gateway, so the
session's own overhead is the difference. Targets: p95 < 50 ms. The widget/browser part of the
issue's benchmark belongs to the widget.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import websockets  # noqa: E402

from kit.azure.serialconsole import SerialConsoleClient  # noqa: E402
from kit.console import open_lab_session  # noqa: E402
from kit.lab import running_lab  # noqa: E402

KEYS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _summary(name: str, samples: list[float]) -> dict[str, float | str | int]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return {"path": name, "n": len(samples), "p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p95_ms": round(p95 * 1000, 3), "max_ms": round(ordered[-1] * 1000, 3)}


async def _session_latency(lab, scenario: str, count: int, password: str, user: str) -> list[float]:
    arrived = asyncio.Event()
    samples: list[float] = []

    def on_output(_text: str) -> None:
        arrived.set()

    session = open_lab_session(lab, scenario, approval="BENCH", on_output=on_output, timeout=20)
    async with session:
        await session.async_login(user, password)
        await asyncio.sleep(0.2)
        for i in range(count):
            key = KEYS[i % len(KEYS)]
            arrived.clear()
            started = time.perf_counter()
            await session.async_send(key)
            await asyncio.wait_for(arrived.wait(), 5)
            samples.append(time.perf_counter() - started)
            if i % 30 == 29:  # clear the line now and then
                await session.async_send("\x03")
                await session.async_expect(r"\$ $", timeout=5, settle=0.05)
    return samples


async def _bare_latency(lab, scenario: str, count: int) -> list[float]:
    info = lab.scenario(scenario)
    client = SerialConsoleClient.for_lab(lab)
    url = await asyncio.to_thread(client.connection_string, info.vm_id(info.broken_vm))
    context = ssl.create_default_context(cafile=str(lab.ca_path))
    samples: list[float] = []
    async with websockets.connect(url, ssl=context, compression=None) as ws:
        await ws.send(lab.token)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 0.3)
        except TimeoutError:
            pass
        for i in range(count):
            key = KEYS[i % len(KEYS)]
            started = time.perf_counter()
            await ws.send(key)
            await asyncio.wait_for(ws.recv(), 5)
            samples.append(time.perf_counter() - started)
            if i % 30 == 29:
                await ws.send("\x03")
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 0.05)
                except TimeoutError:
                    pass
    return samples


async def main_async(args: argparse.Namespace) -> None:
    with running_lab(scenarios=[args.scenario]) as lab:
        guest = lab.scenario(args.scenario).guest
        user, password = guest.get("username", "azureuser"), guest.get("password", "")
        await _bare_latency(lab, args.scenario, 30)  # warm-up (TLS, imports)
        rows = []
        for round_ in range(args.rounds):
            rows.append(_summary(f"bare websocket (round {round_ + 1})", await _bare_latency(lab, args.scenario, args.keys)))
            rows.append(_summary(f"kit session (round {round_ + 1})",
                                 await _session_latency(lab, args.scenario, args.keys, password, user)))
    for row in rows:
        print(f"{row['path']:<32} n={row['n']:<5} p50 {row['p50_ms']:>7.3f} ms   p95 {row['p95_ms']:>7.3f} ms   "
              f"max {row['max_ms']:>7.3f} ms")
    if args.json:
        print(json.dumps(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=400, help="keystrokes per measurement (default 400)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/session rounds (default 2)")
    parser.add_argument("--scenario", default="firewall-lockout")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
