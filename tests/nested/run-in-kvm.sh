#!/usr/bin/env bash
# run-in-kvm.sh - run host-built static binaries inside a Linux guest that has a real /dev/kvm.
#
# This machine (and CI) has no /dev/kvm. We boot a Debian kernel under QEMU with TCG (pure
# software emulation) on a CPU model exposing AMD SVM + NPT, load kvm_amd in that guest, and
# run the payload there. See tests/nested/README.md.
#
# Usage:
#   tests/nested/run-in-kvm.sh [options] [FILE_OR_DIR...] -- COMMAND [ARGS...]
#
# Options:
#   --timeout SECS   wall-clock limit for the whole run, boot included (default 600)
#   --cpus N         guest vCPUs (default 2)
#   --mem SIZE       guest RAM, QEMU syntax (default 2G)
#   --keep           keep the work dir (console log, initramfs) and print its path
#   --serial-tcp PORT  give the guest a fourth serial port, /dev/ttyS3 (raw mode), wired to
#                    a TCP server QEMU listens on at 127.0.0.1:PORT on this host (a byte
#                    pipe into the guest, e.g. for gdb; see tests/nested/gdb-session.t)
#   -v, --verbose    print harness progress and the guest console log to stderr
#   -h, --help
#
# FILE_OR_DIR arguments are copied into the guest's /payload (a directory is copied as
# /payload/<basename>, like `cp -r`). COMMAND runs with cwd /payload; it is looked up in PATH
# (busybox applets), so run payload binaries as ./name. Payload binaries must be STATIC: the
# guest has busybox and nothing else (no libc, no dynamic loader).
#
# The payload's stdout goes to this script's stdout and its stderr to this script's stderr
# (each over its own serial port, so kernel messages never mix in). The script exits with
# the payload's exit status; if the harness itself fails (boot failure, no /dev/kvm, timeout,
# missing tools) it prints one line "run-in-kvm: ..." to stderr and exits 124 (timeout) or
# 125 (other harness failure).
#
# Environment:
#   MVM_NESTED_CACHE       cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested)
#   MVM_NESTED_KERNEL_PKG  Debian kernel package to use (default: what linux-image-cloud-amd64
#                          depends on, "-unsigned" variant)
#   MVM_NESTED_REFRESH     if set, re-resolve the kernel package via apt (else a cached one is used)
#   MVM_NESTED_CPU         QEMU -cpu value (default "max": has svm, npt, vgif under TCG)
#   MVM_NESTED_NO_INSTALL  if set, never run apt-get install for missing host tools
#   MVM_NESTED_TCG_THREAD  QEMU's TCG threading: "multi" (default, fast) or "single" (slow
#                          for SMP Linux; the stale-int3 stall that MTTCG shows when the L1
#                          kernel patches its code was not seen with it: tests/nested/README.md)
#   MVM_NESTED_NO_HOLD     if set, do not start kvm-hold (the idle VM that keeps L1's KVM
#                          static keys from flipping; see kvm-hold.c)
#   MVM_NESTED_MONITOR     if set, a QEMU HMP monitor listens on this UNIX socket path
#                          (to look at a stalled run: `info registers -a`, `info cpus`)
set -euo pipefail

prog=run-in-kvm
die() { # die CODE MESSAGE
    local code=$1
    shift
    echo "$prog: $*" >&2
    exit "$code"
}
log() { [[ $verbose == 1 ]] && echo "$prog: $*" >&2 || true; }

timeout_s=600
cpus=2
mem=2G
keep=0
verbose=0
serial_tcp=
files=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --timeout) timeout_s=${2:?--timeout needs a value}; shift 2 ;;
    --timeout=*) timeout_s=${1#*=}; shift ;;
    --cpus) cpus=${2:?}; shift 2 ;;
    --cpus=*) cpus=${1#*=}; shift ;;
    --mem) mem=${2:?}; shift 2 ;;
    --mem=*) mem=${1#*=}; shift ;;
    --keep) keep=1; shift ;;
    --serial-tcp) serial_tcp=${2:?--serial-tcp needs a port}; shift 2 ;;
    -v | --verbose) verbose=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    --) shift; break ;;
    *) files+=("$1"); shift ;;
    esac
