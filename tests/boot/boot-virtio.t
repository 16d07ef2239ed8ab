#!/usr/bin/env bash
# Virtio boot test: the Debian cloud kernel of boot-test.t, with an
# initramfs whose /init (tests/boot/init-virtio) loads the kernel's virtio
# modules and drives mvm's virtio devices:
#
#   mvm run -k vmlinuz -i initramfs -m 512 -c 2 -d disk.img -d disk.qcow2 \
#           --rng --console virtio -p "earlyprintk=serial vt_..."
#
# disk.img is a raw image made here (a numbered pattern per sector, a zero
# MiB, sentinels at known offsets); disk.qcow2 is a qcow2 copy of a
# variant of it (made with qemu-img; without qemu-img only the raw disk is
# attached and the qcow2 points SKIP).  The guest reads both disks whole
# and at the sentinels, writes a per-run token into each, and the images
# mvm leaves behind are compared byte for byte with what they must hold.
# See docs/boot-test.md.  Everything is asserted from the console and the
# image files, in direct mode (/dev/kvm) or nested mode (the static mvm in
# tests/nested/run-in-kvm.sh; the images come back through its stdout).
#
# Environment: as boot-test.t (MVM, STATIC_MVM, MVM_BOOT_TEST_MODE,
# MVM_BOOT_MEM, MVM_BOOT_CPUS, MVM_BOOT_TIMEOUT, MVM_BOOT_KEEP,
# MVM_NESTED_CACHE, MVM_BOOT_KERNEL_PKG, ...), plus
#   MVM_BOOT_VIRTIO_PARAMS  extra kernel parameters (default none: with
#                           earlyprintk=serial and console=hvc0 the boot
#                           console stays until hvc0 comes, and the whole
#                           boot log is printed twice on ttyS0)
#   MVM_BOOT_NO_QCOW2=1     do not attach the qcow2 disk even with qemu-img
set -u
. "$(dirname "$0")/lib.sh"
xparams=${MVM_BOOT_VIRTIO_PARAMS-}

# ------------------------------------------------------------------ the disks
# 6151 sectors (not a power of two): sectors 0-4095 and 6144-6150 carry
# "MVM-DISK-NNNNNN." x 32 (NNNNNN = sector number), 4096-6143 are zeros
# (a hole in the qcow2).  Sentinels, 18 bytes each:
#   at A = 1 MiB - 10 (across a page and a 64 KiB qcow2 cluster boundary)
#   at Z = size - 40 (in the last sector)
# Writes by the guest:
#   vda: "MVM-WROTE-VDA-<tok>" at 2 MiB - 7 (into the zero MiB)
#   vdb: "MVM-WROTE-VDB1-<tok>" at 2.5 MiB + 100 (in the qcow2 hole: a new
#        cluster) and "MVM-WROTE-VDB2-<tok>" at 4091 (across a sector
#        boundary of an allocated cluster)
sectors=6151
size=$((sectors * 512))
off_a=$((1048576 - 10))
off_z=$((size - 40))
off_wa=$((2097152 - 7))
off_wb1=$((2621440 + 100))
off_wb2=4091
tok=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
sen() { printf 'MVM-%s-%s-%s' "$1" "$2" "$tok"; }	# sen RAW|QC2 A|Z: 18 bytes
put() { printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
mkdisk() { # mkdisk FILE RAW|QC2
	awk -v n=$sectors 'BEGIN {
		for (i = 0; i < n; i++) {
			s = sprintf("MVM-DISK-%06d.", i); l = ""
			for (j = 0; j < 32; j++) l = l s
			printf "%s", l
		}
	}' >"$1"
	dd if=/dev/zero of="$1" bs=512 seek=4096 count=2048 conv=notrunc status=none
	put "$1" $off_a "$(sen "$2" A)"
	put "$1" $off_z "$(sen "$2" Z)"
}

# ------------------------------------------------------------------ the plan
NAMES=(
	"virtio modules loaded in dependency order"
	"virtio-pci functions found and bound (blk, rng, console)"
	"vda/vdb capacity in sectors matches the images"
	"vda (raw): whole-device md5 and sentinels match the image"
	"vdb (qcow2): whole-device md5 and sentinels match the image"
	"guest writes read back from the devices after dropping the page cache"
	"raw image on the host holds the guest's write, byte-exact"
	"qcow2 image on the host: qemu-img check clean, holds the guest's writes"
	"virtio-rng is /dev/hwrng and produces bytes"
	"virtio-console: hvc0 carries a user-space line and the kernel console (console=hvc0)"
	"virtio interrupts are MSI-X, and they fire"
	"no kernel BUG/Oops/unexpected WARNING, no virtio or I/O errors"
	"/init finished (MVM-VIRTIO-OK) and mvm exits 0 on poweroff (ACPI S5)"
)
boot_begin boot-virtio
boot_mode

