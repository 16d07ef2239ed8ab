#!/usr/bin/env bash
# The layering rules of docs/architecture.md, checked on the source tree:
# which folders each folder's files may include, that devices and the
# terminal hold no struct vm, that core/ parses no passthrough spec, and
# that the vfio/ files call each other without a circle (from the
# symbols of the built objects).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
cd "$top" || exit 1
. tests/lib/tap.sh
check() {	# check DESCRIPTION OUTPUT: passes when OUTPUT is empty
	[ -z "$2" ]
	ok $? "$1" "$2"
}

# folder: the folders its .c files and include/<folder>/ headers may use.
rules='core:core x86 debug
x86:x86 core hw
hw:hw core x86
pci:pci core x86 debug
virtio:virtio core pci block debug
block:block core
vfio:vfio core pci x86 debug
debug:debug core x86
hostroot:hostroot core'
while IFS=: read -r dir allowed; do
	bad=$(grep -rn '^#include "[a-z0-9_]*/' "$dir" "include/$dir" |
	      while IFS= read -r line; do
		used=$(printf '%s\n' "$line" |
		       sed 's/.*#include "\([a-z0-9_]*\)\/.*/\1/')
		case " $allowed " in
		*" $used "*) ;;
		*) printf '%s\n' "$line" ;;
		esac
	      done)
	check "$dir/ includes only: $allowed" "$bad"
done <<EOF
$rules
EOF

check "no hw/ device or the terminal holds a struct vm" \
	"$(grep -n 'struct vm\b' hw/*.c include/hw/*.h core/term.c \
		include/core/term.h)"
check "core/ parses no 'sim:' passthrough spec" "$(grep -rn 'sim:' core/)"

# vfio/: an edge A -> B when A.o uses a function B.o defines; no cycle.
objs=$(ls "$build"/vfio/*.o 2>/dev/null)
if [ -z "$objs" ]; then
	skip "vfio/ call graph" "no vfio objects in $build (make first)"
else
	cycle=$(for o in $objs; do
			f=$(basename "$o" .o)
			nm "$o" | awk -v f="$f" '$2 == "T" { print "D", f, $3 }
						 $1 == "U" { print "U", f, $2 }'
		done | perl -e '
			my (%def, %use, %edge);
			while (<>) {
				my ($k, $f, $s) = split;
				if ($k eq "D") { $def{$s} = $f } else { push @{$use{$f}}, $s }
			}
			for my $f (keys %use) {
				for my $s (@{$use{$f}}) {
					my $g = $def{$s};
					$edge{$f}{$g} = 1 if defined $g && $g ne $f;
				}
			}
			my %state;	# 1: on the path, 2: done
			sub visit {
				my ($f, @path) = @_;
				return if ($state{$f} // 0) == 2;
				if (($state{$f} // 0) == 1) {
					print join(" -> ", @path, $f), "\n";
					exit 0;
				}
				$state{$f} = 1;
				visit($_, @path, $f) for sort keys %{$edge{$f}};
				$state{$f} = 2;
			}
			visit($_) for sort keys %edge;')
	check "vfio/ files call each other without a circle" "$cycle"
fi
done_testing
