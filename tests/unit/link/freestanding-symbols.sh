#!/bin/sh
# The link code is compiled freestanding for guest-kernel's dom0 agent: check that the objects
# built that way (link/libhvlink-freestanding.a) need no symbol from outside but memcpy and
# memset.
lib=link/libhvlink-freestanding.a
[ -f "$lib" ] || { echo "missing $lib"; exit 1; }
defined=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$(nm -u "$lib" | awk 'NF == 2 { print $2 }' | sort -u)
echo "defined: $(echo $defined)"
missing=""
for s in $undefined; do
	echo "$defined" | grep -qx "$s" || missing="$missing $s"
done
echo "needed from outside:$missing"
for s in $missing; do
	case "$s" in
	memcpy | memset) ;;
	*) echo "FAIL: freestanding link code uses $s"; exit 1 ;;
	esac
done
echo "$defined" | grep -qx hvlink_ring_peek || { echo "FAIL: ring code not in $lib"; exit 1; }
exit 0
