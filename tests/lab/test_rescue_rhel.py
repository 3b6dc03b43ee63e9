"""The offline fixes on a RHEL 9 disk in the lab's repair VM: its root behind a separate /boot, dracut, BLS, SELinux."""

from __future__ import annotations

import pytest

from kit.analyze.repair_scripts import distribution_family, facts_from_boot_log, fix_script
from kit.errors import UsageError
from kit.lab.guest import RescueDisk, RescueShell

NEW, OLD = "5.14.0-427.13.1.el9_4.x86_64", "5.14.0-362.24.1.el9_3.x86_64"
MACHINE = "4f1d8a9e0c2b4e57a1d3c6b8e9f0a2d4"
#: The end of a RHEL 9 boot on Azure whose new kernel has no initramfs (the lines as the kernel prints them).
PANIC_LOG = (f"[    0.000000] Linux version {NEW} (mockbuild@x86-64-01.build.eng.rdu2.redhat.com) (gcc (GCC) 11.4.1 "
             "20231218 (Red Hat 11.4.1-3), GNU ld version 2.35.2-43.el9) #1 SMP PREEMPT_DYNAMIC Wed Apr 10 10:29:16 "
             "EDT 2024\n"
             f"[    0.000000] Command line: BOOT_IMAGE=(hd0,gpt2)/vmlinuz-{NEW} root=UUID=0b3d6f1e-3f7a-4c52-9a0e-"
             "5d8f2c1b7e44 ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M console=tty1 console=ttyS0,115200n8\n"
             "[    2.101987] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n")


def _rhel_disk() -> RescueDisk:
    files = {
        "/etc/fstab": ("UUID=0b3d6f1e-3f7a-4c52-9a0e-5d8f2c1b7e44 / xfs defaults 0 0\n"
                       "UUID=7c1e9a20-58d4-4b3f-8e6a-2f9d0c4b1a37 /boot xfs defaults 0 0\n"
                       "UUID=A1B2-C3D4 /boot/efi vfat defaults,uid=0,gid=0,umask=077,shortname=winnt 0 2\n"),
        "/etc/redhat-release": "Red Hat Enterprise Linux release 9.4 (Plow)\n",
        "/etc/selinux/config": "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
        "/etc/default/grub": 'GRUB_TIMEOUT=10\nGRUB_CMDLINE_LINUX="crashkernel=1G-4G:192M console=tty1"\n',
        f"/boot/vmlinuz-{NEW}": "(kernel)\n", f"/boot/vmlinuz-{OLD}": "(kernel)\n",
        f"/boot/initramfs-{OLD}.img": "(initramfs)\n",
        "/boot/grub2/grub.cfg": "### BEGIN /etc/grub.d/10_linux ###\nblscfg\n",
    }
    for version in (NEW, OLD):
        files[f"/boot/loader/entries/{MACHINE}-{version}.conf"] = (
            f"title Red Hat Enterprise Linux ({version}) 9.4 (Plow)\nversion {version}\nlinux /vmlinuz-{version}\n"
            f"initrd /initramfs-{version}.img $tuned_initrd\noptions root=UUID=0b3d6f1e-3f7a-4c52-9a0e-5d8f2c1b7e44 ro "
            "crashkernel=1G-4G:192M console=tty1\n")
    return RescueDisk(0, files, layout="rhel")


def test_the_kernel_fix_regenerates_the_initramfs_with_dracut_and_puts_the_console_on_every_bls_entry() -> None:
    facts = facts_from_boot_log(PANIC_LOG)
    assert facts["new_kernel"] == NEW and distribution_family(facts) == "rhel"
    disk = _rhel_disk()
    out, err, code = RescueShell("kit-repair").run(fix_script("boot_failure:kernel_panic", facts), [disk])
    assert code == 0, err
    assert "root /dev/sdc4, boot partition UUID=7c1e9a20-58d4-4b3f-8e6a-2f9d0c4b1a37" in out
    assert disk.files[f"/boot/initramfs-{NEW}.img"].startswith("(dracut initramfs")  # on the /boot partition
    for version in (NEW, OLD):
        options = disk.files[f"/boot/loader/entries/{MACHINE}-{version}.conf"].splitlines()[-1]
        assert options.startswith("options root=UUID=") and options.endswith("console=ttyS0,115200n8")
    assert disk.files["/etc/default/grub"].splitlines()[-1].endswith('console=tty1 console=ttyS0,115200n8"')
    assert "/.autorelabel" in disk.files  # SELinux enforcing: the offline edits are relabelled at boot
    script = fix_script("boot_failure:kernel_panic", facts)
    assert "update-initramfs" not in script and "dracut -f --no-hostonly" in script  # every driver: NVMe too


def test_booting_the_previous_kernel_sets_grubbys_default_to_it() -> None:
    disk = _rhel_disk()
    facts = {"new_kernel": NEW, "previous_kernel": OLD, "boot_previous_kernel": "yes"}
    out, err, code = RescueShell("kit-repair").run(fix_script("boot_failure:kernel_panic", facts), [disk])
    assert code == 0, err
    assert disk.files["/boot/grub2/grubenv"].endswith(f"saved_entry={MACHINE}-{OLD}\n")
    assert f"/boot/initramfs-{NEW}.img" not in disk.files


def test_the_fstab_fix_on_a_rhel_disk_leaves_a_relabel_and_its_boot_partition_untouched() -> None:
    disk = _rhel_disk()
    disk.files["/etc/fstab"] += "UUID=5e9f0d3c-2a71-4b8e-9c64-1f7d3a0b2e58 /data xfs defaults 0 0\n"
    out, err, code = RescueShell("kit-repair").run(fix_script("boot_failure:fstab", {"mount_point": "/data"}),
                                                   [disk])
    assert code == 0, err
    assert "# UUID=5e9f0d3c" in disk.files["/etc/fstab"] and "/.autorelabel" in disk.files
    assert disk.files[f"/boot/loader/entries/{MACHINE}-{NEW}.conf"].startswith("title Red Hat")


@pytest.mark.parametrize(("facts", "family"), [
    ({"new_kernel": "6.8.0-1018-azure"}, "debian"), ({"new_kernel": "6.1.0-18-cloud-amd64"}, "debian"),
    ({"new_kernel": "4.18.0-553.el8_10.x86_64"}, "rhel"), ({"new_kernel": "5.15.0-200.131.27.el9uek.x86_64"}, "rhel"),
    ({"new_kernel": "5.14.21-150500.55.49-azure"}, "suse"), ({"distribution": "AlmaLinux"}, "rhel"),
    ({"distribution": "sles", "new_kernel": "6.8.0-1018-azure"}, "suse"),
])
def test_the_distribution_family_comes_from_the_fact_or_the_kernel_that_booted(facts: dict[str, str],
                                                                              family: str) -> None:
    assert distribution_family(facts) == family


def test_an_unknown_distribution_is_refused_with_the_ones_the_kit_knows() -> None:
    with pytest.raises(UsageError, match=r"distribution 'gentoo': the kit knows debian, rhel, suse"):
        distribution_family({"distribution": "gentoo"})