# ------------------------------------------------------------------ kernel, initramfs, disks
boot_prepare virtio
mkdisk "$work/disk.img" RAW
md5_raw=$(md5sum <"$work/disk.img" | cut -d' ' -f1)
cp "$work/disk.img" "$work/expect-vda.img"
put "$work/expect-vda.img" $off_wa "MVM-WROTE-VDA-$tok"
qcow=
if [ "${MVM_BOOT_NO_QCOW2:-}" = 1 ]; then
	qcow_why="MVM_BOOT_NO_QCOW2=1"
elif ! command -v qemu-img >/dev/null; then
	qcow_why="no qemu-img on the host (Debian package qemu-utils)"
else
	mkdisk "$work/qsrc.img" QC2
	md5_qc2=$(md5sum <"$work/qsrc.img" | cut -d' ' -f1)
	if qemu-img convert -f raw -O qcow2 "$work/qsrc.img" "$work/disk.qcow2" 2>"$work/qemu-img.err"; then
		qcow=1
		mv "$work/qsrc.img" "$work/expect-vdb.img"
		put "$work/expect-vdb.img" $off_wb1 "MVM-WROTE-VDB1-$tok"
		put "$work/expect-vdb.img" $off_wb2 "MVM-WROTE-VDB2-$tok"
	else
		qcow_why="qemu-img convert failed: $(tail -n 1 "$work/qemu-img.err")"
	fi
fi
ndisks=1
mvm_args=(-d disk.img)
if [ -n "$qcow" ]; then
	ndisks=2
	mvm_args+=(-d disk.qcow2)
	echo "# disks: vda disk.img (raw, $size bytes), vdb disk.qcow2 ($(stat -c %s "$work/disk.qcow2") bytes, $size virtual); token $tok"
else
	echo "# disks: vda disk.img (raw, $size bytes) only: $qcow_why; token $tok"
fi
mvm_args+=(--rng --console virtio)
params="console=hvc0${xparams:+ $xparams} vt_tok=$tok vt_disks=$ndisks vt_reads=$off_a:18,$off_z:18 vt_wa=$off_wa vt_wb=$off_wb1,$off_wb2"

# ------------------------------------------------------------------ boot
back=(disk.img)
[ -z "$qcow" ] || back+=(disk.qcow2)
boot_run MVM-VIRTIO-OK "$params" "${mvm_args[@]}" -- "${back[@]}"

# ------------------------------------------------------------------ assertions
vt() { printf '%s\n' "$body" | sed -n "s/^MVM-VIRTIO $1//p"; }	# vt PREFIX: rest of matching lines
ran=$(vt 'start ')

# 1: modules
if [ -z "$ran" ]; then
	point 1 1 "/init never printed 'MVM-VIRTIO start'; console's last lines:" "$(tail -n 25 "$console")"
else
	bad=
	for m in $VMODS; do
		[ "$(vt "mod $m ")" = ok ] || bad="$bad $m"
		[[ " $(vt 'modules ') " == *" $m "* ]] || bad="$bad $m(not-in-/proc/modules)"
	done
	if [ -z "$bad" ]; then
		point 1 0 "loaded: $VMODS"
	else
		point 1 1 "failed:$bad" "$(vt 'mod ')"
	fi
fi

# 2: PCI functions 1af4:1042 x ndisks, 1044, 1043, bound to virtio-pci;
# virtio devices bound to their drivers
pci=$(vt 'pci ')
vdev=$(vt 'vdev ')
cnt() { printf '%s\n' "$pci" | grep -c " 0x1af4:$1 .*driver=virtio-pci\$"; }
cntv() { printf '%s\n' "$vdev" | grep -c " id=$1 driver=$2 "; }
if [ "$(cnt 0x1042)" = "$ndisks" ] && [ "$(cnt 0x1044)" = 1 ] && [ "$(cnt 0x1043)" = 1 ] &&
   [ "$(cntv 0x0002 virtio_blk)" = "$ndisks" ] && [ "$(cntv 0x0004 virtio_rng)" = 1 ] &&
   [ "$(cntv 0x0003 virtio_console)" = 1 ]; then
	point 2 0 "$pci" "$vdev"
else
	point 2 1 "want $ndisks x 1af4:1042 (blk), 1 x 1af4:1044 (rng), 1 x 1af4:1043 (console), bound to virtio-pci and virtio_blk/virtio_rng/virtio_console; got:" \
		"${pci:-no pci lines}" "${vdev:-no virtio devices}"
fi

