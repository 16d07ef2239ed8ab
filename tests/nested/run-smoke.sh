#!/usr/bin/env bash
# Build tests/nested/kvm_smoke.c statically and run it in the nested-KVM guest.
# Exit status is kvm_smoke's (0 = /dev/kvm works: real mode, irqchip/PIT, irqfd, 2 vCPUs,
# long mode), or 124/125 if the harness itself failed. Extra args go to kvm_smoke
# (LOOPS EXITS, defaults 10000000 10000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -Wall -Wextra -static -pthread -o "$tmp/kvm_smoke" "$here/kvm_smoke.c"
"$here/run-in-kvm.sh" --timeout "${MVM_NESTED_TIMEOUT:-300}" "$tmp/kvm_smoke" -- ./kvm_smoke "$@"
