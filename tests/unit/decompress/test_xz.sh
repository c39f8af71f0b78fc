#!/bin/sh
# Runs tests/unit/decompress/test_xz on streams xz(1) makes now (see Makefile.inc.am).
set -u
command -v xz >/dev/null 2>&1 || { echo "xz(1) not installed: skipped"; exit 77; }
bin=./tests/unit/decompress/test_xz
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
# Inputs: x86 code (the decoder test binary itself, where BCJ has work), text, zeros, random.
cp "$bin" "$dir/code"
head -c 300000 /dev/urandom > "$dir/random"
head -c 2000000 /dev/zero > "$dir/zeros"
{ i=0; while [ $i -lt 3000 ]; do echo "line $i of a text that repeats with small changes"; i=$((i + 1)); done; } > "$dir/text"
: > "$dir/empty"
n=0
for f in code random zeros text empty; do
	for opts in "--check=crc32 --lzma2=preset=6" "--check=crc64 --x86 --lzma2=preset=9e" \
		"--check=none --lzma2=lc=4,lp=0,pb=0" "--check=crc32 --block-size=65536 --x86 --lzma2"; do
		n=$((n + 1))
		xz --format=xz $opts -c "$dir/$f" > "$dir/s$n.xz" || { echo "xz $opts failed"; exit 99; }
		$bin "$dir/s$n.xz" "$dir/$f" || fail=1
	done
done
# Damaged streams: a flipped byte in the data (caught by the range coder or the CRC), a
# truncation, an unsupported check (SHA-256), a flipped header byte.
xz --check=crc32 -c "$dir/text" > "$dir/good.xz"
size=$(wc -c < "$dir/good.xz")
cp "$dir/good.xz" "$dir/flip.xz"
printf '\377' | dd of="$dir/flip.xz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
head -c $((size / 2)) "$dir/good.xz" > "$dir/trunc.xz"
xz --check=sha256 -c "$dir/text" > "$dir/sha.xz"
cp "$dir/good.xz" "$dir/hdr.xz"
printf '\004' | dd of="$dir/hdr.xz" bs=1 seek=7 conv=notrunc 2>/dev/null
for b in flip trunc sha hdr; do
	$bin -bad "$dir/$b.xz" || fail=1
done
exit $fail
