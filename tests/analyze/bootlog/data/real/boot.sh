#!/bin/bash
# boot.sh NAME [extra kernel args]: boot the Debian 12 guest under QEMU (TCG), serial to NAME.log, stop at login:
name=$1; shift
rm -f $name.log
timeout 400 qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
  -kernel /boot/vmlinuz-6.1.0-50-amd64 -initrd /boot/initrd.img-6.1.0-50-amd64 \
  -append "root=/dev/vda rw console=tty0 console=ttyS0,115200n8 earlyprintk=ttyS0 $*" \
  -drive file=${IMG:-disk.img},if=virtio,format=raw -netdev user,id=n0,hostfwd=tcp:127.0.0.1:10022-:22 -device virtio-net-pci,netdev=n0 \
  -serial file:$name.log -monitor none -display none &
pid=$!
for i in $(seq 1 380); do sleep 1; grep -q "login:" $name.log 2>/dev/null && break; grep -q "emergency\|Kernel panic\|Give root password" $name.log 2>/dev/null && sleep 20 && break; done
for k in 1 2; do timeout 3 bash -c "echo > /dev/tcp/127.0.0.1/10022" 2>/dev/null; sleep 2; done; sleep ${POST_WAIT:-2}; kill $pid 2>/dev/null; wait $pid 2>/dev/null
echo "done after ${i}s"; tail -3 $name.log
