"""Kernel and initramfs console text of Linux guests on Azure (Hyper-V Gen2, Trusted Launch).

Each template line is ``uptime|text``; the renderer scales and jitters the uptimes per boot and
fills ``{placeholders}``. ``@ACCEL`` lines appear only with accelerated networking, ``@DATA`` lines
once per attached data disk.
"""

__all__ = ["SYSTEMD_KERNEL", "UBUNTU_INITRAMFS_MODULES", "UBUNTU_INITRAMFS_TAIL", "UBUNTU_INITRAMFS_TEXT",
           "UBUNTU_KERNEL", "UBUNTU_ROOT_MOUNT"]

UBUNTU_KERNEL = r"""
0.000000|Linux version {kernel} {kernel_build}
0.000000|Command line: {cmdline}
0.000000|KERNEL supported cpus:
0.000000|  Intel GenuineIntel
0.000000|  AMD AuthenticAMD
0.000000|  Hygon HygonGenuine
0.000000|  Centaur CentaurHauls
0.000000|  zhaoxin   Shanghai  
0.000000|BIOS-provided physical RAM map:
0.000000|BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable
0.000000|BIOS-e820: [mem 0x00000000000c0000-0x00000000000fffff] reserved
0.000000|BIOS-e820: [mem 0x0000000000100000-0x000000003ff40fff] usable
0.000000|BIOS-e820: [mem 0x000000003ff41000-0x000000003ffc8fff] reserved
0.000000|BIOS-e820: [mem 0x000000003ffc9000-0x000000003fffafff] ACPI data
0.000000|BIOS-e820: [mem 0x000000003fffb000-0x000000003fffefff] ACPI NVS
0.000000|BIOS-e820: [mem 0x000000003ffff000-0x000000003fffffff] usable
0.000000|BIOS-e820: [mem 0x0000000100000000-0x{mem_top}] usable
0.000000|printk: legacy bootconsole [earlyser0] enabled
0.000000|NX (Execute Disable) protection: active
0.000000|APIC: Static calls initialized
0.000000|efi: EFI v2.7 by Microsoft
0.000000|efi: ACPI=0x3fffa000 ACPI 2.0=0x3fffa014 TPMFinalLog=0x3fff2000 SMBIOS=0x3ffd4000 SMBIOS 3.0=0x3ffd2000 MEMATTR=0x3eb3b418 RNG=0x3ffd5f18 INITRD=0x3eb33d98 TPMEventLog=0x3ffbd018 
0.000000|random: crng init done
0.000000|efi: Remove mem48: MMIO range=[0xffc00000-0xffffffff] (4MB) from e820 map
0.000000|e820: remove [mem 0xffc00000-0xffffffff] reserved
0.000000|SMBIOS 3.1.0 present.
0.000000|DMI: Microsoft Corporation Virtual Machine/Virtual Machine, BIOS Hyper-V UEFI Release v4.1 08/23/2024
0.000000|Hypervisor detected: Microsoft Hyper-V
0.000000|Hyper-V: privilege flags low 0xae7f, high 0x3b8030, hints 0xa0e24, misc 0xe0bed7b2
0.000000|Hyper-V: Nested features: 0x0
0.000000|Hyper-V: LAPIC Timer Frequency: 0xc3500
0.000000|Hyper-V: Using hypercall for remote TLB flush
0.000000|clocksource: hyperv_clocksource_tsc_page: mask: 0xffffffffffffffff max_cycles: 0x24e6a1710, max_idle_ns: 440795202120 ns
0.000002|tsc: Detected 2793.437 MHz processor
0.000007|e820: update [mem 0x00000000-0x00000fff] usable ==> reserved
0.000009|e820: remove [mem 0x000a0000-0x000fffff] usable
0.000013|last_pfn = 0x{last_pfn} max_arch_pfn = 0x400000000
0.000049|MTRR map: 4 entries (3 fixed + 1 variable; max 19), built from 8 variable MTRRs
0.000052|x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT  
0.000314|last_pfn = 0x40000 max_arch_pfn = 0x400000000
0.004935|Using GB pages for direct mapping
0.005603|Secure boot enabled
0.005608|RAMDISK: [mem 0x2d6e7000-0x33235fff]
0.005614|ACPI: Early table checksum verification disabled
0.005619|ACPI: RSDP 0x000000003FFFA014 000024 (v02 VRTUAL)
0.005624|ACPI: XSDT 0x000000003FFF90E8 00005C (v01 VRTUAL MICROSFT 00000001 MSFT 00000001)
0.005632|ACPI: FACP 0x000000003FFF8000 000114 (v06 VRTUAL MICROSFT 00000001 MSFT 00000001)
0.005640|ACPI: DSDT 0x000000003FFD6000 01E184 (v02 MSFTVM DSDT01   00000001 MSFT 05000000)
0.005645|ACPI: FACS 0x000000003FFFE000 000040
0.005650|ACPI: OEM0 0x000000003FFF7000 000064 (v01 VRTUAL MICROSFT 00000001 MSFT 00000001)
0.005655|ACPI: SRAT 0x000000003FFF6000 0002D0 (v02 VRTUAL MICROSFT 00000001 MSFT 00000001)
0.005660|ACPI: APIC 0x000000003FFF5000 000058 (v04 VRTUAL MICROSFT 00000001 MSFT 00000001)
0.005665|ACPI: FPDT 0x000000003FFF4000 000034 (v01 VRTUAL MICROSFT 00000001 MSFT 00000001)
0.005671|ACPI: TPM2 0x000000003FFF3000 00004C (v04 VRTUAL MICROSFT 00000001 MSFT 00000001)
0.005760|ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x3fffffff]
0.005763|ACPI: SRAT: Node 0 PXM 0 [mem 0x100000000-0x{mem_top}]
0.005789|NUMA: Node 0 [mem 0x00000000-0x3fffffff] + [mem 0x100000000-0x{mem_top}] -> [mem 0x00000000-0x{mem_top}]
0.005820|NODE_DATA(0) allocated [mem 0x{node_data}]
0.006112|Zone ranges:
0.006114|  DMA      [mem 0x0000000000001000-0x0000000000ffffff]
0.006116|  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]
0.006118|  Normal   [mem 0x0000000100000000-0x{mem_top}]
0.006120|  Device   empty
0.006121|Movable zone start for each node
0.006123|Early memory node ranges
0.006124|  node   0: [mem 0x0000000000001000-0x000000000009ffff]
0.006126|  node   0: [mem 0x0000000000100000-0x000000003ff40fff]
0.006127|  node   0: [mem 0x000000003ffff000-0x000000003fffffff]
0.006129|  node   0: [mem 0x0000000100000000-0x{mem_top}]
0.006754|Initmem setup node 0 [mem 0x0000000000001000-0x{mem_top}]
0.009923|ACPI: PM-Timer IO Port: 0x408
0.009952|ACPI: LAPIC_NMI (acpi_id[0x01] dl dfl lint[0x1])
0.009983|IOAPIC[0]: apic_id {cpus}, version 17, address 0xfec00000, GSI 0-23
0.009991|ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)
0.009996|ACPI: Using ACPI (MADT) for SMP configuration information
0.010001|TSC deadline timer available
0.010004|smpboot: Allowing {cpus} CPUs, 0 hotplug CPUs
0.010030|[mem 0x40000000-0xffffffff] available for PCI devices
0.010033|Booting paravirtualized kernel on Hyper-V
0.010037|clocksource: refined-jiffies: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 7645519600211568 ns
0.010046|setup_percpu: NR_CPUS:8192 nr_cpumask_bits:{cpus} nr_cpu_ids:{cpus} nr_node_ids:1
0.010603|percpu: Embedded 86 pages/cpu s229376 r8192 d114688 u524288
0.010657|Kernel command line: {cmdline}
0.010789|Unknown kernel command line parameters "{boot_image}", will be passed to user space.
0.012941|Dentry cache hash table entries: 2097152 (order: 12, 16777216 bytes, linear)
0.013986|Inode-cache hash table entries: 1048576 (order: 11, 8388608 bytes, linear)
0.014153|Fallback order for Node 0: 0 
0.014158|Built 1 zonelists, mobility grouping on.  Total pages: {pages}
0.014160|Policy zone: Normal
0.014166|mem auto-init: stack:all(zero), heap alloc:on, heap free:off
0.014175|software IO TLB: area num {cpus}.
0.068904|Memory: {mem_avail}K/{mem_total}K available (22528K kernel code, 4420K rwdata, 14412K rodata, 4828K init, 4628K bss, 410176K reserved, 0K cma-reserved)
0.069389|SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs={cpus}, Nodes=1
0.069418|Kernel/User page tables isolation: enabled
0.069461|ftrace: allocating 51732 entries in 203 pages
0.083107|ftrace: allocated 203 pages with 4 groups
0.084013|Dynamic Preempt: voluntary
0.084234|rcu: Preemptible hierarchical RCU implementation.
0.084236|rcu: 	RCU restricting CPUs from NR_CPUS=8192 to nr_cpu_ids={cpus}.
0.084242|	Trampoline variant of Tasks RCU enabled.
0.084243|	Rude variant of Tasks RCU enabled.
0.084244|	Tracing variant of Tasks RCU enabled.
0.084246|rcu: RCU calculated value of scheduler-enlistment delay is 100 jiffies.
0.084248|rcu: Adjusting geometry for rcu_fanout_leaf=16, nr_cpu_ids={cpus}
0.089418|NR_IRQS: 524544, nr_irqs: 440, preallocated irqs: 16
0.089894|rcu: srcu_init: Setting srcu_struct sizes based on contention.
0.090240|Console: colour dummy device 80x25
0.090244|printk: legacy console [tty1] enabled
0.090308|printk: legacy console [ttyS0] enabled
0.090308|printk: legacy bootconsole [earlyser0] disabled
0.122891|ACPI: Core revision 20230628
0.123134|APIC: Switch to symmetric I/O mode setup
0.123598|Hyper-V: Using IPI hypercalls
0.123604|Hyper-V: Using enlightened APIC (xapic mode)
0.123725|clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x2844cb7e34a, max_idle_ns: 440795265542 ns
0.123731|Calibrating delay loop (skipped), value calculated using timer frequency.. 5586.87 BogoMIPS (lpj=11173748)
0.127728|x86/cpu: User Mode Instruction Prevention (UMIP) activated
0.127728|Last level iTLB entries: 4KB 64, 2MB 8, 4MB 8
0.127728|Last level dTLB entries: 4KB 64, 2MB 0, 4MB 0, 1GB 4
0.127728|Spectre V1 : Mitigation: usercopy/swapgs barriers and __user pointer sanitization
0.127728|Spectre V2 : Mitigation: Enhanced / Automatic IBRS
0.127728|Speculative Store Bypass: Mitigation: Speculative Store Bypass disabled via prctl
0.127728|GDS: Mitigation: Microcode
0.131785|Freeing SMP alternatives memory: 44K
0.131785|pid_max: default: 32768 minimum: 301
0.131785|LSM: initializing lsm=lockdown,capability,landlock,yama,apparmor,ima,evm
0.131785|landlock: Up and running.
0.131785|Yama: becoming mindful.
0.131785|AppArmor: AppArmor initialized
0.131785|Mount-cache hash table entries: 32768 (order: 6, 262144 bytes, linear)
0.135727|smpboot: CPU0: Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz (family: 0x6, model: 0x6a, stepping: 0x6)
0.139728|Performance Events: unsupported p6 CPU model 106 no PMU driver, software events only.
0.139728|signal: max sigframe size: 3632
0.139728|rcu: Hierarchical SRCU implementation.
0.139728|smp: Bringing up secondary CPUs ...
0.139728|smpboot: x86: Booting SMP configuration:
0.139728|.... node  #0, CPUs:      #1
0.147833|smp: Brought up 1 node, {cpus} CPUs
0.147833|smpboot: Max logical packages: 1
0.147833|smpboot: Total of {cpus} processors activated (22347.49 BogoMIPS)
0.151732|devtmpfs: initialized
0.151732|x86/mm: Memory block size: 128MB
0.151732|ACPI: PM: Registering ACPI NVS region [mem 0x3fffb000-0x3fffefff] (16384 bytes)
0.151732|clocksource: jiffies: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 7645041785100000 ns
0.151732|NET: Registered PF_NETLINK/PF_ROUTE protocol family
0.151732|audit: initializing netlink subsys (disabled)
0.151732|audit: type=2000 audit(1.144:1): state=initialized audit_enabled=0 res=1
0.151732|thermal_sys: Registered thermal governor 'step_wise'
0.151732|cpuidle: using governor ladder
0.151732|cpuidle: using governor menu
0.151732|PCI: Fatal: No config space access function found
0.155742|HugeTLB: registered 1.00 GiB page size, pre-allocated 0 pages
0.155742|ACPI: Added _OSI(Module Device)
0.155742|ACPI: Added _OSI(Processor Device)
0.155742|ACPI: 1 ACPI AML tables successfully acquired and loaded
0.159728|ACPI: Interpreter enabled
0.159728|ACPI: PM: (supports S0 S5)
0.159728|ACPI: Using IOAPIC for interrupt routing
0.159728|PCI: Using host bridge windows from ACPI; if necessary, use "pci=nocrs" and report a bug
0.159728|PCI: System does not support PCI
0.163740|iommu: Default domain type: Translated
0.163740|SCSI subsystem initialized
0.163740|usbcore: registered new interface driver usbfs
0.167730|EDAC MC: Ver: 3.0.0
0.167730|hv_vmbus: Vmbus version:5.3
0.167730|PCI: Using ACPI for IRQ routing
0.167730|NetLabel: Initializing
0.167730|clocksource: Switched to clocksource hyperv_clocksource_tsc_page
0.195733|VFS: Disk quotas dquot_6.6.0
0.195804|AppArmor: AppArmor Filesystem Enabled
0.196117|pnp: PnP ACPI init
0.196239|pnp: PnP ACPI: found 3 devices
0.203217|NET: Registered PF_INET protocol family
0.203571|TCP established hash table entries: 131072 (order: 8, 1048576 bytes, linear)
0.204178|TCP: Hash tables configured (established 131072 bind 65536)
0.204488|NET: Registered PF_UNIX/PF_LOCAL protocol family
0.204597|NET: Registered PF_XDP protocol family
0.204602|PCI: CLS 0 bytes, default 64
0.204652|PCI-DMA: Using software bounce buffering for IO (SWIOTLB)
0.204654|software IO TLB: mapped [mem 0x000000002f6e7000-0x00000000336e7000] (64MB)
0.204801|Trying to unpack rootfs image as initramfs...
0.205014|Initialise system trusted keyrings
0.205284|workingset: timestamp_bits=36 max_order=22 bucket_order=0
0.206121|Key type asymmetric registered
0.206124|Asymmetric key parser 'x509' registered
0.206213|Block layer SCSI generic (bsg) driver version 0.4 loaded (major 243)
0.206541|io scheduler mq-deadline registered
0.207390|ACPI: AC: AC Adapter [AC] (on-line)
0.207671|ACPI: button: Power Button [PWRB]
0.208004|Serial: 8250/16550 driver, 32 ports, IRQ sharing enabled
0.208913|00:00: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A
0.209902|00:01: ttyS1 at I/O 0x2f8 (irq = 3, base_baud = 115200) is a 16550A
0.211478|Linux agpgart interface v0.103
0.219622|loop: module loaded
0.220130|tun: Universal TUN/TAP device driver, 1.6
0.220304|PPP generic driver version 2.4.2
0.220539|i8042: PNP: No PS/2 controller found.
0.220841|mousedev: PS/2 mouse device common for all mice
0.221132|rtc_cmos 00:02: RTC can wake from S4
0.221802|rtc_cmos 00:02: registered as rtc0
0.222183|rtc_cmos 00:02: setting system clock to {rtc} UTC ({epoch})
0.222497|device-mapper: ioctl: 4.48.0-ioctl (2023-03-01) initialised: dm-devel@lists.linux.dev
0.223008|NET: Registered PF_INET6 protocol family
0.227317|Segment Routing with IPv6
0.227587|NET: Registered PF_PACKET protocol family
0.228040|IPI shorthand broadcast: enabled
0.229791|sched_clock: Marking stable (228144302, 1212034)->(241232118, -11875782)
0.230497|registered taskstats version 1
0.231316|Loading compiled-in X.509 certificates
0.232213|Loaded X.509 cert 'Build time autogenerated kernel key: 2b1f34a0f3cbc3c4f7d0d3f6e1d9d0c8a1b2c3d4'
0.232907|Loaded X.509 cert 'Canonical Ltd. Live Patch Signing: 14df34d1a87cf37625abec039ef2bf521249b969'
0.233555|Loaded X.509 cert 'Canonical Ltd. Kernel Module Signing: 88f752e560a1e0737e31163a466ad7b70a850c19'
0.235112|integrity: Loading X.509 certificate: UEFI:db
0.235140|integrity: Loaded X.509 cert 'Microsoft Corporation UEFI CA 2011: 13adbf4309bd82709c8cd54f316ed522988a1bd4'
0.235152|integrity: Loaded X.509 cert 'Microsoft Windows Production PCA 2011: a92902398e16c49778cd90f99e4f9ae17c55af53'
0.236843|ima: Allocated hash algorithm: sha1
0.262184|evm: Initialising EVM extended attributes:
0.262711|RAS: Correctable Errors collector initialized.
0.266471|Freeing initrd memory: 94520K
0.268903|Freeing unused decrypted memory: 2028K
0.270022|Freeing unused kernel image (initmem) memory: 4828K
0.272130|Write protecting the kernel read-only data: 38912k
0.273311|Freeing unused kernel image (rodata/data gap) memory: 1972K
0.289640|x86/mm: Checked W+X mappings: passed, no W+X pages found.
0.289646|Run /init as init process
"""

