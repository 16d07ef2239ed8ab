#!/usr/bin/env bash
# virtio-fs boot test: the Debian cloud kernel of boot-test.t with an
# initramfs whose /init (tests/boot/init-share) loads virtio_pci and
# virtiofs and mounts two --share devices of the same host directory:
#
#   mvm run -k vmlinuz -i initramfs -m 512 -c 2 \
#           --share DIR,tag=fsrw --share DIR,tag=fsro,ro [--virtiofsd W]
#
# DIR holds data.bin (1 MiB of random bytes) and written.txt (a
# placeholder).  The guest prints data.bin's md5 through both shares,
# writes "MVM-FS-WROTE-<tok>" to written.txt through the writable one and
# tries to create a file through the read-only one.  The host checks the
# md5s against its own, and written.txt as mvm left it.
#
# In nested mode (no /dev/kvm here) the static mvm runs in the harness,
# DIR is its payload directory, and QEMU 7.2's virtiofsd is carried in
# with its shared libraries and started through their ld.so by a small
# wrapper (W), with "-o sandbox=chroot": the harness's root is the
# initramfs, where the default sandbox's pivot_root(2) is refused.
#
# Environment: as boot-virtio.t, plus MVM_VIRTIOFSD (the virtiofsd to
# carry in; default: the one mvm would find).
set -u
. "$(dirname "$0")/lib.sh"

NAMES=(
	"virtio_pci, virtiofs and their dependencies load"
	"the virtio-fs functions (1af4:105a) bound to virtio-pci and virtiofs"
	"a file read through the share matches the host's md5 (rw and ro share)"
	"a file written through the writable share is on the host, byte-exact"
	"the read-only share refuses writes"
	"virtio-fs interrupts are MSI-X and fire"
	"no kernel BUG/Oops/unexpected WARNING; mvm's stderr has no error"
	"/init finished (MVM-FS-OK), mvm exits 0, virtiofsd stopped and its runtime dir gone"
	"a virtiofsd killed mid-run: one mvm line names it and the signal; the guest's reads then fail with EIO; the other shares go on"
)
boot_begin boot-share
boot_mode

vfsd_find

boot_prepare share
tok=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
mkdir -p "$work/bt"
head -c 1048576 /dev/urandom >"$work/data.bin"
md5=$(md5sum <"$work/data.bin" | cut -d' ' -f1)
echo placeholder >"$work/written.txt"
args=()
die_tag=
if [ "$mode" = nested ]; then
	# The payload directory is the share; virtiofsd comes with its
	# libraries and runs through their ld.so.
	cp "$work/data.bin" "$work/bt/"
	# The share of the directory "dies" is killed (SIGKILL) 2 s after
	# the guest has written dies/killme through it.
	vfsd_carry "$work/bt/vfsd" 'case "$*" in
*source=*/dies*) ( while [ ! -s dies/killme ]; do sleep 0.2; done; sleep 2; kill -9 $$ ) & ;;
esac'
	args+=(--virtiofsd ./vfsd/virtiofsd.sh --share ./dies,tag=fsdie)
	mkdir -p "$work/bt/dies"
	die_tag=fsdie
else
	echo "# virtiofsd: found by mvm (host has $vfsd)"
fi
args+=(--share ".,tag=fsrw" --share ".,tag=fsro,ro")
params="fs_tok=$tok fs_rw=fsrw fs_ro=fsro fs_file=data.bin fs_out=written.txt${die_tag:+ fs_die=$die_tag}"
boot_run MVM-FS-OK "$params" "${args[@]}" -- written.txt

fs() { printf '%s\n' "$body" | sed -n "s/^MVM-FS $1//p"; }
ran=$(fs 'start ')

# 1: modules
if [ -z "$ran" ]; then
	point 1 1 "/init never printed 'MVM-FS start'; console's last lines:" "$(tail -n 25 "$console")"
else
	badm=
	for m in $VMODS; do [ "$(fs "mod $m ")" = ok ] || badm="$badm $m"; done
	if [ -z "$badm" ]; then point 1 0 "loaded: $VMODS"; else point 1 1 "failed:$badm" "$(fs 'mod ')"; fi
fi

# 2: PCI functions
pci=$(fs 'pci ')
vdev=$(fs 'vdev ')
nfs=$(printf '%s\n' "$pci" | grep -c ' 0x1af4:0x105a driver=virtio-pci$')
nvd=$(printf '%s\n' "$vdev" | grep -c ' id=0x001a driver=virtiofs$')
nwant=2
[ -z "$die_tag" ] || nwant=3
if [ "$nfs" = $nwant ] && [ "$nvd" = $nwant ]; then
	point 2 0 "$pci" "$vdev"
else
	point 2 1 "want $nwant x 1af4:105a on virtio-pci and $nwant virtio devices id 0x001a on virtiofs; got:" "${pci:-no pci lines}" "${vdev:-no virtio devices}"
fi

