"""Keystroke-to-echo latency through a console session over the lab's websocket.

    python benchmarks/console.py [--keys 400] [--scenario firewall-lockout]

Starts the lab, logs in to the scenario's broken VM through the kit's session (ARM connect POST,
wss gateway with TLS verified, token as first frame), then types one key at a time and times how
long each takes to come back as echo (session.async_send → the on_output hook). In the same run,
the same round trip is measured over a bare ``websockets`` connection to the same gateway, so the
session's own overhead is the difference. Targets: p95 < 50 ms.

The widget part (``bench_widget*``, ``--widget yes|no|only``) opens a notebook in JupyterLab with
Debian chromium (as tests/browser/ does), measures keystroke → echo from the browser's keydown to
the echoed character in xterm's DOM, on stock JupyterLab and with the kit's
``kit.console.jupyter_nodelay`` server extension, and the time for 20k lines written by the kernel
to be visible in xterm, with the received characters and their hash checked (none dropped).
Baselines from the same run: the keystroke round trip and the same 20k lines through the session alone.
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
            rows.append(_summary(f"bare websocket (round {round_ + 1})",
                                 await _bare_latency(lab, args.scenario, args.keys)))
            rows.append(_summary(f"kit session (round {round_ + 1})",
                                 await _session_latency(lab, args.scenario, args.keys, password, user)))
    for row in rows:
        print(f"{row['path']:<32} n={row['n']:<5} p50 {row['p50_ms']:>7.3f} ms   p95 {row['p95_ms']:>7.3f} ms   "
              f"max {row['max_ms']:>7.3f} ms")
    if args.json:
        print(json.dumps(rows))


# ---------------------------------------------------------------------- the widget, in a real browser
# Keystroke → echo through the widget (browser keydown → xterm → comm → kernel → session → lab
# gateway → guest echo → session → widget.write → iopub → xterm DOM row), and 20k lines of output
# reaching xterm with none dropped. JupyterLab and Debian chromium as in tests/browser/.

WIDGET_CELL = '''
import contextlib, time
from kit.lab import running_lab
from kit.console import open_lab_session
from kit.console.notebook import console_widget
from kit.console.widget import SerialTerminal
stack = contextlib.ExitStack()
lab = stack.enter_context(running_lab(scenarios=[SCENARIO]))
guest = lab.scenario(SCENARIO).guest
session = open_lab_session(lab, SCENARIO, approval="BENCH")
term = console_widget(session, title="latency")
term.show()
session.login(guest["username"], guest["password"])   # scripted: no password typed in the page
flood = SerialTerminal(title="flood")
flood.show()
LINES = [f"line {n:05d} " + "x" * 60 + "\\r\\n" for n in range(FLOOD_LINES)]
def bench_flood():
    flood.title = f"t0={time.time() * 1000:.1f}"
    for line in LINES:
        flood.write(line)
'''

ARM_ECHO = """(expected) => {
  const rows = document.querySelectorAll('.kit-serial')[0].querySelector('.xterm-rows');
  window.__kitEcho = new Promise((resolve, reject) => {
    let t0 = null;
    document.addEventListener('keydown', () => { t0 = performance.now(); }, {capture: true, once: true});
    const check = () => {
      if (t0 !== null && rows.innerText.includes(expected)) { obs.disconnect(); clearTimeout(timer); \
resolve(performance.now() - t0); }
    };
    const obs = new MutationObserver(check);
    obs.observe(rows, {childList: true, subtree: true, characterData: true});
    const timer = setTimeout(() => { obs.disconnect(); reject(new Error('no echo of ' + expected)); }, 5000);
  });
}"""

FLOOD_DONE = """([chars, hash, last]) => {
  const root = document.querySelectorAll('.kit-serial')[1];
  const rows = root && root.querySelector('.xterm-rows');
  if (!rows || root.dataset.chars !== String(chars) || !rows.innerText.includes(last)) return false;
  window.__kitFloodDone = window.__kitFloodDone || Date.now();
  return {done: window.__kitFloodDone, hash: root.dataset.hash,
          t0: parseFloat(root.querySelector('.kit-serial-title').textContent.slice(3))};
}"""


def _fnv1a(text: str) -> str:
    """The widget's running hash (FNV-1a over UTF-16 code units), to prove nothing was dropped."""
    value = 0x811C9DC5
    for unit in memoryview(text.encode("utf-16-le")).cast("H"):
        value = ((value ^ unit) * 0x01000193) & 0xFFFFFFFF
    return format(value, "x")


