#!/usr/bin/env bash
# Host decompression of a bzImage's payload, through the mvm binary: a
# payload that cannot be decompressed, or that is no vmlinux, is one line
# on stderr and status 1, printed while the kernel is loaded, before
# /dev/kvm is opened (so here too, with or without KVM).  The bzImage is a
# minimal protocol 2.15 header (boot.rst) around a gzip payload; every
# format, the fallbacks and where the kernel goes are
# tests/unit/test_bzimage_host.c's.
. "$(dirname "$0")/../lib/mvm.sh"

command -v perl >/dev/null && command -v gzip >/dev/null ||
	skip_all "needs perl and gzip"

# mkbz PAYLOAD OUT: setup_sects 4, relocatable, 64-bit, pref_address and
# init_size like a distro kernel's; the payload at 0x400 of the
# protected-mode part, described by payload_offset/payload_length.
mkbz() {
	perl -e '
		local $/;
		open my $f, "<", $ARGV[0] or die "$ARGV[0]: $!";
		my $pl = <$f>;
		my $pm = ("\0" x 0x400) . $pl;
		my $img = "\0" x (5 * 512);
		sub put { substr($img, $_[0], length($_[1])) = $_[1] }
		put(0x1f1, pack("C", 4));
		put(0x1f4, pack("V", int((length($pm) + 15) / 16)));
		put(0x1fe, pack("v", 0xaa55));
		put(0x200, pack("CC", 0xeb, 0x66));
		put(0x202, "HdrS");
		put(0x206, pack("v", 0x020f));
		put(0x211, pack("C", 1));
		put(0x22c, pack("V", 0x7fffffff));
		put(0x230, pack("V", 0x200000));
		put(0x234, pack("C", 1));
		put(0x236, pack("v", 3));
		put(0x238, pack("V", 2047));
		put(0x248, pack("VV", 0x400, length($pl)));
		put(0x258, pack("VV", 0x1000000, 0));
		put(0x260, pack("V", 0x3000000));
		open my $o, ">", $ARGV[1] or die "$ARGV[1]: $!";
		print $o $img, $pm;
	' "$1" "$2"
}

# A gzip payload of an ELF that is no vmlinux (mvm itself: ET_DYN).
head -c 200000 "$MVM" >"$TMP/elf"
gzip -n -9 <"$TMP/elf" >"$TMP/good.gz"
len=$(wc -c <"$TMP/good.gz")

mkbz "$TMP/good.gz" "$TMP/notvmlinux.bzImage"
expect_fail "decompressed payload is no vmlinux" 1 \
	"notvmlinux.bzImage \(gzip payload\): ELF type 3 is not an executable \(ET_EXEC\): not a vmlinux" \
	-- run -k "$TMP/notvmlinux.bzImage"

cp "$TMP/good.gz" "$TMP/corrupt.gz"
printf '\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377' |
	dd of="$TMP/corrupt.gz" bs=1 seek=$((len / 2)) conv=notrunc 2>/dev/null
mkbz "$TMP/corrupt.gz" "$TMP/corrupt.bzImage"
expect_fail "corrupt payload" 1 \
	"corrupt.bzImage: cannot decompress its gzip payload: " \
	-- run -k "$TMP/corrupt.bzImage"

{ head -c $((len / 2)) "$TMP/good.gz"; tail -c 4 "$TMP/good.gz"; } >"$TMP/cut.gz"
mkbz "$TMP/cut.gz" "$TMP/cut.bzImage"
expect_fail "truncated payload" 1 \
	"cut.bzImage: cannot decompress its gzip payload: the compressed stream ends early \(truncated\)" \
	-- run -k "$TMP/cut.bzImage"

# Without host decompression the loader takes the image as it is: the
# next error (if any) is no longer the payload's.
if have_kvm; then
	skip "--no-host-decompress: the loader does not look at the payload" \
		"/dev/kvm works here: the image would boot"
else
	"$MVM" run -k "$TMP/corrupt.bzImage" --no-host-decompress \
		</dev/null >/dev/null 2>"$TMP/err"
	! grep -q "payload" "$TMP/err"
	ok $? "--no-host-decompress: the loader does not look at the payload" \
		"$(cat "$TMP/err")"
fi

done_testing
