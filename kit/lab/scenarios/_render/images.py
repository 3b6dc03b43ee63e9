"""Marketplace images used by the scenarios and what their guests print while booting."""

from __future__ import annotations

from typing import Any

__all__ = ["IMAGES"]

#: Image key (a VM's ``image``) → its marketplace reference, OS facts and the versions its guest prints.
IMAGES: dict[str, dict[str, Any]] = {
    "ubuntu2404": {
        "reference": {"publisher": "canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
                      "version": "latest", "exactVersion": "24.04.202410170"},
        "os_type": "Linux", "os_disk_gb": 30,
        "os_name": "ubuntu", "os_version": "24.04",
        "pretty": "Ubuntu 24.04.1 LTS", "distro": "ubuntu",
        "kernel": "6.8.0-1017-azure",
        "kernel_build": "(buildd@lcy02-amd64-064) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #20-Ubuntu SMP Tue Oct 22 03:37:39 UTC 2024 (Ubuntu 6.8.0-1017.20-azure 6.8.12)",
        "cmdline": "BOOT_IMAGE=/vmlinuz-{kernel} root=PARTUUID={partuuid} ro console=tty1 console=ttyS0 earlyprintk=ttyS0",
        "kernel_builds": {
            "6.8.0-1018-azure": "(buildd@lcy02-amd64-032) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #21-Ubuntu SMP Wed Nov  6 15:02:41 UTC 2024 (Ubuntu 6.8.0-1018.21-azure 6.8.12)",
        },
        "cloud_init": "24.3.1-0ubuntu0~24.04.2",
        "systemd_features": "+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified",
        "waagent": "2.9.1.1",
        "agent_goal": "2.12.0.2",
        "ssh_unit": "ssh.service - OpenBSD Secure Shell server",
    },
    "rhel9": {
        "reference": {"publisher": "RedHat", "offer": "RHEL", "sku": "9-lvm-gen2",
                      "version": "latest", "exactVersion": "9.4.2024081415"},
        "os_type": "Linux", "os_disk_gb": 64,
        "os_name": "redhat", "os_version": "9.4",
        "pretty": "Red Hat Enterprise Linux 9.4 (Plow)", "distro": "rhel",
        "kernel": "5.14.0-427.31.1.el9_4.x86_64",
        "kernel_build": "(mockbuild@x86-64-02.build.eng.rdu2.redhat.com) (gcc (GCC) 11.4.1 20231218 (Red Hat 11.4.1-3), GNU ld version 2.35.2-43.el9) #1 SMP PREEMPT_DYNAMIC Fri Aug 2 17:33:01 EDT 2024",
        "cmdline": "BOOT_IMAGE=(hd0,gpt3)/vmlinuz-{kernel} root=/dev/mapper/rootvg-rootlv ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 net.ifnames=0",
        "cloud_init": "23.4-7.el9_4.5",
        "systemd": "252-32.el9_4",
        "systemd_features": "+PAM +AUDIT +SELINUX -APPARMOR +IMA +SMACK +SECCOMP +GCRYPT +GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS -FIDO2 +IDN2 -IDN -IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT -QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK +XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified",
        "waagent": "2.7.0.6",
        "agent_goal": "2.12.0.2",
        "ssh_unit": "sshd.service - OpenSSH server daemon",
    },
    "win2022": {
        "reference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-azure-edition",
                      "version": "latest", "exactVersion": "20348.2849.241106"},
        "os_type": "Windows", "os_disk_gb": 127,
        "os_name": "Windows Server 2022 Datacenter Azure Edition", "os_version": "Microsoft Windows NT 10.0.20348.0",
        "distro": "windows",
        "waagent": "2.7.41491.1131",
    },
}
