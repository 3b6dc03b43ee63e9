"""Render the committed scenario data from the story definitions.

    python -m kit.lab.scenarios.build            # rewrite kit/lab/scenarios/<name>/
    python -m kit.lab.scenarios.build --out DIR  # render somewhere else (the test compares)
    python -m kit.lab.scenarios.build --only firewall-lockout

Deterministic: every id, jitter and timestamp comes from the stories and seeded hashes, never the
clock, so re-rendering gives byte-identical files. Files a scenario owns are rewritten; anything
else in its folder is left alone. (The scripted guests' data is not rendered: it lives in
``kit/lab/guest/scenarios/<scenario>.yaml`` and reads the ``facts`` of ``scenario.yaml``.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from kit.lab.scenarios import SCENARIOS_DIR
from kit.lab.scenarios._render.activity import build_activity_log
from kit.lab.scenarios._render.arm import build_resources
from kit.lab.scenarios._render.common import mac_for, rng
from kit.lab.scenarios._render.directory import directory_objects
from kit.lab.scenarios._render.images import IMAGES
from kit.lab.scenarios._render.linux_boot import boot_linux
from kit.lab.scenarios._render.serial import Console
from kit.lab.scenarios._render.stories import STORIES
from kit.lab.scenarios._render.views import instance_view, role_assignments
from kit.lab.scenarios._render.vmss import scale_set_resources
from kit.lab.scenarios._render.windows_boot import boot_windows

__all__ = ["STORIES", "main", "render", "write"]

_YAML_KEYS = ["name", "title", "briefing", "subscription_id", "tenant_id", "resource_group", "location",
             "scale_set", "broken_vm", "known_good", "responder_ip", "window", "console_enabled", "expected", "guest",
             "fix", "facts"]


def _prepare(story: dict[str, Any]) -> dict[str, Any]:
    story = json.loads(json.dumps(story))  # a private deep copy: renderers annotate boots
    subnets = {s["name"]: s["prefix"] for s in story["network"]["vnet"]["subnets"]}
    story["_mac"] = {vm["name"]: mac_for(story["name"], vm["name"]) for vm in story["vms"]}
    story["_subnet_prefix"] = {vm["name"]: subnets[vm["subnet"]] for vm in story["vms"]}
    return story


def _serial_log(story: dict[str, Any], vm: dict[str, Any]) -> bytes:
    con = Console(rng(story["name"], vm["name"], "serial"))
    for boot in vm["boots"]:
        if IMAGES[vm["image"]]["os_type"] == "Windows":
            boot_windows(con, story, vm, boot)
        else:
            boot_linux(con, story, vm, boot)
    return con.to_bytes(pad_to=vm.get("serial_pad", 0))


def _scenario_yaml(story: dict[str, Any]) -> str:
    doc = {key: story[key] for key in _YAML_KEYS if key in story or key != "scale_set"}
    header = "# Rendered by kit/lab/scenarios/build.py from _render/stories; do not edit by hand.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def render(story: dict[str, Any]) -> dict[str, bytes]:
    """Relative path → bytes of every file the scenario of ``story`` owns (an item of :data:`STORIES`, or a variant)."""
    story = _prepare(story)

    def as_json(obj: Any) -> bytes:
        return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    files = {
        "scenario.yaml": _scenario_yaml(story).encode("utf-8"),
        "resources.json": as_json({"value": scale_set_resources(story, build_resources(story)) if story.get("scale_set")
                                   else build_resources(story)}),
        "activity_log.json": as_json(build_activity_log(story)),
        "role_assignments.json": as_json(role_assignments(story)),
        "directory.json": as_json(directory_objects(story)),
    }
    for vm in story["vms"]:
        files[f"instance_views/{vm['name']}.json"] = as_json(instance_view(story, vm))
        files[f"serial/{vm['name']}.log"] = _serial_log(story, vm)
    return files


def write(out: Path, only: list[str] | None = None) -> list[Path]:
    """Render every story (or those named in ``only``) into ``out/<scenario>/``; the files written."""
    written = []
    for story in STORIES:
        if only and story["name"] not in only:
            continue
        folder = out / story["name"]
        for rel, data in render(story).items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m kit.lab.scenarios.build [--out DIR] [--only NAME …]``; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m kit.lab.scenarios.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=SCENARIOS_DIR, help="where to write (default: the package folder)")
    parser.add_argument("--only", action="append", help="render only this scenario (repeatable)")
    args = parser.parse_args(argv)
    written = write(args.out, args.only)
    print(f"wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