done
[[ $# -gt 0 ]] || die 125 "no COMMAND given (usage: $0 [--timeout SECS] FILES... -- COMMAND ARGS)"
[[ $timeout_s =~ ^[0-9]+$ && $timeout_s -gt 0 ]] || die 125 "bad --timeout '$timeout_s'"
[[ -z $serial_tcp || $serial_tcp =~ ^[0-9]+$ ]] || die 125 "bad --serial-tcp '$serial_tcp'"
tcg_thread=${MVM_NESTED_TCG_THREAD:-multi}
[[ $tcg_thread == multi || $tcg_thread == single ]] ||
    die 125 "bad MVM_NESTED_TCG_THREAD '$tcg_thread' (multi or single)"
mon=${MVM_NESTED_MONITOR:-}
# A comma would split QEMU's -monitor option; the socket's folder must exist.
[[ -z $mon || ( $mon != *,* && -d $(dirname "$mon") ) ]] ||
    die 125 "bad MVM_NESTED_MONITOR '$mon' (a socket path without commas, in an existing folder)"
for f in "${files[@]}"; do
    [[ -e $f ]] || die 125 "no such file or directory: $f"
done

cache=${MVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested}
mkdir -p "$cache"
start_ts=$(date +%s.%N)

# ---------------------------------------------------------------- host tools
need_install=()
command -v qemu-system-x86_64 >/dev/null || need_install+=(qemu-system-x86)
# The guest has no libc, so busybox must be the static build (busybox-static package).
if [[ ! -x /bin/busybox ]] ||
    [[ $(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null) != "install ok installed" ]]; then
    need_install+=(busybox-static)
fi
command -v cpio >/dev/null || need_install+=(cpio)
command -v gzip >/dev/null || need_install+=(gzip)
if [[ ${#need_install[@]} -gt 0 ]]; then
    if [[ -z ${MVM_NESTED_NO_INSTALL:-} && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing ${need_install[*]}"
        (apt-get install -y -q --no-install-recommends "${need_install[@]}" ||
            { apt-get update -q && apt-get install -y -q --no-install-recommends "${need_install[@]}"; }) \
            >"$cache/apt-install.log" 2>&1 ||
            die 125 "apt-get install ${need_install[*]} failed (see $cache/apt-install.log)"
    else
        die 125 "missing host packages: ${need_install[*]} (apt-get install ${need_install[*]})"
    fi
fi
busybox=/bin/busybox

# ---------------------------------------------------------------- kernel + kvm modules (cached)
# Layout: $cache/<pkg>_<version>/{vmlinuz,base.cpio.gz}; $cache/current -> that dir name.
# A cached kernel is reused without asking apt (apt-cache costs ~1 s per call) unless
# MVM_NESTED_REFRESH=1 or MVM_NESTED_KERNEL_PKG names a different package.
kdir=
kpkg=${MVM_NESTED_KERNEL_PKG:-}
kver=
if [[ -z ${MVM_NESTED_REFRESH:-} && -f $cache/current ]]; then
    cur=$(cat "$cache/current")
    if [[ -f $cache/$cur/base.cpio.gz && -f $cache/$cur/vmlinuz && ( -z $kpkg || ${cur%%_*} == "$kpkg" ) ]]; then
        kdir=$cache/$cur
    fi
fi
if [[ -z $kdir ]]; then
    if [[ -z $kpkg ]]; then
        meta=$(apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null |
            sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\).*/\1/p' | head -n1) || true
        [[ -z $meta ]] || kpkg=$meta-unsigned
    fi
    if [[ -n $kpkg ]]; then
        kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | awk '/^Version:/ {print $2; exit}') || true
        if [[ -z $kver && -n ${meta:-} ]]; then # no -unsigned variant: the signed one works too
            kpkg=$meta
            kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | awk '/^Version:/ {print $2; exit}') || true
        fi
    fi
    if [[ -n $kver && -f $cache/${kpkg}_$kver/base.cpio.gz ]]; then
        kdir=$cache/${kpkg}_$kver
    fi
fi
if [[ -z $kdir ]]; then
    if [[ -z $kver ]]; then
        # Lists may be missing entirely (fresh container): try one update.
        if [[ $(id -u) == 0 && -z ${_MVM_NESTED_UPDATED:-} ]]; then
            log "apt-get update (no kernel package found in apt lists)"
            apt-get update -q >"$cache/apt-update.log" 2>&1 || true
            _MVM_NESTED_UPDATED=1 exec "$0" --timeout "$timeout_s" --cpus "$cpus" --mem "$mem" \
                $([[ $keep == 1 ]] && echo --keep) $([[ $verbose == 1 ]] && echo -v) \
                ${serial_tcp:+--serial-tcp "$serial_tcp"} \
                "${files[@]}" -- "$@"
        fi
        die 125 "cannot find a Debian kernel package (${kpkg:-linux-image-*-cloud-amd64}); run apt-get update or set MVM_NESTED_KERNEL_PKG"
    fi
    log "fetching $kpkg $kver into $cache"
    tmpk=$(mktemp -d "$cache/.fetch.XXXXXX")
    trap 'rm -rf "$tmpk"' EXIT
    (cd "$tmpk" && apt-get download "$kpkg=$kver") >"$tmpk/download.log" 2>&1 ||
        die 125 "apt-get download $kpkg=$kver failed: $(tail -n1 "$tmpk/download.log")"
    dpkg-deb -x "$tmpk"/*.deb "$tmpk/x" || die 125 "dpkg-deb -x failed for $kpkg"
    vmlinuz=$(ls "$tmpk"/x/boot/vmlinuz-* 2>/dev/null | head -n1)
    [[ -n $vmlinuz ]] || die 125 "$kpkg contains no /boot/vmlinuz-*"
    # Base initramfs: busybox + kvm modules (dependency order irqbypass -> kvm -> kvm-amd).
    root=$tmpk/root
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,payload,mvm/modules}
    cp "$busybox" "$root/bin/busybox"
    for m in irqbypass kvm kvm-amd; do
        ko=$(find "$tmpk/x/lib/modules" -name "$m.ko*" | head -n1)
        [[ -n $ko ]] || die 125 "$kpkg has no $m.ko (CONFIG_KVM_AMD=m expected)"
        case $ko in
        *.ko) cp "$ko" "$root/mvm/modules/$m.ko" ;;
        *.ko.xz) xz -dc "$ko" >"$root/mvm/modules/$m.ko" ;;
        *.ko.zst) zstd -qdc "$ko" >"$root/mvm/modules/$m.ko" ;;
        *.ko.gz) gzip -dc "$ko" >"$root/mvm/modules/$m.ko" ;;
        *) die 125 "unknown module format: $ko" ;;
        esac
    done
    kname=${kpkg}_$kver
    mkdir -p "$tmpk/out"
    cp "$vmlinuz" "$tmpk/out/vmlinuz"
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$tmpk/out/base.cpio.gz"
    rm -rf "${cache:?}/$kname"
    mv "$tmpk/out" "$cache/$kname"
    echo "$kname" >"$cache/current"
    rm -rf "$tmpk"
    trap - EXIT
    kdir=$cache/$kname
    log "cached kernel in $kdir"
fi
echo "$(basename "$kdir")" >"$cache/current"

# ---------------------------------------------------------------- kvm-hold (cached by source hash)
# A static helper the guest's init starts before the payload (kvm-hold.c says why).  Without
# gcc the run goes on without it.
hold_bin=
hold_src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kvm-hold.c
if [[ -n ${MVM_NESTED_NO_HOLD:-} ]]; then
    :
elif [[ ! -f $hold_src ]]; then
    echo "$prog: warning: $hold_src is missing; running without kvm-hold" >&2
else
    hold_bin=$cache/kvm-hold-$(sha256sum "$hold_src" | cut -c1-16)
    if [[ ! -x $hold_bin ]]; then
        # Each run builds into its own file: concurrent runs never see a
        # half-written binary, and the last rename wins.
        tmp_hold=$(mktemp "$cache/.kvm-hold.XXXXXX")
        if gcc -std=gnu11 -Wall -Wextra -Werror -static -O2 -o "$tmp_hold" "$hold_src" \
            >"$tmp_hold.log" 2>&1; then
            mv -f "$tmp_hold" "$hold_bin"
            rm -f "$tmp_hold.log"
        else
            mv -f "$tmp_hold.log" "$cache/kvm-hold.log"
            rm -f "$tmp_hold"
            echo "$prog: warning: cannot build kvm-hold (see $cache/kvm-hold.log); running without it" >&2
            hold_bin=
        fi
    fi
fi

# ---------------------------------------------------------------- per-run payload initramfs
work=$(mktemp -d "${TMPDIR:-/tmp}/mvm-nested.XXXXXX")
qpid=
cleanup() {
    [[ -n $qpid ]] && kill "$qpid" 2>/dev/null || true
    [[ -n ${tail_out:-} ]] && kill "$tail_out" 2>/dev/null || true
    [[ -n ${tail_err:-} ]] && kill "$tail_err" 2>/dev/null || true
    if [[ $keep == 1 ]]; then echo "$prog: work dir kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
mkdir -p "$work/root/payload" "$work/root/mvm"
[[ -z $hold_bin ]] || cp "$hold_bin" "$work/root/mvm/kvm-hold"
# /init lives in the per-run archive (not the cached base) so edits here take effect at once.
cat >"$work/root/init" <<'INIT'
#!/bin/busybox sh
# mvm nested-KVM harness init. Console (ttyS0): harness markers + kernel log.
# ttyS1: payload stdout. ttyS2: payload stderr.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/payload TERM=dumb
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
ifconfig lo 127.0.0.1 up 2>/dev/null
echo "MVM_NESTED_BOOTED $(cut -d' ' -f1 /proc/uptime)"
fin() { echo "MVM_NESTED_EXIT=$1"; sync; poweroff -f; sleep 10; }
for m in irqbypass kvm kvm-amd; do
    insmod /mvm/modules/$m.ko 2>/dev/null ||
        { echo "MVM_NESTED_FAIL insmod $m.ko failed: $(dmesg | tail -n 1 | cut -c16-)"; fin 125; }
done
i=0
while [ ! -c /dev/kvm ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
if [ ! -c /dev/kvm ]; then
    echo "MVM_NESTED_FAIL /dev/kvm did not appear after loading kvm_amd: $(dmesg | grep -iE 'kvm|svm' | tail -n 3 | tr '\n' ' ')"
    fin 125
fi
chmod 666 /dev/kvm
if [ -x /mvm/kvm-hold ]; then
    /mvm/kvm-hold >/tmp/kvm-hold.log 2>&1 &
    i=0
    while ! grep -q holding /tmp/kvm-hold.log && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    grep -q holding /tmp/kvm-hold.log || echo "MVM_NESTED_WARN kvm-hold: $(cat /tmp/kvm-hold.log)"
fi
echo "MVM_NESTED_KVM_READY $(cut -d' ' -f1 /proc/uptime)"
for t in /dev/ttyS1 /dev/ttyS2 /dev/ttyS3; do stty -F $t raw -echo 2>/dev/null; done
[ -f /mvm/cmd ] || { echo "MVM_NESTED_FAIL no payload command in initramfs"; fin 125; }
. /mvm/cmd
cd /payload
"$@" </dev/null >/dev/ttyS1 2>/dev/ttyS2
rc=$?
echo "MVM_NESTED_PAYLOAD_DONE $(cut -d' ' -f1 /proc/uptime)"
fin $rc
INIT
chmod 755 "$work/root/init"
for f in "${files[@]}"; do
    cp -a -- "$f" "$work/root/payload/" || die 125 "copying $f failed"
done
{
    printf 'set --'
    for a in "$@"; do
        printf " '%s'" "${a//\'/\'\\\'\'}"
    done
    printf '\n'
} >"$work/root/mvm/cmd"
(cd "$work/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
    gzip -1 >"$work/payload.cpio.gz"
cat "$kdir/base.cpio.gz" "$work/payload.cpio.gz" >"$work/initrd.gz"

# ---------------------------------------------------------------- boot
: >"$work/console.log"
: >"$work/stdout"
: >"$work/stderr"
cpu=${MVM_NESTED_CPU:-max}
log "booting: qemu-system-x86_64 -accel tcg -cpu $cpu -smp $cpus -m $mem"
# `timeout` is only a safety net in case this script is SIGKILLed; the loop below enforces
# --timeout itself.
timeout -k 5 $((timeout_s + 10)) qemu-system-x86_64 \
    -accel tcg,thread="$tcg_thread" -cpu "$cpu" -smp "$cpus" -m "$mem" \
    -nodefaults -no-user-config -display none -no-reboot -nic none \
    -kernel "$kdir/vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic 8250.nr_uarts=4 tsc=reliable" \
    -chardev file,id=con,path="$work/console.log" -serial chardev:con \
    -chardev file,id=out,path="$work/stdout" -serial chardev:out \
    -chardev file,id=err,path="$work/stderr" -serial chardev:err \
    ${serial_tcp:+-chardev socket,id=aux,host=127.0.0.1,port=$serial_tcp,server=on,wait=off} \
    ${serial_tcp:+-serial chardev:aux} \
    ${mon:+-monitor "unix:$mon,server=on,wait=off"} \
    </dev/null >"$work/qemu.log" 2>&1 &
qpid=$!
# Stream payload output as it arrives.
tail -s 0.1 -n +1 -f --pid="$qpid" "$work/stdout" &
tail_out=$!
tail -s 0.1 -n +1 -f --pid="$qpid" "$work/stderr" >&2 &
tail_err=$!

deadline=$(($(date +%s) + timeout_s))
timed_out=0
while kill -0 "$qpid" 2>/dev/null; do
    if [[ $(date +%s) -ge $deadline ]]; then
        timed_out=1
        kill "$qpid" 2>/dev/null || true
        break
    fi
    sleep 0.2
done
wait "$qpid" 2>/dev/null && qrc=0 || qrc=$?
qpid=
wait "$tail_out" 2>/dev/null || true
wait "$tail_err" 2>/dev/null || true
tail_out= tail_err=

if [[ $verbose == 1 ]]; then
    echo "----- guest console -----" >&2
    cat "$work/console.log" >&2
    echo "-------------------------" >&2
fi
con=$(tr -d '\r' <"$work/console.log")
boot_t=$(sed -n 's/^MVM_NESTED_BOOTED //p' <<<"$con" | head -n1)
ready_t=$(sed -n 's/^MVM_NESTED_KVM_READY //p' <<<"$con" | head -n1)
done_t=$(sed -n 's/^MVM_NESTED_PAYLOAD_DONE //p' <<<"$con" | head -n1)
end_ts=$(date +%s.%N)
log "guest uptime at init: ${boot_t:-?} s, /dev/kvm ready: ${ready_t:-?} s, payload done: ${done_t:-?} s; host wall: $(awk "BEGIN{printf \"%.1f\", $end_ts - $start_ts}") s"

# The guest's warnings (kvm-hold could not start) go to our stderr.
sed -n 's/^MVM_NESTED_WARN /'"$prog"': warning: /p' <<<"$con" >&2
rc=$(sed -n 's/^MVM_NESTED_EXIT=\([0-9]*\)$/\1/p' <<<"$con" | tail -n1)
if [[ -n $rc ]]; then
    fail=$(sed -n 's/^MVM_NESTED_FAIL //p' <<<"$con" | head -n1)
    [[ -z $fail ]] || die 125 "$fail"
    exit "$rc"
fi
# Something went wrong; keep the console log for diagnosis.
cp "$work/console.log" "$cache/last-console.log" 2>/dev/null || true
if [[ $timed_out == 1 ]]; then
    if [[ -z $ready_t ]]; then
        die 124 "timed out after ${timeout_s}s before /dev/kvm was ready (console: $cache/last-console.log)"
    fi
    die 124 "timed out after ${timeout_s}s; payload still running (console: $cache/last-console.log)"
fi
why=$(grep -m1 -E 'Kernel panic|BUG:|Oops' <<<"$con" || true)
[[ -n $why ]] || why=$(grep -v '^\s*$' "$work/qemu.log" | tail -n1 || true)
die 125 "guest stopped without reporting an exit status (qemu rc=$qrc)${why:+: $why} (console: $cache/last-console.log)"