# 3: capacity
cap=$(vt 'blk vda present ')
capb=$(vt 'blk vdb present ')
if [ "$cap" = "size=$sectors ro=0" ] && { [ -z "$qcow" ] || [ "$capb" = "size=$sectors ro=0" ]; }; then
	point 3 0 "vda: $cap${qcow:+; vdb: $capb} (image: $sectors sectors)"
else
	point 3 1 "want size=$sectors ro=0 for vda${qcow:+ and vdb}" "vda: ${cap:-$(vt 'blk vda ')}" ${qcow:+"vdb: ${capb:-$(vt 'blk vdb ')}"}
fi

# 4, 5: contents
check_read() { # check_read POINT DEV RAW|QC2 MD5
	local n=$1 d=$2 k=$3 md5=$4 got_md5 ga gz
	got_md5=$(vt "blk $d md5 ")
	ga=$(vt "blk $d read $off_a ")
	gz=$(vt "blk $d read $off_z ")
	if [ "$got_md5" = "$md5" ] && [ "$ga" = "$(sen "$k" A)" ] && [ "$gz" = "$(sen "$k" Z)" ]; then
		point "$n" 0 "md5 $got_md5" "@$off_a: $ga" "@$off_z: $gz"
	else
		point "$n" 1 "md5: want $md5, got ${got_md5:-none}" \
			"@$off_a: want $(sen "$k" A), got ${ga:-none}" "@$off_z: want $(sen "$k" Z), got ${gz:-none}" \
			"$(vt "blk $d ")"
	fi
}
check_read 4 vda RAW "$md5_raw"
if [ -n "$qcow" ]; then
	check_read 5 vdb QC2 "$md5_qc2"
else
	skip_point 5 "$qcow_why"
fi

# 6: read-back in the guest
want6="vda reread $off_wa MVM-WROTE-VDA-$tok"
[ -z "$qcow" ] || want6="$want6
vdb reread $off_wb1 MVM-WROTE-VDB1-$tok
vdb reread $off_wb2 MVM-WROTE-VDB2-$tok"
got6=$(printf '%s\n' "$body" | sed -n 's/^MVM-VIRTIO blk \(vd. reread .*\)/\1/p')
if [ "$got6" = "$want6" ]; then
	point 6 0 "$got6"
else
	point 6 1 "want:" "$want6" "got:" "${got6:-nothing}" "$(printf '%s\n' "$body" | grep -E '^MVM-VIRTIO blk vd. (wrote|write)')"
fi

# 7: the raw image, byte for byte
if [ ! -f "$work/back/disk.img" ]; then
	point 7 1 "disk.img did not come back from the nested guest"
elif cmp -s "$work/back/disk.img" "$work/expect-vda.img"; then
	point 7 0 "disk.img == original + \"MVM-WROTE-VDA-$tok\" at $off_wa ($(stat -c %s "$work/back/disk.img") bytes)"
else
	point 7 1 "disk.img differs from the expected image (cmp -l, first 10 differing bytes: 1-based byte number, want, got, in octal):" \
		"$(cmp -l "$work/expect-vda.img" "$work/back/disk.img" 2>&1 | head -n 10)" \
		"size: want $size, got $(stat -c %s "$work/back/disk.img")"
fi

# 8: the qcow2 image
if [ -z "$qcow" ]; then
	skip_point 8 "$qcow_why"
elif [ ! -f "$work/back/disk.qcow2" ]; then
	point 8 1 "disk.qcow2 did not come back from the nested guest"
else
	qchk=$(qemu-img check "$work/back/disk.qcow2" 2>&1)
	qst=$?
	qemu-img convert -f qcow2 -O raw "$work/back/disk.qcow2" "$work/back/vdb.raw" 2>"$work/qconv.err"
	if [ $qst -eq 0 ] && cmp -s "$work/back/vdb.raw" "$work/expect-vdb.img"; then
		point 8 0 "$qchk" "contents == original + VDB1 at $off_wb1 + VDB2 at $off_wb2 ($(stat -c %s "$work/back/disk.qcow2") bytes of qcow2, was $(stat -c %s "$work/disk.qcow2"))"
	else
		point 8 1 "qemu-img check (status $qst):" "$qchk" "$(cat "$work/qconv.err")" \
			"cmp with the expected contents: $(cmp "$work/expect-vdb.img" "$work/back/vdb.raw" 2>&1 || true)" \
			"$(cmp -l "$work/expect-vdb.img" "$work/back/vdb.raw" 2>/dev/null | head -n 10)"
	fi
fi

# 9: hwrng
rcur=$(vt 'rng current=')
rb=$(vt 'rng bytes ')
r1=$(printf '%s\n' "$rb" | sed -n 1p)
r2=$(printf '%s\n' "$rb" | sed -n 2p)
if [[ $rcur == virtio_rng.* ]] && [[ $r1 =~ ^[0-9a-f]{64}$ ]] && [[ $r2 =~ ^[0-9a-f]{64}$ ]] &&
   [ "$r1" != "$r2" ] && [[ ! $r1 =~ ^0+$ ]]; then
	point 9 0 "rng_current=$rcur" "$r1" "$r2"
