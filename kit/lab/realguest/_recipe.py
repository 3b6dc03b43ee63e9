"""The recipe of the real guest's disk: Debian 12 from Debian's packages, set up as Azure images are.

Everything that decides the built image is here, and :func:`recipe_hash` is taken over it: change
a package or a line of the set-up and the next build makes a new image; otherwise the cached one
is used.
"""

from __future__ import annotations

import hashlib
import json

__all__ = ["MIRROR", "PACKAGES", "ROOT_UUID", "SETUP", "SIZE", "SUITE", "USERNAME", "PASSWORD", "recipe_hash"]

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
#: what Azure's Debian 12 image has for a reachable Linux VM, and what the case studies break
PACKAGES = (
    "linux-image-amd64", "initramfs-tools", "systemd-sysv", "udev", "openssh-server", "sudo",
    "iptables", "netfilter-persistent", "iptables-persistent", "procps", "iproute2", "dbus",
    "qemu-guest-agent",  # the lab's VM agent: Run Command reaches the guest through it, as Azure's does
)
#: the root file system's UUID, as /etc/fstab names it (Azure images mount / by UUID)
ROOT_UUID = "8d3c2f6e-4b1a-4c9e-9f0d-2a7b5e1c3d40"
SIZE = "2G"
#: the lab's credentials (the scenarios' own); the SSH key is made per cache folder, never stored here
USERNAME = "azureuser"
PASSWORD = "Lab-Only-Pa55!"

#: shell run by mmdebstrap's customize hook; ``$1`` is the root folder, ``$KIT_PUBKEY`` the public key
SETUP = f"""set -eu
R="$1"
echo debian-guest > "$R/etc/hostname"
printf '127.0.0.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' > "$R/etc/hosts"
printf '# /etc/fstab: static file system\
 information.\\nUUID={ROOT_UUID}\\t/\\text4\\tdefaults,discard,errors=remount-ro\\t0 1\\n' > "$R/etc/fstab"
mkdir -p "$R/etc/default"
printf 'GRUB_DEFAULT=0\\nGRUB_TIMEOUT=1\\nGRUB_CMDLINE_LINUX="console=tty1 console=ttyS0,115200n8\
 earlyprintk=ttyS0 net.ifnames=0"\\n' > "$R/etc/default/grub"
printf '[Match]\\nName=eth0\\n\\n[Network]\\nDHCP=yes\\n' > "$R/etc/systemd/network/10-eth0.network"
chroot "$R" systemctl enable systemd-networkd.service serial-getty@ttyS0.service ssh.service\
 netfilter-persistent.service
printf 'kernel.sysrq = 1\\n' > "$R/etc/sysctl.d/90-kit-sysrq.conf"
printf 'MODULES=list\\n' > "$R/etc/initramfs-tools/conf.d/90-kit-modules.conf"
printf 'virtio_pci\\nvirtio_blk\\next4\\n' >> "$R/etc/initramfs-tools/modules"
chroot "$R" update-initramfs -u -k all
chroot "$R" useradd -m -s /bin/bash -G sudo {USERNAME}
echo '{USERNAME}:{PASSWORD}' | chroot "$R" chpasswd
echo 'root:{PASSWORD}' | chroot "$R" chpasswd
chroot "$R" passwd -q -l root
install -d -m 700 -o 1000 -g 1000 "$R/home/{USERNAME}/.ssh"
printf '%s\\n' "$KIT_PUBKEY" > "$R/home/{USERNAME}/.ssh/authorized_keys"
chown 1000:1000 "$R/home/{USERNAME}/.ssh/authorized_keys"
chmod 600 "$R/home/{USERNAME}/.ssh/authorized_keys"
printf 'PasswordAuthentication no\\nClientAliveInterval 120\\n' > "$R/etc/ssh/sshd_config.d/50-cloud-init.conf"
mkdir -p "$R/etc/iptables"
printf '*filter\\n:INPUT ACCEPT [0:0]\\n:FORWARD ACCEPT [0:0]\\n:OUTPUT ACCEPT [0:0]\\nCOMMIT\\n' >\
 "$R/etc/iptables/rules.v4"
printf '*filter\\n:INPUT ACCEPT [0:0]\\n:FORWARD ACCEPT [0:0]\\n:OUTPUT ACCEPT [0:0]\\nCOMMIT\\n' >\
 "$R/etc/iptables/rules.v6"
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"*
"""


def recipe_hash() -> str:
    """A short hash of everything above: the cache key of the built image."""
    recipe = {"suite": SUITE, "mirror": MIRROR, "packages": PACKAGES, "uuid": ROOT_UUID, "size": SIZE,
              "setup": SETUP, "version": 1}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
