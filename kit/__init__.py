"""The kit: investigate Azure VMs that can no longer be reached over SSH or RDP."""

__version__ = "0.1.0"
