# in-guest.sh - the boot tests' payload inside the nested-KVM harness
# (tests/nested/run-in-kvm.sh; busybox sh, cwd /payload).
#
# Usage: sh boot/in-guest.sh DIR MEM_MIB CPUS TIMEOUT PARAMS [MVM_ARG...] [-- FILE...]
#
# DIR holds the static mvm, vmlinuz and initramfs.cpio.gz (and whatever
# the MVM_ARGs name, e.g. disk images: paths are relative to DIR).  mvm's
# stdout (the guest's serial console) streams to our stdout between two
# marker lines, its stderr to our stderr:
#   @@mvm-start <L1 uptime>
#   ...console...
#   @@mvm-status <exit status> <L1 uptime>
# Then each FILE after "--" (a disk image the guest wrote, say) is sent
# back, gzip'd and base64-encoded, as
#   @@file <name> <size in bytes> <md5>
#   ...base64 lines...
#   @@end
# since the harness copies files into the guest but none out.
cd "$1" || exit 125
mem=$2 cpus=$3 limit=$4 params=$5
shift 5
n=0
for a in "$@"; do [ "$a" = -- ] && break; n=$((n + 1)); done
i=0
for a in "$@"; do	# "$@" becomes the mvm arguments, $files the rest
	[ $i -eq 0 ] && set --
	if [ $i -lt $n ]; then set -- "$@" "$a"; elif [ $i -gt $n ]; then files="${files:-} $a"; fi
	i=$((i + 1))
done
[ $i -eq 0 ] && set --
echo "@@mvm-start $(cut -d' ' -f1 /proc/uptime)"
timeout "$limit" ./mvm run -k vmlinuz -i initramfs.cpio.gz -m "$mem" -c "$cpus" \
	-p "$params" "$@" </dev/null
st=$?
echo
echo "@@mvm-status $st $(cut -d' ' -f1 /proc/uptime)"
for f in ${files:-}; do
	echo "@@file $f $(stat -c %s "$f") $(md5sum "$f" | cut -d' ' -f1)"
	gzip -c "$f" | base64
	echo "@@end"
done
exit 0
