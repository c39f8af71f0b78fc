#!/bin/sh
# Build the Linux test initramfs (newc cpio, uncompressed) from Debian's busybox-static:
# /init prints LINUX-PV-MARKER, runs uname, /proc/cpuinfo, a fork/exec loop (timed), a memory
# toucher, and powers off. Usage: make-initramfs.sh OUT.cpio [LOOPS] [MEM_MB]
set -eu
out=$1
loops=${2:-200}
mem_mb=${3:-16}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "no static busybox at $busybox (apt-get install busybox-static)" >&2; exit 2; }
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	{ echo "$busybox is not statically linked (busybox-static)" >&2; exit 2; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for a in sh echo cat head uname mount poweroff true date seq dd sleep; do
	ln -s busybox "$root/bin/$a"
done
cat > "$root/init" <<INIT
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo LINUX-PV-MARKER
echo "uptime-at-init: \$(cat /proc/uptime)"
uname -a
head -n 8 /proc/cpuinfo
echo "cpus: \$(grep -c ^processor /proc/cpuinfo)"
# fork/exec loop: $loops times a new process that execs /bin/true
t0=\$(cat /proc/uptime)
i=0
while [ \$i -lt $loops ]; do /bin/true; i=\$((i + 1)); done
t1=\$(cat /proc/uptime)
echo "forkexec: $loops loops from \${t0%% *} to \${t1%% *}"
# memory toucher: write $mem_mb MiB through tmpfs-backed memory and read it back
dd if=/dev/zero of=/tmp/mem bs=1M count=$mem_mb 2>/dev/null && cat /tmp/mem > /dev/null && rm /tmp/mem
echo "memtouch: $mem_mb MiB ok"
echo LINUX-PV-DONE
poweroff -f
INIT
# busybox applets used by /init that are not linked above
ln -s busybox "$root/bin/grep"
ln -s busybox "$root/bin/rm"
chmod 755 "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out"
