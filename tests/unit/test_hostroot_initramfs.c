// SPDX-License-Identifier: GPL-2.0
/*
 * The generated initramfs of host-root mode (hostroot/initramfs.c),
 * unpacked with GNU cpio: /init is the embedded init, the modules are in
 * load order, /mvm/config carries argv, cwd and environment as
 * NUL-separated entries, the shell's piped script is /mvm/stdin, and the
 * kernel command line part is quiet unless --verbose.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "lib/sh.h"
#include "lib/capture.h"
#include "lib/fake_bzimage.h"
#include "core/util.h"
#include "hostroot/hostroot.h"

static char tmp[] = "/tmp/mvm-initramfs-XXXXXX";

static char *slurp(const char *rel, size_t *len)
{
	char path[512];
	uint8_t *buf;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	if (read_file(path, &buf, len))
		return NULL;
	buf = realloc(buf, *len + 1);
	buf[*len] = 0;
	return (char *)buf;
}

/* Whether the NUL-separated config holds entry `want`. */
static bool has_entry(const char *conf, size_t len, const char *want)
{
	size_t i;

	for (i = 0; i < len; i += strlen(conf + i) + 1)
		if (!strcmp(conf + i, want))
			return true;
	return false;
}

/* Position of entry `want`, or -1. */
static long entry_pos(const char *conf, size_t len, const char *want)
{
	size_t i;

	for (i = 0; i < len; i += strlen(conf + i) + 1)
		if (!strcmp(conf + i, want))
			return (long)i;
	return -1;
}

static void unpack(const uint8_t *buf, size_t len, const char *dir)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.cpio", tmp, dir);
	f = fopen(path, "wb");
	if (f) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
	ok(!test_sh("mkdir -p %s/%s && cd %s/%s && cpio -i -d --quiet <../%s.cpio",
	       tmp, dir, tmp, dir, dir), "%s: GNU cpio unpacks it", dir);
}