# 3: reads
rw_md5=$(fs 'rw md5 ')
ro_md5=$(fs 'ro md5 ')
if [ "$rw_md5" = "$md5" ] && [ "$ro_md5" = "$md5" ]; then
	point 3 0 "data.bin md5 $md5 (host) = $rw_md5 (fsrw) = $ro_md5 (fsro); size $(fs 'rw size ')"
else
	point 3 1 "host md5 $md5; fsrw: ${rw_md5:-none}; fsro: ${ro_md5:-none}" "$(fs 'mount ')"
fi

# 4: the write, on the host
want="MVM-FS-WROTE-$tok"
if [ -f "$work/back/written.txt" ] && [ "$(cat "$work/back/written.txt")" = "$want" ]; then
	point 4 0 "written.txt on the host: $want" "guest: $(fs 'rw write ') / reread $(fs 'rw reread ')"
else
	point 4 1 "want written.txt = $want on the host; got: $(cat "$work/back/written.txt" 2>/dev/null || echo '(missing)')" \
		"guest: $(fs 'rw write ') / reread $(fs 'rw reread ')"
fi

# 5: ro
row=$(fs 'ro write ')
if [[ $row == refused* ]] && [[ $row == *"Read-only file system"* ]]; then
	point 5 0 "$row"
else
	point 5 1 "want the write refused with 'Read-only file system'; got: ${row:-nothing}" "$(fs 'mount ro')"
fi

# 6: MSI-X interrupts of virtio-fs (the request queue's vector fired)
irq=$(fs 'irq ')
fired=$(printf '%s\n' "$irq" | tr '|' '\n' | awk '/PCI-MSI/ && /request/ { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break; if (s > 0) n++ } END { print n + 0 }')
if [ "$fired" -ge 1 ]; then
	point 6 0 "$(printf '%s\n' "$irq" | tr '|' '\n' | grep -i request)"
else
	point 6 1 "no PCI-MSI request vector of virtio-fs fired" "${irq:-no virtio lines in /proc/interrupts}"
fi

# 7: health
kernel_health
# QEMU 7.2's virtiofsd logs "fv_remove_watch: TODO! fd=N" (a warning of
# its own: libvhost-user's remove_watch is unimplemented there) each time
# a ring stops, i.e. when the guest resets the device at power-off.
known_vfsd='^virtiofsd\[fs(rw|ro)\]: fv_remove_watch: TODO! fd=[0-9]+$'
die_line='^mvm: virtiofsd\[fsdie\] \(pid [0-9]+\) died: killed by signal 9 \(Killed\); the guest.s new requests on share .fsdie. fail with EIO'
errs=$(grep -vE "$known_vfsd|$die_line" "$errlog" | grep -E '^mvm: |virtiofsd\[' | head -n 10 || true)
if [ -z "$ran" ] && ! has "Linux version"; then
	point 7 1 "no kernel output to check"
elif [ -z "$bad" ] && [ -z "$unexpected" ] && [ -z "$errs" ]; then
	point 7 0
else
	point 7 1 ${bad:+"$bad"} ${unexpected:+"$unexpected"} ${errs:+"mvm's stderr: $errs"}
fi

# 8: end
left=
[ "$mode" = direct ] && left=$(ls -d "${XDG_RUNTIME_DIR:-/tmp}"/mvm-virtiofsd.* 2>/dev/null | head -n 3 || true)
if [ "$status" = 0 ] && has "MVM-FS-OK $KREL" && [ -z "$left" ]; then
	point 8 0 "mvm exit status 0"
else
	point 8 1 "mvm exit status: $status; MVM-FS-OK: $(has "MVM-FS-OK $KREL" && echo yes || echo no)" ${left:+"left behind: $left"} "$(tail -n 5 "$console")"
fi

# 9: the virtiofsd killed mid-run (nested mode: its wrapper kills it)
if [ -z "$die_tag" ]; then
	skip_point 9 "direct mode: no wrapper to kill virtiofsd (nested mode only)"
else
	nd=$(grep -cE "$die_line" "$errlog")
	dr=$(fs 'die read after ')
	dl=$(fs 'die ls: ')
	if [ "$nd" = 1 ] && [ "$(fs 'die killme ')" = written ] &&
	   [[ $dr == *"Input/output error"* ]] && [[ $dl == *"Input/output error"* ]] && [ "$rw_md5" = "$md5" ] &&
	   [ "$status" = 0 ] && has "MVM-FS-OK $KREL"; then
		point 9 0 "$(grep -E "$die_line" "$errlog")" "guest: cat after $dr" "guest: ls: $dl" \
			"then fsrw read and write fine, power-off normal"
	else
		point 9 1 "want one line matching '$die_line' (got $nd), the guest's cat and ls failing with 'Input/output error', then the rest of the run as usual" \
			"$(grep -E 'fsdie' "$errlog" | head -n 5)" "$(fs 'mount die')" "$(fs 'die ')"
	fi
fi

boot_summary last-share-console.log 'virtio|fuse|MVM-'
