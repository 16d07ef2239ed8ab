// SPDX-License-Identifier: GPL-2.0
/*
 * Host-root mode's host side (hostroot/): the kernel release from a
 * bzImage header or an ELF vmlinux banner; module trees (installed with
 * modules.dep, a kernel build tree with modules.order and .modinfo, a
 * /lib/modules/VER folder itself), built-in modules, dependency order,
 * '-'/'_' names, compressed files; each bad --modules a one-line error.
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

static char tmp[] = "/tmp/mvm-mods-XXXXXX";

static void put(const char *rel, const void *data, size_t len)
{
	char path[512], *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	for (p = path + strlen(tmp) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		tap_diag("cannot write %s", path);
	close(fd);
}

static void puts_file(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

/* A .ko whose .modinfo says depends=DEPS. */
static void put_ko(const char *rel, const char *deps)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "\x7f" "ELF junk%clicense=GPL%cdepends=%s%cvermagic=6.1%c",
			 0, 0, deps, 0, 0);

	put(rel, buf, (size_t)n);
}

/* The names of a resolved list, space-separated. */
static const char *names(const struct hostroot_modlist *l)
{
	static char buf[512];
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < l->nr; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, l->mods[i].name);
	}
	return buf;
}

static void test_version(void)
{
	struct fake_bzimage_opts o;
	char ver[HOSTROOT_KVER_MAX];
	static const char rel[] = "6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP";
	uint8_t *img, *elf;
	size_t len;

	fake_bzimage_defaults(&o);
	img = fake_bzimage_build(&o, &len);
	memcpy(img + 0x400, rel, sizeof(rel));
	put_le16(img + 0x20e, 0x400 - 0x200);
	is_int(hostroot_kernel_version(img, len, ver), 0, "bzImage release found");
	is_str(ver, "6.1.0-57-cloud-amd64", "release up to the first space");
	memcpy(img + 0x400, "mvm test guest", 15);
	is_int(hostroot_kernel_version(img, len, ver), -ENOENT,
	       "mkbzimage's \"mvm test guest\" is not a Linux release");
	put_le16(img + 0x20e, 0);
	is_int(hostroot_kernel_version(img, len, ver), -ENOENT,
	       "kernel_version 0: none");
	put_le16(img + 0x20e, 0xff00);
	is_int(hostroot_kernel_version(img, len, ver), -ENOENT,
	       "kernel_version past the file: none");
	free(img);

	elf = calloc(1, 8192);
	memcpy(elf, "\x7f" "ELF", 4);
	memcpy(elf + 100, "Linux version %s", 16);	/* the format, skipped */
	memcpy(elf + 5000, "Linux version 6.12.9-foo (gcc) #1", 33);
	is_int(hostroot_kernel_version(elf, 8192, ver), 0,
	       "ELF vmlinux: release from the banner");
	is_str(ver, "6.12.9-foo", "...the banner's first release-like word");
	is_int(hostroot_kernel_version(elf, 4000, ver), -ENOENT,
	       "no banner: none");
	free(elf);
}

static void test_installed(void)
{
	struct hostroot_modtree t;
	struct hostroot_modlist l = { 0 };
	char dir[256];
	const char *msg;
	int err;

	/* DIR/lib/modules/VER as modules_install makes it. */
	puts_file("inst/lib/modules/6.1.0-x/modules.dep",
		  "kernel/drivers/virtio/virtio_ring.ko:\n"
		  "kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
		  "kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko.zst\n"
		  "kernel/drivers/virtio/virtio_pci_modern_dev.ko.zst:\n"
		  "kernel/drivers/misc/pvpanic/pvpanic-pci.ko: kernel/drivers/misc/pvpanic/pvpanic.ko\n"
		  "kernel/drivers/misc/pvpanic/pvpanic.ko:\n"
		  "kernel/net/broken.ko: kernel/net/missing.ko\n");
	puts_file("inst/lib/modules/6.1.0-x/modules.builtin",
		  "kernel/fs/overlayfs/overlay.ko\nkernel/fs/fuse/virtiofs.ko\n");
	puts_file("inst/lib/modules/6.1.0-x/kernel/drivers/virtio/virtio_ring.ko", "r");
	puts_file("inst/lib/modules/6.1.0-x/kernel/drivers/virtio/virtio.ko", "v");
	puts_file("inst/lib/modules/6.1.0-x/kernel/drivers/virtio/virtio_pci.ko.xz", "x");
	puts_file("inst/lib/modules/6.1.0-x/kernel/drivers/virtio/virtio_pci_modern_dev.ko.zst", "z");
	puts_file("inst/lib/modules/6.1.0-x/kernel/drivers/misc/pvpanic/pvpanic-pci.ko", "p");
	puts_file("inst/lib/modules/6.1.0-x/kernel/drivers/misc/pvpanic/pvpanic.ko", "q");

	snprintf(dir, sizeof(dir), "%s/inst", tmp);
	is_int(hostroot_modtree_open(&t, dir, NULL, "6.1.0-x"), 0,
	       "installed tree: DIR/lib/modules/VER/modules.dep");
	ok(!t.build_tree, "...not a build tree");
	ok(hostroot_mod_builtin(&t, "overlay") &&
	   hostroot_mod_builtin(&t, "virtiofs"), "built-in modules known");
	ok(!hostroot_mod_builtin(&t, "virtio"), "a module is not built in");
	is_int(hostroot_mod_resolve(&t, "virtio_pci", &l), 0, "resolve virtio_pci");
	is_str(names(&l), "virtio_ring virtio virtio_pci_modern_dev virtio_pci",
	       "dependencies first, each once");
	ok(l.nr == 4 && strstr(l.mods[3].path, "/virtio_pci.ko.xz") &&
	   strstr(l.mods[2].path, ".ko.zst"), "compressed files listed as they are");
	is_int(hostroot_mod_resolve(&t, "virtio", &l), 0, "resolve one already in");
	is_int(l.nr, 4, "...adds nothing");
	is_int(hostroot_mod_resolve(&t, "overlay", &l), 0, "built in: resolves");
	is_int(l.nr, 4, "...to nothing to load");
	is_int(hostroot_mod_resolve(&t, "pvpanic-pci", &l), 0,
	       "'-' and '_' are the same");
	is_str(names(&l), "virtio_ring virtio virtio_pci_modern_dev virtio_pci pvpanic pvpanic_pci",
	       "...pvpanic before pvpanic_pci");
	msg = CAPTURED(err = hostroot_mod_resolve(&t, "nosuch", &l));
	is_int(err, -ENOENT, "unknown module: -ENOENT");
	is_str(msg, "", "...printed nothing (the caller says why it matters)");
	msg = CAPTURED(err = hostroot_mod_resolve(&t, "broken", &l));
	is_int(err, -EINVAL, "a dependency the tree lacks: refused");
	ok(one_error_line(msg, "missing"), "...in one line naming the module");
	hostroot_modlist_free(&l);
	hostroot_modtree_close(&t);

	/* The /lib/modules/VER folder itself. */
	snprintf(dir, sizeof(dir), "%s/inst/lib/modules/6.1.0-x", tmp);
	is_int(hostroot_modtree_open(&t, dir, NULL, "6.1.0-x"), 0,
	       "a /lib/modules/VER folder itself");
	hostroot_modtree_close(&t);
	/* The default place, under a test root. */
	snprintf(dir, sizeof(dir), "%s/inst", tmp);
	is_int(hostroot_modtree_open(&t, NULL, dir, "6.1.0-x"), 0,
	       "default /lib/modules/VER");
	hostroot_modtree_close(&t);
	msg = CAPTURED(err = hostroot_modtree_open(&t, NULL, dir, "9.9.9"));
	is_int(err, -ENOENT, "default place, no such version: -ENOENT");
	is_str(msg, "", "...quietly (a kernel may need no modules)");
}