UBUNTU_INITRAMFS_MODULES = r"""
0.512330|hv_vmbus: registering driver hyperv_keyboard
0.516022|hid: raw HID events driver (C) Jiri Kosina
0.520814|hv_vmbus: registering driver hid_hyperv
0.521744|input: Microsoft Vmbus HID-compliant Mouse as /devices/0006:045E:0621.0001/input/input1
0.522201|hid-hyperv 0006:045E:0621.0001: input: <UNKNOWN> HID v0.01 Mouse [Microsoft Vmbus HID-compliant Mouse] on 
0.528630|hv_vmbus: registering driver hv_storvsc
0.530022|scsi host0: storvsc_host_t
0.530631|hv_vmbus: registering driver hv_netvsc
0.531840|scsi host1: storvsc_host_t
0.532610|hv_vmbus: registering driver hv_pci
0.534102|scsi 0:0:0:0: Direct-Access     Msft     Virtual Disk     1.0  PQ: 0 ANSI: 5
0.535010|sd 0:0:0:0: Attached scsi generic sg0 type 0
0.535400|sd 0:0:0:0: [sda] {os_blocks} 512-byte logical blocks: ({os_gb_dec} GB/{os_gib} GiB)
0.535403|sd 0:0:0:0: [sda] 4096-byte physical blocks
0.535500|sd 0:0:0:0: [sda] Write Protect is off
0.535604|sd 0:0:0:0: [sda] Write cache: disabled, read cache: enabled, supports DPO and FUA
0.537211| sda: sda1 sda14 sda15 sda16
0.537640|sd 0:0:0:0: [sda] Attached SCSI disk
0.541225|scsi 0:0:0:1: Direct-Access     Msft     Virtual Disk     1.0  PQ: 0 ANSI: 5
0.541870|sd 0:0:0:1: Attached scsi generic sg1 type 0
0.542011|sd 0:0:0:1: [sdb] {temp_blocks} 512-byte logical blocks: ({temp_gb_dec} GB/{temp_gib} GiB)
0.542205|sd 0:0:0:1: [sdb] Write Protect is off
0.542305|sd 0:0:0:1: [sdb] Write cache: disabled, read cache: enabled, supports DPO and FUA
0.543688| sdb: sdb1
0.543980|sd 0:0:0:1: [sdb] Attached SCSI disk
@DATA 0.5470|scsi 1:0:0:{lun}: Direct-Access     Msft     Virtual Disk     1.0  PQ: 0 ANSI: 5
@DATA 0.5476|sd 1:0:0:{lun}: [{dev}] {blocks} 512-byte logical blocks: ({gb_dec} GB/{gib} GiB)
@DATA 0.5479|sd 1:0:0:{lun}: [{dev}] Write cache: disabled, read cache: enabled, supports DPO and FUA
@DATA 0.5491| {dev}: {dev}1
@DATA 0.5495|sd 1:0:0:{lun}: [{dev}] Attached SCSI disk
0.548801|hv_netvsc {vmbus_guid} (unnamed net_device) (uninitialized): VF slot 1 added
@ACCEL 0.560212|hv_pci {pci_guid}: PCI VMBus probing: Using version 0x10004
@ACCEL 0.562910|hv_pci {pci_guid}: PCI host bridge to bus {pci_dom}:00
@ACCEL 0.562950|pci_bus {pci_dom}:00: root bus resource [mem 0xfe0000000-0xfe00fffff window]
@ACCEL 0.564012|pci {pci_dom}:00:02.0: [15b3:101a] type 00 class 0x020000 PCIe Endpoint
@ACCEL 0.569030|pci {pci_dom}:00:02.0: enabling Extended Tags
@ACCEL 0.571802|pci {pci_dom}:00:02.0: BAR 0 [mem 0xfe0000000-0xfe00fffff 64bit pref]: assigned
@ACCEL 0.580302|mlx5_core {pci_dom}:00:02.0: enabling device (0000 -> 0002)
@ACCEL 0.584120|mlx5_core {pci_dom}:00:02.0: firmware version: 16.31.1014
@ACCEL 0.784532|hv_netvsc {vmbus_guid} eth0: VF registering: eth1
@ACCEL 0.784640|mlx5_core {pci_dom}:00:02.0 eth1: joined to eth0
@ACCEL 0.786201|mlx5_core {pci_dom}:00:02.0: MLX5E: StrdRq(0) RqSz(1024) StrdSz(256) RxCqeCmprss(0 basic)
@ACCEL 0.790312|mlx5_core {pci_dom}:00:02.0 enP{pci_dom_dec}s1: renamed from eth1
"""

