#!/usr/bin/env bash
# qcow2 interoperability with QEMU's tools: images written by qemu-img and
# qemu-io read back byte-exact through mvm's backend; images written by
# mvm pass `qemu-img check` (no errors, no leaks) and compare identical
# to a raw image that received the same writes.  The helper is
# build/tests/unit/test_qcow2 in its --dump/--write/--info modes.
: "${MVM:=/dev/null}"
. "$(dirname "$0")/../lib/mvm.sh"

T=${BUILD:-build}/tests/unit/test_qcow2
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
	skip_all "qemu-img/qemu-io not installed (Debian: qemu-utils)"
fi
if [ ! -x "$T" ]; then
	skip_all "$T not built"
fi

# Many small synced writes: a RAM file system keeps this test quick.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	rmdir "$TMP" && TMP=$(mktemp -d -p /dev/shm) || exit 1
fi

# qio FILE FMT CMD...: run qemu-io commands on FILE.
qio() {
	local f=$1 fmt=$2 args=()
	shift 2
	for c in "$@"; do args+=(-c "$c"); done
	qemu-io -f "$fmt" "${args[@]}" "$f" >/dev/null
}

# both NAME CMD...: apply qemu-io commands to NAME.qcow2 and NAME.raw.
both() {
	local n=$1
	shift
	qio "$TMP/$n.qcow2" qcow2 "$@" && qio "$TMP/$n.raw" raw "$@"
}

# mw NAME OFF LEN BYTE: write through mvm to the qcow2, with qemu-io to raw.
mw() {
	"$T" --write "$TMP/$1.qcow2" "$2" "$3" "$4" &&
	qio "$TMP/$1.raw" raw "write -P $4 $2 $3"
}

# same NAME WHAT: mvm reads NAME.qcow2 exactly as NAME.raw.
same() {
	"$T" --dump "$TMP/$1.qcow2" "$TMP/$1.out" &&
	cmp -s "$TMP/$1.out" "$TMP/$1.raw"
	ok $? "$2: mvm reads what qemu wrote"
}

# clean NAME WHAT: qemu-img check finds nothing; qemu-img compare agrees.
clean() {
	local out
	out=$(qemu-img check "$TMP/$1.qcow2" 2>&1)
	if [ $? -eq 0 ] && ! grep -Eq 'ERROR|Leaked|leaked' <<<"$out"; then
		ok 0 "$2: qemu-img check: no errors, no leaks"
	else
		ok 1 "$2: qemu-img check: no errors, no leaks" "$out"
	fi
	qemu-img compare -q "$TMP/$1.qcow2" "$TMP/$1.raw"
	ok $? "$2: qemu-img compare: identical to the raw image"
}

# new NAME SIZE OPTS: an empty qcow2 and raw pair.
new() {
	qemu-img create -q -f qcow2 -o "$3" "$TMP/$1.qcow2" "$2" &&
	qemu-img create -q -f raw "$TMP/$1.raw" "$2"
}

# 1. qemu-written data in v3 and v2 images, several cluster sizes.
for v in "v3 compat=1.1,cluster_size=65536" "v2 compat=0.10,cluster_size=65536" \
	 "c512 compat=1.1,cluster_size=512" "c2m compat=1.1,cluster_size=2M"; do
	n=${v%% *}
	new "$n" 8M "${v#* }"
	both "$n" "write -P 0xab 0 64k" "write -P 0xcd 1049088 3072" \
		"write -P 0x5a 4194304 1M" "write -P 0x77 8387584 1024"
	same "$n" "$n data"
done
# v3 zero clusters: one keeps its allocation, one does not.
new z 8M compat=1.1
both z "write -P 0x11 0 256k" "write -z 64k 64k" "write -z -u 128k 64k" \
	"write -z 1M 128k"
same z "zero clusters"

# 2. Compressed images from a raw file with patterns, read byte-exact.
mkpattern() {	# mkpattern FILE SIZE
	{ head -c 200000 /dev/urandom; yes 'compressible text' | head -c 700000
	  head -c 300000 /dev/zero; seq 1 200000; } | head -c "$2" >"$1"
	truncate -s "$2" "$1"
}
for cs in 65536 4096 512 2M; do
	n=comp$cs
	mkpattern "$TMP/$n.raw" 4M
	qemu-img convert -c -O qcow2 -o cluster_size=$cs "$TMP/$n.raw" \
		"$TMP/$n.qcow2"
	same "$n" "compressed, $cs-byte clusters"
done

# 3. Writes through mvm: in place, unallocated (new L2 tables and, with
#    512-byte clusters, new refcount blocks), zero and compressed clusters.
for n in v3 v2 c512 c2m z; do
	mw "$n" 0 100 0x01 &&			# in place
	mw "$n" 70000 200000 0x02 &&		# unallocated run
	mw "$n" 3000000 5000 0x03 &&		# new L2 table with small clusters
	mw "$n" 6291456 1048576 0x04 &&		# 1 MiB, several L2 tables
	mw "$n" 8388096 512 0x05		# the last sector
	ok $? "$n: mvm writes succeed"
	same "$n" "$n after mvm writes"
	clean "$n" "$n after mvm writes"
done
mw z 70000 10 0x06 && mw z 1100000 10 0x07
ok $? "z: writes into zero clusters"
clean z "zero clusters after mvm writes"
for cs in 65536 512 2M; do
	n=comp$cs
	mw "$n" 100 10 0x21 && mw "$n" 250000 100000 0x22 &&
		mw "$n" 4193792 512 0x23
	ok $? "compressed $cs: mvm writes succeed"
	same "$n" "compressed $cs after mvm writes"
	clean "$n" "compressed $cs after mvm writes"
done

# 4. Refusals, one line each.
qemu-img create -q -f qcow2 -b "$TMP/v3.qcow2" -F qcow2 "$TMP/b.qcow2"
"$T" --info "$TMP/b.qcow2" 2>"$TMP/err"
[ $? -ne 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
	grep -q "b.qcow2: qcow2 image has a backing file" "$TMP/err"
ok $? "backing file refused with one line"
qemu-img snapshot -c snap "$TMP/v3.qcow2"
"$T" --info "$TMP/v3.qcow2" 2>"$TMP/err"
[ $? -ne 0 ] && grep -q "internal snapshots; writing to it is not supported" \
	"$TMP/err"
ok $? "snapshots: writing refused"
"$T" --dump "$TMP/v3.qcow2,ro" "$TMP/v3.out" && cmp -s "$TMP/v3.out" "$TMP/v3.raw"
ok $? "snapshots: read-only works"

# 5. Locking against QEMU: a qemu-io holding the image keeps mvm out.
qemu-io -c "sleep 10000" "$TMP/c512.qcow2" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do	# until qemu-io holds its locks
	qemu-img info "$TMP/c512.qcow2" >/dev/null 2>&1 || break
	sleep 0.1
done
"$T" --info "$TMP/c512.qcow2" 2>"$TMP/err"
st=$?
kill $pid 2>/dev/null
wait $pid 2>/dev/null
[ $st -ne 0 ] && grep -q "image is locked by another process" "$TMP/err"
ok $? "image held by qemu-io: mvm refuses it"
"$T" --info "$TMP/c512.qcow2" >/dev/null
ok $? "after qemu-io exits: mvm opens it"

done_testing