else
	point 9 1 "want rng_current=virtio_rng.N and two different 32-byte reads; got:" "current=${rcur:-none}" "${rb:-no bytes}"
fi

# 10: virtio-console.  /init wrote "MVM-HVC-OK <tok>" to /dev/hvc0 only.
# hvc0 became a kernel console (console=hvc0) when virtio_console was
# loaded, so the kernel printed the "MVM-KMSG-<tok>" that /init put in
# /dev/kmsg twice, on ttyS0 and on hvc0 (both end up on mvm's stdout).
nkmsg=$(printf '%s\n' "$body" | grep -c "MVM-KMSG-$tok\$")
if grep -q "^MVM-HVC-OK $tok\$" "$console" && has "printk: console [hvc0] enabled" &&
   [ "$nkmsg" = 2 ]; then
	point 10 0 "$(grep -m1 "MVM-HVC-OK $tok" "$console")" "$(line 'printk: console [hvc0] enabled')" \
		"MVM-KMSG-$tok printed twice (ttyS0 + hvc0); /proc/consoles: $(vt 'consoles ')"
else
	point 10 1 "want: 'MVM-HVC-OK $tok', 'printk: console [hvc0] enabled', MVM-KMSG-$tok twice (got $nkmsg)" \
		"$(vt 'hvc0 ')" "$(vt 'consoles ')" "$(printf '%s\n' "$body" | grep -iE 'hvc|virtio_console|MVM-HVC|MVM-KMSG' | head -n 8)"
fi

# 11: MSI-X. Every virtio function has MSI-X vectors only (msi_irqs/N
# reads "msix"); the virtio lines of /proc/interrupts are PCI-MSI edge
# interrupts; the virtio-blk request vectors fired.
msi=$(vt 'msi ')
irqs=$(vt 'irq ')
nfn=$(printf '%s\n' "$pci" | grep -c ' 0x1af4:')
nmsix=$(printf '%s\n' "$msi" | grep -cE '^[^ ]+( [0-9]+:msix)+$')
nonmsi=$(printf '%s\n' "$irqs" | grep -v 'PCI-MSI' || true)
# blk request vectors: "virtioN-req.0"; their counts are the CPU columns
fired=$(printf '%s\n' "$irqs" | awk '/req\./ { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break; if (s > 0) n++ } END { print n + 0 }')
if [ "$nfn" -gt 0 ] && [ "$nmsix" = "$nfn" ] && [ -n "$irqs" ] && [ -z "$nonmsi" ] && [ "$fired" -ge "$ndisks" ]; then
	point 11 0 "$msi" "$irqs"
else
	point 11 1 "want: all $nfn virtio functions MSI-X only, their /proc/interrupts lines PCI-MSI, request vectors of $ndisks disk(s) with count > 0 (got $fired)" \
		"${msi:-no msi lines}" "${irqs:-no virtio lines in /proc/interrupts}"
fi

# 12: health (kernel_health: the XSAVE warning of nested mode is tolerated)
kernel_health
ioerr=$(printf '%s\n' "$body" | grep -iE 'I/O error|blk_update_request|virtio.*(failed|failure|error|timeout|broken)|vd[ab].*(fail|error)|hwrng.*fail|DEVICE_NEEDS_RESET' | head -n 10)
if [ -z "$ran" ] && ! has "Linux version"; then
	point 12 1 "no kernel output to check"
elif [ -z "$bad" ] && [ -z "$unexpected" ] && [ -z "$ioerr" ]; then
	point 12 0
else
	point 12 1 ${bad:+"$bad"} ${unexpected:+"$unexpected"} ${ioerr:+"$ioerr"}
fi

# 13: finished and powered off
if [ "$status" = 0 ] && has "MVM-VIRTIO-OK $KREL" &&
   has "ACPI: PM: Preparing to enter system sleep state S5" && has "reboot: Power down"; then
	point 13 0 "mvm exit status 0; guest clock: /init at $(ktime 'Run /init as init process') s, power down at $(ktime 'reboot: Power down') s" "$(vt 'end ')"
else
	point 13 1 "mvm exit status: $status; MVM-VIRTIO-OK: $(has "MVM-VIRTIO-OK $KREL" && echo yes || echo no); S5: $(has 'reboot: Power down' && echo yes || echo no)" \
		"$(tail -n 5 "$console")"
fi

# ------------------------------------------------------------------ summary
boot_summary last-virtio-console.log 'virtio|vd[ab]|hvc|hwrng|MVM-'