static void test_bad_trees(void)
{
	struct hostroot_modtree t;
	char dir[256];
	const char *msg;
	int err;

	snprintf(dir, sizeof(dir), "%s/inst", tmp);
	msg = CAPTURED(err = hostroot_modtree_open(&t, dir, NULL, "5.10.0-y"));
	is_int(err, -ENOENT, "tree of another version refused");
	ok(one_error_line(msg, "has no modules for kernel 5.10.0-y"),
	   "...in one line naming the version");
	snprintf(dir, sizeof(dir), "%s/empty", tmp);
	mkdir(dir, 0755);
	msg = CAPTURED(err = hostroot_modtree_open(&t, dir, NULL, "6.1.0-x"));
	is_int(err, -ENOENT, "a folder that is no modules tree refused");
	ok(one_error_line(msg, "not a modules tree"), "...in one line saying so");
	ok(strstr(msg, "modules_install") != NULL, "...and naming the fix");
	snprintf(dir, sizeof(dir), "%s/inst/lib/modules/6.1.0-x/modules.dep", tmp);
	msg = CAPTURED(err = hostroot_modtree_open(&t, dir, NULL, "6.1.0-x"));
	is_int(err, -ENOTDIR, "a file refused");
	ok(one_error_line(msg, "not a folder"), "...in one line");
}

static void test_build_tree(void)
{
	struct hostroot_modtree t;
	struct hostroot_modlist l = { 0 };
	char dir[256];

	puts_file("build/modules.order",
		  "drivers/virtio/virtio_ring.ko\ndrivers/virtio/virtio.ko\n"
		  "fs/fuse/fuse.ko\nfs/fuse/virtiofs.ko\ndrivers/virtio/virtio-mmio.o\n");
	puts_file("build/modules.builtin", "kernel/fs/overlayfs/overlay.ko\n");
	put_ko("build/drivers/virtio/virtio_ring.ko", "");
	put_ko("build/drivers/virtio/virtio.ko", "virtio_ring");
	put_ko("build/fs/fuse/fuse.ko", "");
	put_ko("build/fs/fuse/virtiofs.ko", "fuse,virtio,virtio_ring");
	put_ko("build/drivers/virtio/virtio-mmio.ko", "virtio");
	snprintf(dir, sizeof(dir), "%s/build", tmp);
	is_int(hostroot_modtree_open(&t, dir, NULL, "6.13.0-rc1+"), 0,
	       "kernel build tree (modules.order)");
	ok(t.build_tree, "...known as one");
	is_int(hostroot_mod_resolve(&t, "virtiofs", &l), 0, "resolve virtiofs");
	is_str(names(&l), "fuse virtio_ring virtio virtiofs",
	       "dependencies from .modinfo depends=, first");
	is_int(hostroot_mod_resolve(&t, "virtio_mmio", &l), 0,
	       "an old modules.order '.o' entry");
	ok(l.nr == 5 && strstr(l.mods[4].path, "virtio-mmio.ko"),
	   "...is its .ko");
	ok(hostroot_mod_builtin(&t, "overlay"), "build tree's built-ins");
	hostroot_modlist_free(&l);
	hostroot_modtree_close(&t);
}

int main(void)
{
	if (!mkdtemp(tmp))
		tap_skip_all("no temporary folder");
	test_version();
	test_installed();
	test_bad_trees();
	test_build_tree();
	if (test_sh("rm -rf %s", tmp))
		tap_diag("cannot remove %s", tmp);
	return tap_done();
}
