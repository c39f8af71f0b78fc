#!/bin/sh
# Validates every test document against xml-schemas/domain-hv.rng with xmllint (as libvirt's
# virschematest does), and cross-checks it against libvirt's own domain.rng with type='hv'
# read as type='xen': what hv accepts must be valid libvirt XML. Documents named
# *-invalid.xml are left to xml2xml (some are schema-valid but semantically wrong).
set -u
srcdir=${srcdir:-.}
data=$srcdir/tests/unit/xml/data
schema=$srcdir/xml-schemas/domain-hv.rng
libvirt_schema=/usr/share/libvirt/schemas/domain.rng
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
count=0

for f in "$data"/*.xml; do
	case $f in *-invalid.xml) continue ;; esac
	count=$((count + 1))
	if ! xmllint --noout --relaxng "$schema" "$f" 2>"$tmp/err"; then
		echo "FAIL: $f is not valid for domain-hv.rng:"; cat "$tmp/err"
		failed=1
	fi
	if [ -r "$libvirt_schema" ]; then
		sed "1,/<domain/s/<domain type='hv'/<domain type='xen'/" "$f" >"$tmp/doc.xml"
		if ! xmllint --noout --relaxng "$libvirt_schema" "$tmp/doc.xml" 2>"$tmp/err"; then
			echo "FAIL: $f (as type='xen') is not valid for libvirt's domain.rng:"
			cat "$tmp/err"
			failed=1
		fi
	fi
done
[ "$count" -gt 0 ] || { echo "FAIL: no test documents in $data"; exit 1; }
[ -r "$libvirt_schema" ] || echo "note: $libvirt_schema not installed, cross-check skipped"
echo "checked $count documents"
exit $failed
