# in-guest.sh - the boot test's payload inside the nested-KVM harness
# (tests/nested/run-in-kvm.sh; busybox sh, cwd /payload).
#
# Usage: sh boot/in-guest.sh DIR MEM_MIB CPUS TIMEOUT PARAMS
#
# DIR holds the static mvm, vmlinuz and initramfs.cpio.gz.  mvm's stdout
# (the guest's serial console) streams to our stdout between two marker
# lines, its stderr to our stderr:
#   @@mvm-start <L1 uptime>
#   ...console...
#   @@mvm-status <exit status> <L1 uptime>
cd "$1" || exit 125
mem=$2 cpus=$3 limit=$4 params=$5
echo "@@mvm-start $(cut -d' ' -f1 /proc/uptime)"
timeout "$limit" ./mvm run -k vmlinuz -i initramfs.cpio.gz -m "$mem" -c "$cpus" \
	-p "$params" </dev/null
st=$?
echo
echo "@@mvm-status $st $(cut -d' ' -f1 /proc/uptime)"
exit 0