def bench_widget_browser(scenario: str, keys: int, flood_lines: int, *, nodelay: bool) -> dict[str, object]:
    """Keystroke→echo latency through the widget in JupyterLab, and the 20k-line flood.

    ``nodelay`` enables the kit's ``kit.console.jupyter_nodelay`` server extension (websocket
    frames without Nagle delay).
    """
    import re
    import tempfile

    import nbformat

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
    from jupyterlab import chromium, jupyterlab, run_all  # type: ignore[import-not-found]

    root = Path(tempfile.mkdtemp(prefix="kit-bench-widget-"))
    cell = nbformat.v4.new_code_cell(f"SCENARIO = {scenario!r}\nFLOOD_LINES = {flood_lines}\n" + WIDGET_CELL.strip())
    nb = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nbformat.write(nb, root / "bench.ipynb")
    samples: list[float] = []
    extensions = ("kit.console.jupyter_nodelay",) if nodelay else ()
    with jupyterlab(root, extensions=extensions) as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1200})
        run_all(page, server, "bench.ipynb")
        page.wait_for_function("() => document.querySelectorAll('.kit-serial .xterm-rows').length === 2",
                               timeout=60_000)
        page.wait_for_function("() => document.querySelectorAll('.kit-serial')[0].querySelector('.xterm-rows')"
                               ".innerText.trimEnd().endsWith('$')", timeout=60_000)
        page.click(".kit-serial .xterm-screen")
        letters = "abcdefghijklmnopqrstuvwxyz"
        round_ = 0
        while len(samples) < keys + 20:
            header = f"echo r{round_:03d} "
            page.keyboard.type(header)
            page.wait_for_function("(h) => document.querySelectorAll('.kit-serial')[0].querySelector('.xterm-rows')"
                                   ".innerText.includes(h)", arg=header, timeout=10_000)
            typed = ""
            for letter in letters:
                typed += letter
                page.evaluate(ARM_ECHO, header + typed)
                page.keyboard.press(letter)
                samples.append(page.evaluate("() => window.__kitEcho") / 1000)
            page.keyboard.press("Control+C")
            page.wait_for_function("() => document.querySelectorAll('.kit-serial')[0].querySelector('.xterm-rows')"
                                   ".innerText.trimEnd().endsWith('$')", timeout=10_000)
            round_ += 1
        samples = samples[20:]  # the first keys warm up the page and the kernel's comm path
        lines = [f"line {n:05d} " + "x" * 60 + "\r\n" for n in range(flood_lines)]
        expected = "".join(lines)
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                      ".requestExecute({code: 'bench_flood()'})")
        try:
            result = page.wait_for_function(FLOOD_DONE, arg=[len(expected), _fnv1a(expected),
                                                             f"line {flood_lines - 1:05d}"],
                                             polling="raf", timeout=60_000).json_value()
            flood = {"seconds": round((result["done"] - result["t0"]) / 1000, 3),
                     "dropped_chars": 0 if result["hash"] == _fnv1a(expected) else "content differs"}
        except Exception as error:  # noqa: BLE001 - report what arrived instead of a traceback
            shown = page.evaluate("() => document.querySelectorAll('.kit-serial')[1].dataset.chars || '0'")
            flood = {"seconds": None, "dropped_chars": len(expected) - int(shown), "error": str(error)[:200]}
        page.close()
        log = server.log.read_text(errors="replace")
    flood["iopub_rate_limited"] = bool(re.search(r"IOPub (message|data) rate exceeded", log))
    flood["bytes"] = len(expected)
    name = "widget, Lab + nodelay extension" if nodelay else "widget, stock JupyterLab"
    return {"latency": _summary(name, samples), "flood": flood}


