#!/bin/sh
# Configures the guest image: lab.py runs it inside the chroot of the fresh debootstrap.
# @MIRROR@, @SUITE@, @LINKS@ are filled in by lab.py; the result is part of the image hash.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
cat > /etc/apt/sources.list <<'EOF'
deb @MIRROR@ @SUITE@ main
deb @MIRROR@ @SUITE@-updates main
deb http://deb.debian.org/debian-security @SUITE@-security main
EOF
echo '/dev/vda / ext4 rw,errors=remount-ro 0 0' > /etc/fstab
echo lab > /etc/hostname      # systemd.hostname=labN on the kernel command line overrides it
cat > /etc/hosts <<'EOF'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
EOF
cat > /etc/network/interfaces <<'EOF'
# only the management NIC is configured; data0, spare0, sriov0 are left to the tests
auto lo
iface lo inet loopback

auto mgmt0
iface mgmt0 inet dhcp
EOF
sed -i 's/^#\?timeout .*/timeout 30;/' /etc/dhcp/dhclient.conf
mkdir -p /etc/systemd/network /etc/ssh/sshd_config.d
@LINKS@
cat > /etc/ssh/sshd_config.d/kbypass-lab.conf <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF
install -d -m 700 /root/.ssh
systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
    fstrim.timer man-db.timer >/dev/null 2>&1 || true
# a small initramfs: only what mounts /dev/vda (the full one costs ~25 s per boot under TCG);
# NIC drivers load in the real root, where the .link files name the NICs
echo MODULES=list > /etc/initramfs-tools/conf.d/kbypass-lab
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic > /etc/initramfs-tools/modules
update-initramfs -u -k all
apt-get clean