UBUNTU_INITRAMFS_TEXT = [
    "Loading, please wait...",
    "Starting systemd-udevd version {systemd_short}",
    "Begin: Loading essential drivers ... done.",
    "Begin: Running /scripts/init-premount ... done.",
    "Begin: Mounting root file system ... Begin: Running /scripts/local-top ... done.",
    "Begin: Running /scripts/local-premount ... [[0.61]]done.",
    "Begin: Will now check root file system ... fsck from util-linux 2.39.3",
    "[/usr/sbin/fsck.ext4 (1) -- /dev/sda1] fsck.ext4 -a -C0 /dev/sda1 ",
    "cloudimg-rootfs: clean, {inodes_used}/{inodes} files, {blocks_used}/{fs_blocks} blocks",
    "done.",
]

UBUNTU_ROOT_MOUNT = "EXT4-fs (sda1): mounted filesystem {rootfs_uuid} ro with ordered data mode. Quota mode: none."

UBUNTU_INITRAMFS_TAIL = [
    "done.",
    "Begin: Running /scripts/local-bottom ... done.",
    "Begin: Running /scripts/init-bottom ... done.",
]

SYSTEMD_KERNEL = r"""
1.140113|systemd[1]: Inserted module 'autofs4'
1.171901|systemd[1]: systemd {systemd} running in system mode ({systemd_features})
1.176410|systemd[1]: Detected virtualization microsoft.
1.176432|systemd[1]: Detected architecture x86-64.
"""