async def _session_flood(lab, scenario: str, flood_lines: int) -> float:
    """Baseline for the flood: the same lines from the lab gateway through the session alone."""
    from kit.lab.gateway import hub_of

    data = "".join(f"line {n:05d} " + "x" * 60 + "\r\n" for n in range(flood_lines))
    got = 0
    done = asyncio.Event()

    def on_output(text: str) -> None:
        nonlocal got
        got += len(text)
        if got >= len(data):
            done.set()

    session = open_lab_session(lab, scenario, approval="BENCH", on_output=on_output)
    async with session:
        await session.async_send("\r")          # the gateway registers the socket once the guest answers
        await session.async_expect(r"(login: |\$ )$", timeout=10)
        got = 0
        started = time.perf_counter()
        hub_of(lab.state).say(session.vm_id, data.encode(), 4096)
        await asyncio.wait_for(done.wait(), 60)
        return time.perf_counter() - started


def bench_widget(args: argparse.Namespace) -> None:
    """Print the widget figures, with ratios against the session alone measured in the same run."""
    async def baselines() -> tuple[dict[str, float | str | int], float]:
        with running_lab(scenarios=[args.scenario]) as lab:
            guest = lab.scenario(args.scenario).guest
            user, password = guest.get("username", "azureuser"), guest.get("password", "")
            session = _summary("kit session alone (baseline)",
                               await _session_latency(lab, args.scenario, args.keys, password, user))
            return session, await _session_flood(lab, args.scenario, args.flood_lines)

    session, session_flood = asyncio.run(baselines())
    runs = [bench_widget_browser(args.scenario, args.keys, args.flood_lines, nodelay=nodelay)
            for nodelay in (False, True)]
    print()
    for row in (session, *(run["latency"] for run in runs)):
        print(f"{row['path']:<34} n={row['n']:<5} p50 {row['p50_ms']:>7.3f} ms   p95 {row['p95_ms']:>7.3f} ms   "
              f"max {row['max_ms']:>7.3f} ms")
    for run in runs:
        latency = run["latency"]
        print(f"{latency['path']} / session alone: p50 x{latency['p50_ms'] / session['p50_ms']:.0f}, "
              f"p95 x{latency['p95_ms'] / session['p95_ms']:.0f}   (target widget p95 < 50 ms: "
              f"{'met' if latency['p95_ms'] < 50 else 'NOT met'})")
    print(f"{args.flood_lines} lines ({runs[0]['flood']['bytes']:,} B) from the lab gateway through the session alone: "
          f"{session_flood:.3f} s")
    for run in runs:
        flood = run["flood"]
        if flood["seconds"] is None:
            print(f"flood FAILED ({run['latency']['path']}): {flood}")
            continue
        print(f"{args.flood_lines} lines into xterm, {run['latency']['path']} (first write → last line visible): "
              f"{flood['seconds']:.3f} s, dropped: {flood['dropped_chars']}, IOPub rate limit hit: "
              f"{flood['iopub_rate_limited']}; x{flood['seconds'] / session_flood:.2f} the session alone "
              f"(target < 1 s: {'met' if flood['seconds'] < 1 and flood['dropped_chars'] == 0 else 'NOT met'})")
    if args.json:
        print(json.dumps({"session": session, "session_flood_s": round(session_flood, 3), "widget": runs}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=400, help="keystrokes per measurement (default 400)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/session rounds (default 2)")
    parser.add_argument("--scenario", default="firewall-lockout")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--widget", choices=("yes", "no", "only"), default="yes",
                        help="also measure the widget in JupyterLab + chromium (default yes; 'only' skips the rest)")
    parser.add_argument("--flood-lines", type=int, default=20_000, help="lines for the widget flood (default 20000)")
    args = parser.parse_args()
    if args.widget != "only":
        asyncio.run(main_async(args))
    if args.widget != "no":
        bench_widget(args)


if __name__ == "__main__":
    main()