int main(void)
{
	static char *argv[] = { "sh", "-c", "printf '%s\\n' \"$1\"", "x y\nz",
				NULL };
	struct hostroot_config hc = { 0 };
	struct fake_bzimage_opts o;
	char dir[512], cwd[512], want[600];
	uint8_t *img, *out;
	size_t ilen, olen, len;
	char *s, *conf;
	const char *msg;
	int err, fd;

	if (system("cpio --version >/dev/null 2>&1"))
		tap_skip_all("no cpio (Debian package cpio)");
	if (!mkdtemp(tmp))
		tap_skip_all("no temporary folder");
	fake_bzimage_defaults(&o);
	img = fake_bzimage_build(&o, &ilen);
	memcpy(img + 0x400, "6.1.0-t #1", 11);
	put_le16(img + 0x20e, 0x200);

	/* A tree with virtio_pci (and its dependency) and a --modprobe. */
	snprintf(dir, sizeof(dir),
		 "mkdir -p %s/m/lib/modules/6.1.0-t/kernel && cd %s/m/lib/modules/6.1.0-t && "
		 "printf 'kernel/virtio.ko:\\nkernel/virtio_pci.ko: kernel/virtio.ko\\nkernel/my-drv.ko.xz: kernel/virtio.ko\\n' >modules.dep && "
		 "printf 'kernel/fs/overlayfs/overlay.ko\\n' >modules.builtin && "
		 "printf V >kernel/virtio.ko && printf P >kernel/virtio_pci.ko && printf X >kernel/my-drv.ko.xz",
		 tmp, tmp);
	ok(!test_sh("%s", dir), "fake modules tree");
	snprintf(dir, sizeof(dir), "%s/m", tmp);
	hc.modules_dir = dir;
	hc.modprobe[hc.nr_modprobe++] = "my_drv";
	hc.argv = argv;
	hc.argc = 4;
	hc.root_tag = HOSTROOT_ROOT_TAG;
	setenv("MVM_TEST_ENV", "a=b c", 1);
	msg = CAPTURED(err = hostroot_initramfs_build(&hc, img, ilen, "k",
						       &out, &olen));
	is_int(err, 0, "command mode: built");
	is_str(msg, "", "...quietly");
	if (!err) {
		unpack(out, olen, "a");
		free(out);
	}
	s = slurp("a/init", &len);
	ok(s && len == (size_t)(hostroot_init_end - hostroot_init_start) &&
	   !memcmp(s, hostroot_init_start, len), "/init is the embedded init");
	free(s);
	s = slurp("a/lib/modules/00-virtio.ko", &len);
	is_str(s, "V", "module 00 is virtio (a dependency first)");
	free(s);
	s = slurp("a/lib/modules/01-virtio_pci.ko", &len);
	is_str(s, "P", "module 01 is virtio_pci");
	free(s);
	s = slurp("a/lib/modules/02-my-drv.ko.xz", &len);
	is_str(s, "X", "--modprobe my_drv: the compressed file as it is");
	free(s);
	conf = slurp("a/mvm/config", &len);
	ok(conf != NULL, "/mvm/config present");
	if (!conf)
		conf = strdup("");
	ok(has_entry(conf, len, "mod=/lib/modules/00-virtio.ko") &&
	   entry_pos(conf, len, "mod=/lib/modules/00-virtio.ko") <
	   entry_pos(conf, len, "mod=/lib/modules/02-my-drv.ko.xz"),
	   "mod= entries in load order");
	ok(has_entry(conf, len, "root=" HOSTROOT_ROOT_TAG), "root= the share tag");
	ok(has_entry(conf, len, "arg=sh") &&
	   has_entry(conf, len, "arg=x y\nz") &&
	   entry_pos(conf, len, "arg=sh") < entry_pos(conf, len, "arg=-c"),
	   "argv whole and in order (spaces, newlines)");
	snprintf(want, sizeof(want), "cwd=%s", getcwd(cwd, sizeof(cwd)));
	ok(has_entry(conf, len, want), "cwd= the host's working directory");
	ok(has_entry(conf, len, "env=MVM_TEST_ENV=a=b c"), "env= the environment");
	ok(!has_entry(conf, len, "interactive=1") &&
	   !has_entry(conf, len, "verbose=1"), "no interactive/verbose flags");
	free(conf);
	s = slurp("a/mvm/stdin", &len);
	ok(!s, "a command gets no /mvm/stdin");
	free(s);
	is_str(hostroot_cmdline(&hc), "quiet loglevel=1", "kernel quiet by default");
	hc.verbose = true;
	is_str(hostroot_cmdline(&hc), "", "--verbose: nothing added");

	/* The shell without a terminal: stdin becomes /mvm/stdin. */
	snprintf(dir, sizeof(dir), "%s/script", tmp);
	fd = open(dir, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, "echo hi\nexit 3\n", 15) == 15, "script file");
	lseek(fd, 0, SEEK_SET);
	hc.stdin_fd = fd;
	hc.argv = NULL;
	hc.argc = 0;
	hc.nr_modprobe = 0;
	hc.modules_dir = NULL;	/* /lib/modules/6.1.0-t: surely absent */
	msg = CAPTURED(err = hostroot_initramfs_build(&hc, img, ilen, "k",
						       &out, &olen));
	is_int(err, 0, "shell mode: built (no modules tree)");
	if (!err) {
		unpack(out, olen, "b");
		free(out);
	}
	close(fd);
	s = slurp("b/mvm/stdin", &len);
	is_str(s, "echo hi\nexit 3\n", "/mvm/stdin is the piped script");
	free(s);
	conf = slurp("b/mvm/config", &len);
	ok(conf && !memmem(conf, len, "arg=", 4) && !memmem(conf, len, "mod=", 4),
	   "no argv, no modules");
	ok(conf && has_entry(conf, len, "verbose=1"), "verbose=1");
	free(conf);

	/* Refusals. */
	hc.modprobe[hc.nr_modprobe++] = "x";
	msg = CAPTURED(err = hostroot_initramfs_build(&hc, img, ilen, "k",
						       &out, &olen));
	ok(err < 0 && one_error_line(msg, "--modprobe 'x': kernel 6.1.0-t has no modules in /lib/modules/6.1.0-t"),
	   "--modprobe without modules: one line");
	memcpy(img + 0x400, "mvm test guest", 15);
	msg = CAPTURED(err = hostroot_initramfs_build(&hc, img, ilen, "k",
						       &out, &olen));
	ok(err < 0 && one_error_line(msg, "no kernel version"),
	   "no release but modules asked for: one line");

	free(img);
	test_sh("rm -rf %s", tmp);
	return tap_done();
}
