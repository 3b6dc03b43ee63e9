"""systemd console status lines of an Ubuntu 24.04 / RHEL 9 boot and shutdown.

``OK``/``ST``/``MO`` prefixes are ``[  OK  ]``, ``Starting`` and ``Mounting`` lines; ``#NAME`` marks
where the renderer inserts a section (mounts, cloud-init stages, ssh, the agent, the login prompt).
"""

__all__ = ["UBUNTU_BOOT", "UBUNTU_SHUTDOWN"]

UBUNTU_BOOT = r"""
OK Created slice {u:system-modprobe.slice} - Slice /system/modprobe.
OK Created slice {u:system-serial\x2dgetty.slice} - Slice /system/serial-getty.
OK Created slice {u:system-systemd\x2dfsck.slice} - Slice /system/systemd-fsck.
OK Created slice {u:user.slice} - User and Session Slice.
OK Started {u:systemd-ask-password-console.path} - Dispatch Password Requests to Console Directory Watch.
OK Started {u:systemd-ask-password-wall.path} - Forward Password Requests to Wall Directory Watch.
OK Set up automount {u:proc-sys-fs-binfmt_misc.automount} - Arbitrary Executable File Formats File System Automount Point.
OK Reached target {u:cryptsetup.target} - Local Encrypted Volumes.
OK Reached target {u:integritysetup.target} - Local Integrity Protected Volumes.
OK Reached target {u:paths.target} - Path Units.
OK Reached target {u:slices.target} - Slice Units.
OK Reached target {u:swap.target} - Swaps.
OK Reached target {u:veritysetup.target} - Local Verity Protected Volumes.
OK Listening on {u:dm-event.socket} - Device-mapper event daemon FIFOs.
OK Listening on {u:lvm2-lvmpolld.socket} - LVM2 poll daemon socket.
OK Listening on {u:syslog.socket} - Syslog Socket.
OK Listening on {u:systemd-fsckd.socket} - fsck to fsckd communication Socket.
OK Listening on {u:systemd-initctl.socket} - initctl Compatibility Named Pipe.
OK Listening on {u:systemd-journald-dev-log.socket} - Journal Socket (/dev/log).
OK Listening on {u:systemd-journald.socket} - Journal Sockets.
OK Listening on {u:systemd-networkd.socket} - Network Service Netlink Socket.
OK Listening on {u:systemd-pcrextend.socket} - TPM2 PCR Extension (Varlink).
OK Listening on {u:systemd-udevd-control.socket} - udev Control Socket.
OK Listening on {u:systemd-udevd-kernel.socket} - udev Kernel Socket.
MO Mounting {u:dev-hugepages.mount} - Huge Pages File System...
MO Mounting {u:dev-mqueue.mount} - POSIX Message Queue File System...
MO Mounting {u:sys-kernel-debug.mount} - Kernel Debug File System...
MO Mounting {u:sys-kernel-tracing.mount} - Kernel Trace File System...
ST Starting {u:systemd-journald.service} - Journal Service...
ST Starting {u:keyboard-setup.service} - Set the console keyboard layout...
ST Starting {u:kmod-static-nodes.service} - Create List of Static Device Nodes...
ST Starting {u:lvm2-monitor.service} - Monitoring of LVM2 mirrors, snapshots etc. using dmeventd or progress polling...
ST Starting {u:modprobe@configfs.service} - Load Kernel Module configfs...
ST Starting {u:modprobe@drm.service} - Load Kernel Module drm...
ST Starting {u:modprobe@fuse.service} - Load Kernel Module fuse...
ST Starting {u:systemd-modules-load.service} - Load Kernel Modules...
ST Starting {u:systemd-remount-fs.service} - Remount Root and Kernel File Systems...
ST Starting {u:systemd-udev-trigger.service} - Coldplug All udev Devices...
OK Mounted {u:dev-hugepages.mount} - Huge Pages File System.
OK Mounted {u:dev-mqueue.mount} - POSIX Message Queue File System.
OK Mounted {u:sys-kernel-debug.mount} - Kernel Debug File System.
OK Mounted {u:sys-kernel-tracing.mount} - Kernel Trace File System.
OK Finished {u:kmod-static-nodes.service} - Create List of Static Device Nodes.
OK Finished {u:modprobe@configfs.service} - Load Kernel Module configfs.
OK Finished {u:modprobe@drm.service} - Load Kernel Module drm.
OK Finished {u:modprobe@fuse.service} - Load Kernel Module fuse.
OK Finished {u:systemd-modules-load.service} - Load Kernel Modules.
OK Finished {u:systemd-remount-fs.service} - Remount Root and Kernel File Systems.
OK Started {u:systemd-journald.service} - Journal Service.
OK Finished {u:keyboard-setup.service} - Set the console keyboard layout.
ST Starting {u:systemd-journal-flush.service} - Flush Journal to Persistent Storage...
ST Starting {u:systemd-sysctl.service} - Apply Kernel Variables...
ST Starting {u:systemd-tmpfiles-setup-dev-early.service} - Create Static Device Nodes in /dev gracefully...
OK Finished {u:systemd-sysctl.service} - Apply Kernel Variables.
OK Finished {u:systemd-journal-flush.service} - Flush Journal to Persistent Storage.
OK Finished {u:lvm2-monitor.service} - Monitoring of LVM2 mirrors, snapshots etc. using dmeventd or progress polling.
OK Finished {u:systemd-tmpfiles-setup-dev-early.service} - Create Static Device Nodes in /dev gracefully.
ST Starting {u:systemd-tmpfiles-setup-dev.service} - Create Static Device Nodes in /dev...
OK Finished {u:systemd-tmpfiles-setup-dev.service} - Create Static Device Nodes in /dev.
OK Reached target {u:local-fs-pre.target} - Preparation for Local File Systems.
ST Starting {u:systemd-udevd.service} - Rule-based Manager for Device Events and Files...
OK Finished {u:systemd-udev-trigger.service} - Coldplug All udev Devices.
OK Started {u:systemd-udevd.service} - Rule-based Manager for Device Events and Files.
OK Found device {u:dev-ttyS0.device} - /dev/ttyS0.
OK Found device {u:dev-disk-by\x2dlabel-UEFI.device} - Virtual_Disk UEFI.
OK Found device {u:dev-disk-by\x2dlabel-BOOT.device} - Virtual_Disk BOOT.
#MOUNTS
OK Reached target {u:local-fs.target} - Local File Systems.
ST Starting {u:apparmor.service} - Load AppArmor profiles...
ST Starting {u:console-setup.service} - Set console font and keymap...
ST Starting {u:systemd-binfmt.service} - Set Up Additional Binary Formats...
ST Starting {u:systemd-tmpfiles-setup.service} - Create Volatile Files and Directories...
OK Finished {u:console-setup.service} - Set console font and keymap.
OK Finished {u:systemd-binfmt.service} - Set Up Additional Binary Formats.
OK Finished {u:systemd-tmpfiles-setup.service} - Create Volatile Files and Directories.
ST Starting {u:systemd-journal-catalog-update.service} - Rebuild Journal Catalog...
ST Starting {u:systemd-resolved.service} - Network Name Resolution...
ST Starting {u:systemd-timesyncd.service} - Network Time Synchronization...
ST Starting {u:systemd-update-utmp.service} - Record System Boot/Shutdown in UTMP...
OK Finished {u:systemd-update-utmp.service} - Record System Boot/Shutdown in UTMP.
OK Finished {u:systemd-journal-catalog-update.service} - Rebuild Journal Catalog.
OK Started {u:systemd-timesyncd.service} - Network Time Synchronization.
OK Reached target {u:time-set.target} - System Time Set.
OK Finished {u:apparmor.service} - Load AppArmor profiles.
ST Starting {u:snapd.apparmor.service} - Load AppArmor profiles managed internally by snapd...
OK Started {u:systemd-resolved.service} - Network Name Resolution.
OK Finished {u:snapd.apparmor.service} - Load AppArmor profiles managed internally by snapd.
#CLOUD_INIT_LOCAL
OK Reached target {u:network-pre.target} - Preparation for Network.
ST Starting {u:systemd-networkd.service} - Network Configuration...
OK Started {u:systemd-networkd.service} - Network Configuration.
ST Starting {u:systemd-networkd-wait-online.service} - Wait for Network to be Configured...
OK Finished {u:systemd-networkd-wait-online.service} - Wait for Network to be Configured.
#CLOUD_INIT_INIT
OK Reached target {u:cloud-config.target} - Cloud-config availability.
OK Reached target {u:network.target} - Network.
OK Reached target {u:network-online.target} - Network is Online.
OK Reached target {u:sysinit.target} - System Initialization.
OK Started {u:apt-daily.timer} - Daily apt download activities.
OK Started {u:apt-daily-upgrade.timer} - Daily apt upgrade and clean activities.
OK Started {u:dpkg-db-backup.timer} - Daily dpkg database backup timer.
OK Started {u:e2scrub_all.timer} - Periodic ext4 Online Metadata Check for All Filesystems.
OK Started {u:fstrim.timer} - Discard unused filesystem blocks once a week.
OK Started {u:logrotate.timer} - Daily rotation of log files.
OK Started {u:man-db.timer} - Daily man-db regeneration.
OK Started {u:motd-news.timer} - Message of the Day.
OK Started {u:systemd-tmpfiles-clean.timer} - Daily Cleanup of Temporary Directories.
OK Reached target {u:timers.target} - Timer Units.
OK Listening on {u:dbus.socket} - D-Bus System Message Bus Socket.
OK Listening on {u:iscsid.socket} - Open-iSCSI iscsid Socket.
OK Listening on {u:snapd.socket} - Socket activation for snappy daemon.
OK Listening on {u:uuidd.socket} - UUID daemon activation socket.
OK Reached target {u:sockets.target} - Socket Units.
OK Reached target {u:basic.target} - Basic System.
ST Starting {u:chrony.service} - chrony, an NTP client/server...
ST Starting {u:dbus.service} - D-Bus System Message Bus...
ST Starting {u:hv-kvp-daemon.service} - Hyper-V KVP Protocol Daemon...
OK Started {u:hv-kvp-daemon.service} - Hyper-V KVP Protocol Daemon.
ST Starting {u:rsyslog.service} - System Logging Service...
ST Starting {u:systemd-logind.service} - User Login Management...
ST Starting {u:ufw.service} - Uncomplicated firewall...
ST Starting {u:walinuxagent.service} - Azure Linux Agent...
OK Started {u:dbus.service} - D-Bus System Message Bus.
OK Finished {u:ufw.service} - Uncomplicated firewall.
OK Started {u:rsyslog.service} - System Logging Service.
OK Started {u:systemd-logind.service} - User Login Management.
OK Started {u:chrony.service} - chrony, an NTP client/server.
OK Started {u:walinuxagent.service} - Azure Linux Agent.
#APP
#SSH
ST Starting {u:systemd-user-sessions.service} - Permit User Sessions...
OK Finished {u:systemd-user-sessions.service} - Permit User Sessions.
OK Started {u:getty@tty1.service} - Getty on tty1.
OK Started {u:serial-getty@ttyS0.service} - Serial Getty on ttyS0.
OK Reached target {u:getty.target} - Login Prompts.
OK Reached target {u:multi-user.target} - Multi-User System.
OK Reached target {u:graphical.target} - Graphical Interface.
#CLOUD_INIT_CONFIG
#CLOUD_INIT_FINAL
#LOGIN
"""

