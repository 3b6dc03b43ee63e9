"""Finding 10, command line: malformed input to every command gives one clear line and a documented exit code.

The cases are generated: every numeric option gets ``nan``, ``inf``, negatives, out-of-range
and non-numbers; every name option the names ARM refuses (``.``, ``..``, control characters,
too long, bad first or last character); every path option a missing path, a file where a folder
belongs and the reverse, a FIFO and a device; every address option malformed addresses; the CA
options files that are not PEM; the scenario options malformed scenario folders; ``--console``
malformed transcripts; ``kit import`` malformed ``az`` outputs. Each runs in-process through
``kit.cli.main`` (a SIGALRM guard turns a hang into a failure) and asserts: the exit code is in
the documented set (never 70), a failing run prints exactly one ``error:`` line naming the
problem, no traceback, nothing written where nothing should be. The cases that used to hang run
in a subprocess with a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kit.cli import main

ROOT = Path(__file__).resolve().parents[2]
SUB = "3c1f9a2e-7b45-4d0e-9a61-5e2b8c4d7f10"
RG = "rg-climsim-sched-prod"
GUID = "11111111-2222-4333-8444-555555555555"
VM_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/sched-01"
#: Real-Azure-mode arguments pointing at a closed local port: a case that got past validation
#: would fail fast (connection refused), not wait on the network.
AZ = ["--arm-endpoint", "https://127.0.0.1:9", "--credential", "env-token"]


@dataclass
class Case:
    """One malformed input and what the kit must answer.

    ``argv`` may hold placeholders filled per run: ``{bundle}`` (a good subject bundle), ``{peer}``,
    ``{out}`` (a fresh folder that must stay empty or absent unless ``writes``), ``{tmp}``, and the
    names of :func:`fixtures_folder`'s entries (``{file}``, ``{dir}``, ``{fifo}``, ``{missing}``,
    ``{notpem}`` …).
    """

    argv: list[str]
    codes: frozenset[int]
    says: str | None = None
    subprocess: bool = False      # a case that used to hang: run it in a child process with a timeout
    writes: bool = False          # a failing run may leave files in {out} (kit import's partial output never does)
    slow: bool = False
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[str, str, Path], None] | None = None


CASES: dict[str, Case] = {}


def case(name: str, argv: list[str], codes: set[int] | int, says: str | None = None, **options: Any) -> None:
    assert name not in CASES, name
    CASES[name] = Case(argv, frozenset({codes} if isinstance(codes, int) else codes), says, **options)


# ---------------------------------------------------------------------------------------------------------------
# numbers

NOT_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e999", "abc", "", "0x10", "1,5", "½"]
NUMERIC: dict[tuple[str, ...], tuple[str, list[str]]] = {
    # command prefix (…, option): (extra argv, out-of-range values)
    ("collect", "--hours"): (["--subscription", SUB, "--resource-group", RG, "--vm", "sched-01", *AZ],
                             ["0", "-1", "1e9", "2161", "-0.0001"]),
    ("collect", "--retries"): (["--lab", "firewall-lockout"], ["-1", "51", "1.5", "1e9", "99999999999999999999"]),
    ("collect", "--timeout"): (["--lab", "firewall-lockout"], ["0", "-1", "3601", "-0"]),
    ("collect", "--deadline"): (["--lab", "firewall-lockout"], ["0", "-5", "86401", "1e12"]),
    ("lab serve", "--port"): ([], ["-1", "65536", "1.5", "99999"]),
    ("lab serve", "--latency"): ([], ["-0.1", "61", "1e9"]),
    ("lab serve", "--error-rate"): ([], ["1.01", "-0.01", "2"]),
    ("lab serve", "--seed"): ([], ["-1", "1.5", "9223372036854775808"]),
    ("train start", "--seed"): (["sshd-broken"], ["-1", "1.5", "2147483648"]),
    ("train start", "--port"): (["sshd-broken"], ["-1", "65536", "0.5"]),
}
for (command, option), (extra, out_of_range) in NUMERIC.items():
    tail = ["--out", "{out}"] if command == "collect" else []
    for value in NOT_NUMBERS + out_of_range:
        case(f"{command} {option} {value!r}", [*command.split(), *extra, option, value, *tail], 2, f"argument {option}")

for option, values in (("--timeout", ["-1", "0", "86401"]), ("--wait", ["-1", "86401", "-0.5"])):
    for value in [*values, "nan", "inf", "-inf", "1e999", "abc"]:
        case(f"report {option} {value!r}", ["report", "triage", "--incident", "INC-1", option, value,
                                            "-p", "source", "bundle:{bundle}", "--archive", "{out}"], 2,
             f"argument {option}")

BAD_TIMES = ["garbage", "nan", "", "99999-01-01", "2026-13-45T00:00:00Z", "2026-11-25T25:00:00Z", "1e9", "yesterday",
             "2026-11-25T08:00:00+25:00", "\x1b[2J"]
for value in BAD_TIMES:
    case(f"analyze boot --anchor {value!r}", ["analyze", "boot", "{bundle}", "--anchor", value], 2, "--anchor")
    case(f"collect --start {value!r}", ["collect", "--lab", "firewall-lockout", "--start", value, "--out", "{out}"], 2,
         "--start")
    case(f"collect --end {value!r}", ["collect", "--subscription", SUB, "--resource-group", RG, "--vm", "sched-01",
                                      *AZ, "--end", value, "--out", "{out}"], 2, "--end")
case("collect window reversed", ["collect", "--lab", "firewall-lockout", "--start", "2026-11-25T00:00:00Z", "--end",
                                 "2026-11-24T00:00:00Z", "--out", "{out}"], 2, "after it ends")
case("collect window of 91 days", ["collect", "--lab", "firewall-lockout", "--start", "2026-08-01T00:00:00Z",
                                   "--end", "2026-10-31T00:00:00Z", "--out", "{out}"], 2, "90 days")
case("collect window from year 1", ["collect", "--subscription", SUB, "--resource-group", RG, "--vm", "sched-01",
                                    *AZ, "--start", "0001-01-01T00:00:00Z", "--out", "{out}"], 2, "90 days")

# ---------------------------------------------------------------------------------------------------------------
# names, as ARM checks them

BAD_VM_NAMES = {".": ".", "..": "..", "slash": "a/b", "backslash": "a\\b", "escape": "web\x1b[31m",
                "carriage return": "web\r01", "newline": "web\n01", "NUL": "web\x0001", "DEL": "web\x7f",
                "65 characters": "a" * 65, "leading hyphen": "-web", "trailing period": "web.",
                "trailing hyphen": "web-", "empty": "", "space": "web 01", "only spaces": "   ",
                "non-ASCII": "wéb", "hash": "web#1", "question mark": "web?x", "percent": "web%2F01",
                "bidi override": "\u202eweb", "tab": "web\t01", "colon": "web:01", "star": "web*"}
for label, name in BAD_VM_NAMES.items():
    says = "name" if name.strip() else None
    case(f"collect --vm {label}", ["collect", "--subscription", SUB, "--resource-group", RG, "--vm", name, *AZ,
                                   "--out", "{out}"], 2, says)
    case(f"collect --lab --vm {label}", ["collect", "--lab", "firewall-lockout", "--vm", name, "--out", "{out}"], 2,
         says)
    case(f"collect --known-good {label}", ["collect", "--lab", "firewall-lockout", "--known-good", name,
                                           "--out", "{out}"], 2, says)
    case(f"console precheck --vm {label}", ["console", "precheck", "--subscription", SUB, "--resource-group", RG,
                                            "--vm", name, *AZ], 2, says)
for label, group in {"..": "..", "trailing period": "rg.", "slash": "a/b", "escape": "rg\x1b", "91 characters":
                     "r" * 91, "newline": "rg\n", "space": "rg x"}.items():
    case(f"collect --resource-group {label}", ["collect", "--subscription", SUB, "--resource-group", group,
                                               "--vm", "sched-01", *AZ, "--out", "{out}"], 2, "resource group")
for label, sub in {"garbage": "garbage", "short": "1234", "GUID and newline": f"{GUID}\n", "braces": f"{{{GUID}}}",
                   "GUID with escape": f"{GUID}\x1b"}.items():
    case(f"collect --subscription {label}", ["collect", "--subscription", sub, "--resource-group", RG,
                                             "--vm", "sched-01", *AZ, "--out", "{out}"], 2, "subscription")
BAD_IDS = {
    "no GUID": "/subscriptions/x",
    "subscription only": f"/subscriptions/{SUB}",
    "a NIC": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkInterfaces/nic",
    "VM named ..": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/..",
    "VM named .": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/.",
    "VM name with escape": f"{VM_ID}\x1b[2J",
    "empty segment": f"/subscriptions/{SUB}//resourceGroups/{RG}",
    "extra segment": f"{VM_ID}/extra",
    "extension resource": f"{VM_ID}/providers/Microsoft.Insights/diagnosticSettings/x",
    "not starting with /": VM_ID.lstrip("/"),
}
for label, vm_id in BAD_IDS.items():
    says = "--subscription" if label == "not starting with /" else None
    case(f"collect --vm id {label}", ["collect", "--vm", vm_id, *AZ, "--out", "{out}"], 2, says)
    case(f"console precheck --vm id {label}", ["console", "precheck", "--vm", vm_id, *AZ], 2)
case("collect --known-good twice the VM", ["collect", "--lab", "firewall-lockout", "--known-good", "sched-01",
                                           "--out", "{out}"], 2, "named twice")
case("collect --known-good twice, other case", ["collect", "--lab", "firewall-lockout", "--known-good", "SCHED-02",
                                                "sched-02", "--out", "{out}"], 2, "named twice")
case("collect without a target", ["collect", "--out", "{out}"], 2, "--subscription")
case("collect --lab unknown", ["collect", "--lab", "no-such-scenario", "--out", "{out}"], 1, "no lab scenario")
case("collect --lab with --arm-endpoint", ["collect", "--lab", "firewall-lockout", "--arm-endpoint", "https://x",
                                           "--out", "{out}"], 2, "--lab fills in")
case("collect --out is a file", ["collect", "--lab", "firewall-lockout", "--out", "{file}"], 2, "--out")
case("collect --out under a file", ["collect", "--lab", "firewall-lockout", "--out", "{file}/x"], 2, "--out")
case("collect --cloud unknown", ["collect", "--cloud", "AzureMoon", "--out", "{out}"], 2, "--cloud")
case("collect --credential unknown", ["collect", "--credential", "password", "--out", "{out}"], 2, "--credential")

# ---------------------------------------------------------------------------------------------------------------
# endpoints and CA bundles

BAD_ENDPOINTS = {"garbage": "garbage", "http": "http://127.0.0.1:9", "no host": "https://", "space": "https://a b",
                 "port out of range": "https://127.0.0.1:99999", "port 0": "https://127.0.0.1:0",
                 "user info": "https://u:p@127.0.0.1:9", "query": "https://127.0.0.1:9?x=1",
                 "fragment": "https://127.0.0.1:9#f", "ftp": "ftp://127.0.0.1", "escape": "https://x\x1b[2J"}
for label, endpoint in BAD_ENDPOINTS.items():
    case(f"collect --arm-endpoint {label}", ["collect", "--subscription", SUB, "--resource-group", RG, "--vm",
                                             "sched-01", "--credential", "env-token", "--arm-endpoint", endpoint,
                                             "--out", "{out}"], 2, "endpoint")
    case(f"lab check --arm-endpoint {label}", ["lab", "check", "firewall-lockout", "--arm-endpoint", endpoint], 2,
         "endpoint", env={"KIT_ARM_TOKEN": "x"})
    case(f"console precheck --arm-endpoint {label}", ["console", "precheck", "--vm", VM_ID, "--credential",
                                                      "env-token", "--arm-endpoint", endpoint], 2, "endpoint")
BAD_CAS = {"not PEM": "{notpem}", "empty": "{empty}", "DER bytes": "{der}", "key only": "{keyonly}",
           "a folder": "{dir}", "missing": "{missing}", "a FIFO": "{fifo}", "/dev/null": "/dev/null"}
for label, ca in BAD_CAS.items():
    case(f"collect --ca-bundle {label}", ["collect", "--subscription", SUB, "--resource-group", RG, "--vm",
                                          "sched-01", *AZ, "--ca-bundle", ca, "--out", "{out}"], 2, "CA")
    case(f"lab check --ca-bundle {label}", ["lab", "check", "firewall-lockout", "--arm-endpoint",
                                            "https://127.0.0.1:9", "--ca-bundle", ca], 2, "CA",
         env={"KIT_ARM_TOKEN": "x"})
    case(f"console precheck --ca-bundle {label}", ["console", "precheck", "--vm", VM_ID, *AZ, "--ca-bundle", ca], 2,
         "CA")
for label, scenario in {"traversal": "../x", "slash": "a/b", "query": "x?y", "escape": "x\x1b", "empty": "",
                        "space": "a b"}.items():
    case(f"lab check scenario {label}", ["lab", "check", scenario, "--arm-endpoint", "https://127.0.0.1:9"], 2,
         "scenario", env={"KIT_ARM_TOKEN": "x"})
case("lab check without an endpoint", ["lab", "check", "firewall-lockout", "--arm-endpoint", ""], 2, "--arm-endpoint",
     env={"KIT_ARM_TOKEN": "x"})
case("lab check without a token", ["lab", "check", "firewall-lockout", "--arm-endpoint", "https://127.0.0.1:9"], 2,
     "KIT_ARM_TOKEN", env={"KIT_ARM_TOKEN": ""})
case("lab check nothing listening", ["lab", "check", "firewall-lockout", "--arm-endpoint", "https://127.0.0.1:9"], 1,
     "cannot reach the lab", env={"KIT_ARM_TOKEN": "x"})

# ---------------------------------------------------------------------------------------------------------------
# paths

BUNDLE_PATHS = {"missing": "{missing}", "a file": "{file}", "an empty folder": "{dir}", "a FIFO": "{fifo}",
                "/dev/null": "/dev/null", "under a file": "{file}/x", "escape": "{tmp}/x\x1b[2J"}
for label, path in BUNDLE_PATHS.items():
    case(f"bundle show {label}", ["bundle", "show", path], 1, "bundle")
    case(f"timeline {label}", ["timeline", path], 1)
    case(f"analyze verdict {label}", ["analyze", "verdict", path], 1)
    case(f"analyze diff {label}", ["analyze", "diff", path], 1)
    case(f"analyze flow {label}", ["analyze", "flow", path, "--direction", "Inbound", "--local", "10.42.1.4:22",
                                   "--remote", "203.0.113.7:1"], 1)
    case(f"analyze diff --against {label}", ["analyze", "diff", "{bundle}", "--against", path], 1)
    case(f"analyze verdict --against {label}", ["analyze", "verdict", "{bundle}", "--against", path], 1)
for label, path in {"missing": "{missing}", "an empty folder": "{dir}", "a FIFO": "{fifo}", "/dev/null": "/dev/null",
                    "/dev/zero": "/dev/zero", "under a file": "{file}/x"}.items():
    case(f"analyze boot {label}", ["analyze", "boot", path], 2)
case("analyze diff --against itself", ["analyze", "diff", "{bundle}", "--against", "{bundle}"], 2, "with itself")
case("analyze verdict --against itself", ["analyze", "verdict", "{bundle}", "--against", "{bundle}"], 2,
     "with itself")
case("analyze diff --against itself, other spelling", ["analyze", "diff", "{bundle}", "--against", "{bundle}/."], 2,
     "with itself")
for option in ("--jsonl", "--html"):
    outputs = {"a folder": "{dir}", "under a missing folder": "{missing}/x", "under a file": "{file}/x"}
    for label, path in outputs.items():
        case(f"timeline {option} {label}", ["timeline", "{bundle}", "-q", option, path], 1, "cannot write")
CASTS = {
    "not JSON": "not json at all\n",
    "version 1": '{"version": 1, "timestamp": 1}\n',
    "no timestamp": '{"version": 2}\n',
    "timestamp text": '{"version": 2, "timestamp": "x"}\n',
    "timestamp 1e300": '{"version": 2, "timestamp": 1e300}\n',
    "timestamp NaN": '{"version": 2, "timestamp": NaN}\n',
    "garbage in the middle": '{"version": 2, "timestamp": 1}\n[1, "i", "ls\\r"]\ngarbage\n[2, "i", "x\\r"]\n',
    "infinite time in the middle": '{"version": 2, "timestamp": 1}\n[1e400, "i", "ls\\r"]\n[2, "o", "x"]\n',
    "negative time": '{"version": 2, "timestamp": 1}\n[-1, "i", "ls\\r"]\n[2, "o", "x"]\n',
    "event not a list": '{"version": 2, "timestamp": 1}\n{"a": 1}\n[2, "o", "x"]\n',
    "event too short": '{"version": 2, "timestamp": 1}\n[1, "i"]\n[2, "o", "x"]\n',
    "header a list": '[2, 1]\n',
    "empty": "",
    "binary": None,
}
for label in CASTS:
    case(f"timeline --console {label}", ["timeline", "{bundle}", "-q", "--console", "{cast:" + label + "}"], 1,
         "transcript" if label in ("not JSON", "version 1", "no timestamp", "header a list", "empty", "binary")
         else "cast")
for label, path in {"missing": "{missing}", "a folder": "{dir}", "a FIFO": "{fifo}", "/dev/null": "/dev/null"}.items():
    case(f"timeline --console {label}", ["timeline", "{bundle}", "-q", "--console", path], 1, "transcript")
case("timeline --console torn last line", ["timeline", "{bundle}", "-q", "--console", "{cast:torn}"], 0)

IMPORTS = {
    "empty folder": ({}, 1, "holds no 'az vm show'"),
    "only garbage JSON": ({"a.json": b'{"name": "x",\n "type": }'}, 1, "malformed JSON at line 2"),
    "only binary": ({"a.bin": bytes(range(256)) * 10}, 1, "holds no 'az vm show'"),
    "not UTF-8 JSON": ({"a.json": b'{"name": "\xff\xfe"}'}, 1, "not UTF-8"),
    "VM with a bad id": ({"vm.json": json.dumps({"id": "/subscriptions/x", "name": "web-01", "type":
                                                 "Microsoft.Compute/virtualMachines"}).encode()}, 1, "vm.json"),
    "VM named ..": ({"vm.json": json.dumps({"id": f"/subscriptions/{GUID}/resourceGroups/g/providers/Microsoft."
                                                  "Compute/virtualMachines/..", "name": "..", "type":
                                            "Microsoft.Compute/virtualMachines"}).encode()}, 1, "vm.json"),
    "VM name a list": ({"vm.json": json.dumps({"id": f"/subscriptions/{GUID}/resourceGroups/g/providers/Microsoft."
                                                     "Compute/virtualMachines/w", "name": [1], "type":
                                               "Microsoft.Compute/virtualMachines"}).encode()}, 1, "vm.json"),
    "VM properties text": ({"vm.json": json.dumps({"id": f"/subscriptions/{GUID}/resourceGroups/g/providers/"
                                                         "Microsoft.Compute/virtualMachines/w", "name": "w",
                                                   "type": "Microsoft.Compute/virtualMachines",
                                                   "properties": "x"}).encode()}, 1, "vm.json"),
    "NIC named with a slash": ({"vm.json": json.dumps({"id": f"/subscriptions/{GUID}/resourceGroups/g/providers/"
                                                             "Microsoft.Compute/virtualMachines/w", "name": "w",
                                                       "type": "Microsoft.Compute/virtualMachines"}).encode(),
                                "nic.json": json.dumps({"name": "../../x", "type":
                                                        "Microsoft.Network/networkInterfaces"}).encode()},
                               1, "nic.json"),
    "a lone surrogate escape": ({"vm.json": json.dumps({"id": f"/subscriptions/{GUID}/resourceGroups/g/providers/"
                                                              "Microsoft.Compute/virtualMachines/w", "name": "w",
                                                        "type": "Microsoft.Compute/virtualMachines",
                                                        "tags": {"x": "\ud800"}}).encode()}, 0, None),
    "two VMs without --vm": ({f"vm{i}.json": json.dumps({"id": f"/subscriptions/{GUID}/resourceGroups/g/providers/"
                                                              f"Microsoft.Compute/virtualMachines/w{i}",
                                                        "name": f"w{i}", "type": "Microsoft.Compute/virtualMachines"
                                                        }).encode() for i in (1, 2)}, 2, "--vm"),
}
for label, (_, code, says) in IMPORTS.items():
    case(f"import {label}", ["import", "{import:" + label + "}", "--out", "{out}/bundle"], code, says)
case("import --vm unknown", ["import", "{import:two VMs without --vm}", "--vm", "w9", "--out", "{out}/bundle"], 2,
     "no 'az vm show' output for VM")
case("import folder missing", ["import", "{missing}", "--out", "{out}/bundle"], 2, "not a folder")
case("import folder is a file", ["import", "{file}", "--out", "{out}/bundle"], 2, "not a folder")
case("import --out exists", ["import", "{import:two VMs without --vm}", "--vm", "w1", "--out", "{dir}"], 5,
     "already exists")
case("import --out under a file", ["import", "{import:two VMs without --vm}", "--vm", "w1", "--out", "{file}/b"], 1,
     "cannot create")

# ---------------------------------------------------------------------------------------------------------------
# addresses and flow questions

BAD_ENDS = {"garbage": "garbage", "no address": ":22", "port too big": "10.42.1.4:99999", "negative port":
            "10.42.1.4:-1", "port NaN": "10.42.1.4:nan", "bad IPv4": "10.42.1.300:22", "empty": "",
            "two colons": "10.42.1.4:22:1", "CIDR": "10.42.1.0/24:22", "escape": "10.42.1.4\x1b:22",
            "bracketed IPv4": "[10.42.1.4]:22x", "port text": "10.42.1.4:ssh"}
for label, value in BAD_ENDS.items():
    case(f"analyze flow --local {label}", ["analyze", "flow", "{bundle}", "--direction", "Inbound", "--local", value,
                                           "--remote", "203.0.113.7:50000"], 2, "local")
    case(f"analyze flow --remote {label}", ["analyze", "flow", "{bundle}", "--direction", "Inbound", "--local",
                                            "10.42.1.4:22", "--remote", value], 2, "remote")
for label, (local, remote) in {"v4 and v6": ("10.42.1.4:22", "[::1]:50000"), "v4 and bare v6": ("10.42.1.4:22",
                               "2001:db8::1"), "v6 local": ("[fe80::1]:22", "203.0.113.7:1")}.items():
    case(f"analyze flow {label}", ["analyze", "flow", "{bundle}", "--direction", "Inbound", "--local", local,
                                   "--remote", remote], {1, 2}, None)
for value in ["sideways", "", "inwards", "INBOUND\x1b", "Both"]:
    case(f"analyze flow --direction {value!r}", ["analyze", "flow", "{bundle}", "--direction", value, "--local",
                                                 "10.42.1.4:22", "--remote", "203.0.113.7:1"], 2, "direction")
for value in ["GRE", "", "*", "tcp/udp", "6x"]:
    case(f"analyze flow --protocol {value!r}", ["analyze", "flow", "{bundle}", "--direction", "Inbound", "--protocol",
                                                value, "--local", "10.42.1.4:22", "--remote", "203.0.113.7:1"], 2,
         "protocol")
case("analyze flow --local not the VM's", ["analyze", "flow", "{bundle}", "--direction", "Inbound", "--local",
                                           "10.9.9.9:22", "--remote", "203.0.113.7:1"], 1, "not an address of")
case("analyze flow TCP without ports", ["analyze", "flow", "{bundle}", "--direction", "Inbound", "--local",
                                        "10.42.1.4", "--remote", "203.0.113.7"], 2, "needs ports")
BAD_RESPONDERS = {"garbage": "garbage", "NaN": "nan", "bad IPv4": "10.0.0.300", "IPv6": "::1", "CIDR": "1.2.3.0/24",
                  "with port": "203.0.113.7:22", "escape": "203.0.113.7\x1b", "empty": " "}
for label, value in BAD_RESPONDERS.items():
    case(f"analyze diff --responder {label}", ["analyze", "diff", "{bundle}", "--responder", value], 2, "responder")
    case(f"analyze verdict --responder-ip {label}", ["analyze", "verdict", "{bundle}", "--responder-ip", value], 2,
         "responder")

# ---------------------------------------------------------------------------------------------------------------
# the lab's scenario folders

SCENARIO_DIRS = {
    "missing": (None, "does not exist"),
    "a file": ("file", "does not exist or is not a folder"),
    "empty": ({}, "no scenarios found"),
    "yaml unclosed": ({"title": "[unclosed"}, "cannot read"),
    "yaml a list": ("- a\n- b\n", "must hold a mapping"),
    "a name with a slash": ({"name": "a/b"}, "name"),
    "a name with an escape": ({"name": "x\x1b[2J"}, "name"),
    "a VM named ..": ({"broken_vm": ".."}, "virtualMachines name"),
    "known_good text": ({"known_good": "sched-02"}, "known_good"),
    "expected a list": ({"expected": [1]}, "expected"),
    "guest text": ({"guest": "linux"}, "guest"),
    "window reversed": ({"window": {"start": "2026-11-25T00:00:00Z", "end": "2026-11-24T00:00:00Z"}}, "window"),
    "window garbage": ({"window": {"start": "garbage", "end": "2026-11-24T00:00:00Z"}}, "ISO 8601"),
    "subscription not a GUID": ({"subscription_id": "x"}, "GUID"),
    "console_enabled text": ({"console_enabled": "yes please"}, "console_enabled"),
    "required field missing": ({"title": None}, "lacks title"),
}
for label, (_, says) in SCENARIO_DIRS.items():
    case(f"lab list --scenario-dir {label}", ["lab", "list", "--scenario-dir", "{scenarios:" + label + "}"], 1, says)
    case(f"lab serve --scenario-dir {label}", ["lab", "serve", "--scenario-dir", "{scenarios:" + label + "}"], 1, says)
for label in ("missing", "empty"):  # these served nothing, without an error, until Ctrl-C
    case(f"lab serve --scenario-dir {label}, in a process", ["lab", "serve", "--scenario-dir",
                                                             "{scenarios:" + label + "}"], 1,
         SCENARIO_DIRS[label][1], subprocess=True)
case("lab serve --scenario unknown", ["lab", "serve", "--scenario", "no-such"], 1, "no lab scenario")
case("lab serve --fault-kinds unknown", ["lab", "serve", "--fault-kinds", "bogus"], 2, "fault kind")
case("lab serve --fault-kinds empty items", ["lab", "serve", "--fault-kinds", ",,"], 2, "fault kind")

# ---------------------------------------------------------------------------------------------------------------
# training, demo, and the hang cases in a process of their own

for label, path in {"a file": "{file}", "under a file": "{file}/x"}.items():
    case(f"train start --archive {label}", ["train", "start", "sshd-broken", "--archive", path], 2, "--archive")
    case(f"train start --workspace {label}", ["train", "start", "sshd-broken", "--workspace", path], 2, "--workspace")
    case(f"train reset --archive {label}", ["train", "reset", "sshd-broken", "--archive", path, "--workspace",
                                            "{out}"], 2, "--archive")
    case(f"train report --archive {label}", ["train", "report", "--archive", path], 2, "--archive")
    case(f"demo --archive {label}", ["demo", "--archive", path], 2, "--archive")
case("train report --archive missing", ["train", "report", "--archive", "{missing}"], 2, "--archive")
case("train start unknown", ["train", "start", "no-such"], 2, "no walkthrough")
case("train reset unknown", ["train", "reset", "no-such", "--workspace", "{out}"], 2, "no walkthrough")
case("demo --scenario unknown", ["demo", "--scenario", "no-such", "--archive", "{out}"], 1, "no lab scenario")
case("analyze boot a FIFO, in a process", ["analyze", "boot", "{fifo}"], 2, "regular file", subprocess=True)
case("timeline --console a FIFO, in a process", ["timeline", "{bundle}", "-q", "--console", "{fifo}"], 1,
     "regular file", subprocess=True)
case("collect --deadline nan, in a process", ["collect", "--lab", "firewall-lockout", "--deadline", "nan",
                                              "--out", "{out}"], 2, "--deadline", subprocess=True)
case("lab check to a port that never answers, in a process", ["lab", "check", "firewall-lockout", "--arm-endpoint",
                                                               "https://127.0.0.1:9", "--ca-bundle", "{notpem}"], 2,
     "CA", subprocess=True, env={"KIT_ARM_TOKEN": "x"})

# ---------------------------------------------------------------------------------------------------------------
# command groups and unknown commands

for argv, code in ((["analyze"], 2), (["bundle"], 2), (["lab"], 2), (["train"], 2), (["console"], 2),
                   (["no-such-command"], 2), (["analyze", "no-such"], 2), (["bundle", "no-such"], 2),
                   (["lab", "no-such"], 2), (["train", "no-such"], 2), (["analyze", "boot"], 2),
                   (["analyze", "flow", "{bundle}"], 2), (["import", "{dir}"], 2), (["collect"], 2),
                   (["timeline"], 2), (["--no-such-option"], 2)):
    case("kit " + " ".join(argv) + " (incomplete)", argv, code)

# ---------------------------------------------------------------------------------------------------------------
# kit verify and kit report

ARCHIVES = {
    "manifest.json garbage": {"manifest.json": b"{not json"},
    "manifest.json a list": {"manifest.json": b"[]"},
    "manifest.json empty object": {"manifest.json": b"{}"},
    "manifest files text": {"manifest.json": b'{"format": "kit-archive/1", "files": "x"}'},
    "manifest files of numbers": {"manifest.json": b'{"format": "kit-archive/1", "files": [1, 2]}'},
    "manifest file path leaves": {"manifest.json": b'{"format": "kit-archive/1", "files": [{"path": "../../etc/passwd",'
                                                   b' "sha256": "0", "bytes": 1}]}'},
    "manifest not UTF-8": {"manifest.json": b"\xff\xfe{}"},
    "manifests folder a file": {"manifest.json": b"{}", "manifests": b"x"},
}
for label in ARCHIVES:
    case(f"verify {label}", ["verify", "{archive:" + label + "}"], {1, 2}, None)
case("verify missing", ["verify", "{missing}"], 2, "does not exist")
case("verify a file", ["verify", "{file}"], 2, "is a file")
case("verify an empty folder", ["verify", "{dir}"], 1, "manifest")
case("report --archive a file", ["report", "triage", "--incident", "INC-1", "-p", "source", "bundle:{bundle}",
                                 "--archive", "{file}"], 2, "--archive")
case("report --incident traversal", ["report", "triage", "--incident", "../x", "-p", "source", "bundle:{bundle}",
                                     "--archive", "{out}"], 2, "incident")
case("report a parameter twice", ["report", "triage", "--incident", "INC-1", "-p", "vm", "a", "-p", "vm", "b",
                                  "--archive", "{out}"], 2, "twice")
case("report a secret parameter", ["report", "triage", "--incident", "INC-1", "-p", "token", "abc",
                                   "--archive", "{out}"], 2, "secret")


def _triage_without_responder(out: str, err: str, tmp: Path) -> None:
    assert "destination: None" not in err and out.strip().endswith(".html"), (out, err)


case("report triage without responder_ip (a wrong answer: it is optional)", ["report", "triage", "--incident",
     "INC-1", "-p", "source", "bundle:{bundle}", "--archive", "{out}"], 0, slow=True, writes=True,
     check=_triage_without_responder)


# ---------------------------------------------------------------------------------------------------------------
# running the cases

def _cast_bytes(label: str) -> bytes:
    if label == "torn":
        return b'{"version": 2, "timestamp": 1}\n[1, "i", "ls\\r"]\n[2, "o", "x'
    text = CASTS[label]
    return bytes(range(256)) * 4 if text is None else text.encode()


def _scenario_folder(tmp: Path, label: str) -> Path:
    from kit.lab.scenarios import SCENARIOS_DIR

    folder = tmp / "scenarios" / label.replace(" ", "-").replace("/", "-")
    spec, _ = SCENARIO_DIRS[label]
    if spec is None:
        return folder / "missing"
    if spec == "file":
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_text("x")
        return folder
    folder.mkdir(parents=True)
    if spec == {}:
        return folder
    import yaml

    data = yaml.safe_load((SCENARIOS_DIR / "nsg-deny" / "scenario.yaml").read_text())
    if isinstance(spec, str):
        text = spec
    elif spec == {"title": "[unclosed"}:
        text = yaml.safe_dump(data).replace("title:", "title: [unclosed\nx:", 1)
    else:
        for key, value in spec.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        text = yaml.safe_dump(data)
    (folder / "nsg-deny").mkdir()
    (folder / "nsg-deny" / "scenario.yaml").write_text(text)
    return folder


@pytest.fixture(scope="module")
def bundle(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """firewall-lockout's broken VM with its peers beside it, collected once."""
    from kit.azure.collect import CollectionRequest, collect
    from kit.azure.target import AzureTarget

    info = lab.scenario("firewall-lockout")
    start, end = info.window
    request = CollectionRequest(info.subscription_id, info.resource_group, info.broken_vm, info.known_good,
                                start=start, end=end, source="lab:firewall-lockout")
    return collect(AzureTarget.for_lab(lab), request, tmp_path_factory.mktemp("evidence")).subject


