"""cloud-init: its dated "Up N seconds" lines (the wall-time anchor), datasource and network trouble."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.analyze.bootlog._events import parse_rfc2822
from kit.analyze.bootlog.rules._base import Context, Hit, register

__all__ = ["CloudInitRule"]

# "Cloud-init v. 23.4.4 running 'init-local' at Wed, 25 Nov 2026 09:13:51 +0000. Up 6.12 seconds."
# "Cloud-init v. 23.4.4 finished at Wed, 25 Nov 2026 09:14:03 +0000. Datasource DataSourceAzure "
# "[seed=/dev/sr0].  Up 25.40 seconds"
_STAGE_LINE = re.compile(r"Cloud-init v\. (\S+) (running '([^']+)'|finished) at (.+?)\. "
                         r"(?:Datasource (\S+).*?)?Up (\d+(?:\.\d+)?) seconds")
# "ci-info: |  eth0  | True |   10.0.0.4   | 255.255.255.0 | global | 00:0d:3a:12:34:56 |"
_NET_ROW = re.compile(r"ci-info: \|\s*([\w.:@-]+)\s*\|\s*(True|False)\s*\|\s*([^|]*?)\s*\|")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_NO_DATASOURCE = ("No instance datasource found", "Failed to find datasource", "DataSourceNone", "Datasource None")
_IMDS = re.compile(r"169\.254\.169\.254|IMDS|wireserver|168\.63\.129\.16", re.IGNORECASE)


class CloudInitRule:
    """cloud-init console output and ci-info tables."""

    NAME = "cloud-init"
    TRIGGERS = ("Cloud-init v.", "False |", "True |", "Route info failed", "DataSource", "Datasource",
                "WARNING]", "ERROR]", "CRITICAL]", "Failed to start")

    def matches(self, line: str) -> bool:
        return "loud-init" in line or "ci-info" in line or "atasource" in line or "DataSource" in line or (
            "[WARNING]" in line or "[ERROR]" in line or "[CRITICAL]" in line)

    def parse_line(self, line: str, context: Context) -> Sequence[Hit]:
        stage = _STAGE_LINE.search(line)
        if stage:
            version, _, name, date_text, datasource, up = stage.groups()
            wall = parse_rfc2822(date_text)
            hits: list[Hit] = []
            if wall is None:
                hits.append(Hit("boot:cloud-init:stage", f"cloud-init {version} {name or 'finished'}.", os="linux",
                                warning=f"could not read the cloud-init date {date_text!r}; not used as a time anchor"))
            else:
                hits.append(Hit("boot:cloud-init:stage", f"cloud-init {version} {name or 'finished'} at uptime {up} s.",
                                os="linux", anchor=(float(up), wall)))
            if datasource and datasource.startswith("DataSourceNone"):
                hits.append(Hit("boot:cloud-init:datasource_failed", "cloud-init finished without a datasource "
                                "(DataSourceNone): no metadata, SSH keys or network configuration from Azure.",
                                severity="error", os="linux"))
            return hits
        row = _NET_ROW.search(line)
        if row:
            device, up, address = row.groups()
            if device in ("lo", "Device") or device.startswith("lo"):
                return []
            if up == "False":
                return [Hit("boot:cloud-init:network_down", f"cloud-init saw {device} down with no address: the VM "
                            "had no network when cloud-init ran.", severity="error", os="linux")]
            if _IPV4.match(address):
                return [Hit("boot:cloud-init:address", f"{device} had address {address} when cloud-init ran.",
                            os="linux")]
            return []
        if "ci-info" in line and "Route info failed" in line:
            return [Hit("boot:cloud-init:network_down", "cloud-init found no routes (Route info failed): no "
                        "network.", severity="error", os="linux")]
        if any(text in line for text in _NO_DATASOURCE):
            return [Hit("boot:cloud-init:datasource_failed", "cloud-init found no datasource: no metadata, SSH keys "
                        "or network configuration from Azure.", severity="error", os="linux")]
        if ("[WARNING]" in line or "[ERROR]" in line or "[CRITICAL]" in line) and (
                "DataSource" in line or _IMDS.search(line)):
            severity = "warning" if "[WARNING]" in line else "error"
            return [Hit("boot:cloud-init:datasource_failed", f"cloud-init could not reach Azure metadata: "
                        f"{line.strip()[-160:]}", severity=severity, os="linux")]
        if "cloud-init" in line and ("[ERROR]" in line or "[CRITICAL]" in line):
            return [Hit("boot:cloud-init:error", f"cloud-init error: {line.strip()[-160:]}", severity="warning",
                        os="linux")]
        if "cloud-init" in line and "Failed to start" in line:
            return [Hit("boot:cloud-init:failed", "A cloud-init stage failed to start.", severity="error", os="linux")]
        return []


register(CloudInitRule())