UBUNTU_SHUTDOWN = r"""
OK Removed slice {u:system-modprobe.slice} - Slice /system/modprobe.
OK Stopped target {u:graphical.target} - Graphical Interface.
OK Stopped target {u:multi-user.target} - Multi-User System.
OK Stopped target {u:getty.target} - Login Prompts.
OK Stopped target {u:timers.target} - Timer Units.
ST Stopping {u:chrony.service} - chrony, an NTP client/server...
ST Stopping {u:getty@tty1.service} - Getty on tty1...
ST Stopping {u:rsyslog.service} - System Logging Service...
ST Stopping {u:serial-getty@ttyS0.service} - Serial Getty on ttyS0...
#APP_STOP
ST Stopping {u:ssh.service} - OpenBSD Secure Shell server...
ST Stopping {u:systemd-logind.service} - User Login Management...
ST Stopping {u:walinuxagent.service} - Azure Linux Agent...
OK Stopped {u:getty@tty1.service} - Getty on tty1.
OK Stopped {u:serial-getty@ttyS0.service} - Serial Getty on ttyS0.
OK Stopped {u:rsyslog.service} - System Logging Service.
OK Stopped {u:ssh.service} - OpenBSD Secure Shell server.
OK Stopped {u:chrony.service} - chrony, an NTP client/server.
OK Stopped {u:systemd-logind.service} - User Login Management.
OK Stopped {u:walinuxagent.service} - Azure Linux Agent.
OK Stopped target {u:network-online.target} - Network is Online.
OK Stopped target {u:basic.target} - Basic System.
OK Stopped target {u:sockets.target} - Socket Units.
OK Closed {u:dbus.socket} - D-Bus System Message Bus Socket.
ST Stopping {u:systemd-networkd.service} - Network Configuration...
OK Stopped {u:systemd-networkd.service} - Network Configuration.
OK Stopped target {u:network-pre.target} - Preparation for Network.
#UNMOUNT
OK Stopped target {u:local-fs.target} - Local File Systems.
OK Stopped {u:systemd-remount-fs.service} - Remount Root and Kernel File Systems.
OK Stopped {u:systemd-tmpfiles-setup-dev.service} - Create Static Device Nodes in /dev.
OK Reached target {u:shutdown.target} - System Shutdown.
OK Reached target {u:final.target} - Late Shutdown Services.
OK Finished {u:systemd-{action}.service} - System {action_title}.
OK Reached target {u:{action}.target} - System {action_title}.
"""
