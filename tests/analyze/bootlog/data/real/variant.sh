#!/bin/bash
# variant.sh NAME: a disk image NAME.img from root/ with the change for NAME applied to a copy
set -e
name=$1
rm -rf v-$name && cp -a root v-$name
r=v-$name
case $name in
  sshd-bad) echo "PermitRootLogn yes" >> $r/etc/ssh/sshd_config ;;
  fstab-stale) echo "UUID=3b2a9c4e-5d6f-4a1b-9c8d-7e6f5a4b3c2d /data ext4 defaults 0 2" >> $r/etc/fstab
               chroot $r passwd -l root ;;
  firewall) mkdir -p $r/etc/iptables
     printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j LOG --log-prefix "DROP-SSH: " --log-level 3\n-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n' > $r/etc/iptables/rules.v4 ;;
  oom) printf '[Unit]\nDescription=Memory hog\n[Service]\nExecStart=/usr/bin/tail /dev/zero\n[Install]\nWantedBy=multi-user.target\n' > $r/etc/systemd/system/hog.service
       ln -s /etc/systemd/system/hog.service $r/etc/systemd/system/multi-user.target.wants/hog.service ;;
  iptables-bad) mkdir -p $r/etc/iptables
     printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j NOSUCHTARGET\nCOMMIT\n' > $r/etc/iptables/rules.v4 ;;
esac
truncate -s 3G $name.img && mkfs.ext4 -q -F -d $r $name.img && rm -rf $r