@pytest.fixture(scope="module")
def fixtures_folder(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Files every case may point at: not-PEM CAs, a FIFO, a plain file, an empty folder …"""
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "file.txt").write_text("just text\n")
    (folder / "emptydir").mkdir()
    (folder / "notpem.pem").write_text("not a certificate\n")
    (folder / "empty.pem").write_bytes(b"")
    (folder / "der.pem").write_bytes(bytes.fromhex("3082010a0282010100") + bytes(range(200)))
    (folder / "keyonly.pem").write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    os.mkfifo(folder / "fifo")
    return {"file": str(folder / "file.txt"), "dir": str(folder / "emptydir"), "notpem": str(folder / "notpem.pem"),
            "empty": str(folder / "empty.pem"), "der": str(folder / "der.pem"),
            "keyonly": str(folder / "keyonly.pem"), "fifo": str(folder / "fifo"),
            "missing": str(folder / "no-such-path")}


PLACEHOLDER = re.compile(r"\{(out|bundle|peer|tmp|file|dir|fifo|missing|notpem|empty|der|keyonly"
                         r"|(?:cast|import|scenarios|archive):[^}]*)\}")


def _fill(argv: list[str], values: dict[str, str], tmp: Path) -> list[str]:
    def value(match: re.Match[str]) -> str:
        kind, _, label = match.group(1).partition(":")
        if kind == "cast":
            path = tmp / "t.cast"
            path.write_bytes(_cast_bytes(label))
            return str(path)
        if kind == "import":
            folder = tmp / "az"
            folder.mkdir(exist_ok=True)
            for name, data in IMPORTS[label][0].items():
                (folder / name).write_bytes(data)
            return str(folder)
        if kind == "scenarios":
            return str(_scenario_folder(tmp, label))
        if kind == "archive":
            folder = tmp / "archive" / "INC-1"
            folder.mkdir(parents=True)
            for name, data in ARCHIVES[label].items():
                (folder / name).write_bytes(data)
            return str(folder)
        return values[kind]

    return [PLACEHOLDER.sub(value, arg) for arg in argv]


class Hang(Exception):
    """Raised by the SIGALRM guard: the command did not finish in time."""


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def hang(*_: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _params() -> list[Any]:
    params = []
    for name, spec in CASES.items():
        marks = []
        if spec.slow:
            marks.append(pytest.mark.slow)
        params.append(pytest.param(name, id=name.encode("unicode_escape").decode(), marks=marks))
    return params


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 300, len(CASES)


@pytest.mark.parametrize("name", _params())
def test_malformed_input_gives_one_clear_line_and_a_documented_exit_code(
        name: str, bundle: Path, fixtures_folder: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = CASES[name]
    out_dir = tmp_path / "out"
    values = {**fixtures_folder, "bundle": str(bundle), "peer": str(bundle.parent / "sched-02"), "out": str(out_dir),
              "tmp": str(tmp_path)}
    argv = _fill(spec.argv, values, tmp_path)
    monkeypatch.chdir(tmp_path)
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KIT_ARM_TOKEN", spec.env.get("KIT_ARM_TOKEN", "not-a-real-token"))
    monkeypatch.delenv("KIT_DEBUG", raising=False)
    started = time.monotonic()
    if spec.subprocess:
        try:
            done = subprocess.run([sys.executable, "-m", "kit", *argv], cwd=tmp_path, capture_output=True, text=True,
                                  timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name}: hung (no answer within 60 s)")
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        with _deadline(120 if spec.slow else 30):
            try:
                code = main(argv)
            except SystemExit as exited:  # argparse's usage errors
                code = int(exited.code or 0)
        out, err = capfd.readouterr()
    seconds = time.monotonic() - started
    assert "Traceback" not in err and "internal error" not in err, f"{name}: {err[-600:]}"
    assert code in spec.codes, f"{name}: exit {code}, expected {sorted(spec.codes)}: {err[-400:]}"
    errors = [line for line in err.splitlines() if "error:" in line]
    if code != 0:
        assert len(errors) == 1 or (not errors and name.startswith(("kit ", "verify"))), f"{name}: {err!r}"
        if spec.says is not None:
            assert spec.says.lower() in err.lower(), f"{name}: {spec.says!r} not in {err!r}"
    if not spec.writes and code != 0:
        assert not out_dir.exists() or not any(out_dir.rglob("*")), f"{name}: wrote {list(out_dir.rglob('*'))[:5]}"
    assert seconds < (120 if spec.slow else 30)
    if spec.check is not None:
        spec.check(out, err, tmp_path)
