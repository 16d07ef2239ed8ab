// SPDX-License-Identifier: GPL-2.0
/*
 * The initramfs of host-root mode, generated in memory:
 *
 *   /init                 hostroot/init/mvm-init.c, static, embedded
 *   /dev /proc /sys /tmp /mnt /root   mount points
 *   /lib/modules/NN-NAME.ko[.xz|.zst|.gz]   in load order
 *   /mvm/config           what the init does, NUL-separated "key=value":
 *     mod=PATH            a module to load (in order)
 *     root=TAG            mount the host's / from virtio-fs TAG (ro) under
 *                         a tmpfs overlay; absent: stay in the initramfs
 *     mount=ro:TAG:PATH   a further virtio-fs share at PATH (or rw:)
 *     cwd=DIR             the host's working directory
 *     arg=WORD            the command's argv, in order; none: /bin/sh
 *     env=NAME=VALUE      the command's environment (the host's)
 *     interactive=1       stdin is a terminal: hvc0 stays a cooked tty,
 *                         mvm forwards its stdin to it
 *   /mvm/stdin            without a terminal and without a command: mvm's
 *                         stdin, read to its end, the shell's input
 *     verbose=1           the init says what it does
 *
 * The command line, argv and environment go in this file, not on the
 * kernel command line: no length limit, no quoting, nothing the kernel
 * would parse.
 */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "hostroot/hostroot.h"

#define BZ_HDR_VERSION		0x206	/* boot protocol version */
#define BZ_HDR_KERNEL_VERSION	0x20e	/* boot.rst: kernel_version */
#define BZ_HDR_MAGIC		0x202

extern char **environ;

/* Modules the init loads when the kernel has them as modules. */
static const char *const hostroot_default_mods[] = {
	"virtio_pci", "virtio_console", "virtiofs", "overlay", "pvpanic_pci",
};

/* The release at s (up to a space or NUL): 0, or -ENOENT unless it looks
 * like a Linux release (it starts with a digit: test guests say "mvm"). */
static int copy_release(const uint8_t *s, size_t avail, char *ver)
{
	size_t i;

	for (i = 0; i < avail && i < HOSTROOT_KVER_MAX - 1; i++) {
		char ch = (char)s[i];

		if (ch == ' ' || ch == '\0')
			break;
		if (ch < 0x21 || ch > 0x7e)
			return -ENOENT;
		ver[i] = ch;
	}
	ver[i] = '\0';
	return i && ver[0] >= '0' && ver[0] <= '9' ? 0 : -ENOENT;
}

int hostroot_kernel_version(const uint8_t *img, size_t len, char *ver)
{
	static const char banner[] = "Linux version ";
	const uint8_t *p;
	size_t off;

	if (len >= 0x210 && get_le32(img + BZ_HDR_MAGIC) == 0x53726448 &&
	    get_le16(img + BZ_HDR_VERSION) >= 0x0200) {
		off = get_le16(img + BZ_HDR_KERNEL_VERSION);
		if (!off || off + 0x200 >= len)
			return -ENOENT;
		return copy_release(img + off + 0x200, len - off - 0x200, ver);
	}
	/* An ELF vmlinux: linux_banner, "Linux version 6.1.0-... (" */
	p = memmem(img, len, banner, sizeof(banner) - 1);
	while (p) {
		p += sizeof(banner) - 1;
		if (!copy_release(p, len - (size_t)(p - img), ver))
			return 0;
		p = memmem(p, len - (size_t)(p - img), banner,
			   sizeof(banner) - 1);
	}
	return -ENOENT;
}

const char *hostroot_cmdline(const struct hostroot_config *cfg)
{
	/* quiet: no decompressor banner; loglevel=1: only KERN_EMERG, so a
	 * panic still shows (panic() raises the level). */
	return cfg->verbose ? "" : "quiet loglevel=1";
}

struct conf {
	char *buf;
	size_t len;
	FILE *f;
};

static void conf_put(struct conf *c, const char *key, const char *val)
{
	fprintf(c->f, "%s=%s", key, val);
	fputc('\0', c->f);
}

static int add_modules(const struct hostroot_config *cfg, const char *label,
		       const char *kver, struct cpio *cp, struct conf *conf)
{
	struct hostroot_modtree t;
	struct hostroot_modlist list = { 0 };
	char name[PATH_MAX];
	unsigned int i;
	int err;

	err = hostroot_modtree_open(&t, cfg->modules_dir, NULL, kver);
	if (err == -ENOENT && !cfg->modules_dir) {
		/* No tree: fine for a kernel with the drivers built in (the
		 * init says so if the kernel has none). */
		if (cfg->nr_modprobe) {
			pr_err("--modprobe '%s': kernel %s has no modules in /lib/modules/%s: pass --modules DIR (its modules_install tree or build tree)",
			       cfg->modprobe[0], kver, kver);
			return -ENOENT;
		}
		if (cfg->verbose)
			pr_info("%s: no /lib/modules/%s: the kernel must have virtio-pci, virtio-console, virtiofs and overlay built in",
				label, kver);
		return 0;
	}
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(hostroot_default_mods) && !err; i++) {
		err = hostroot_mod_resolve(&t, hostroot_default_mods[i], &list);
		if (err == -ENOENT)
			err = 0;	/* neither module nor built in: the
					 * init reports what it misses */
	}
	for (i = 0; i < cfg->nr_modprobe && !err; i++) {
		err = hostroot_mod_resolve(&t, cfg->modprobe[i], &list);
		if (err == -ENOENT)
			pr_err("--modprobe '%s': kernel %s has no such module in %s (modules.%s) nor built in: check the name (modinfo), or pass its tree with --modules",
			       cfg->modprobe[i], kver, t.base,
			       t.build_tree ? "order" : "dep");
	}
	for (i = 0; i < list.nr && !err; i++) {
		const char *base = strrchr(list.mods[i].path, '/');
		uint8_t *data;
		size_t len;

		base = base ? base + 1 : list.mods[i].path;
		err = read_file(list.mods[i].path, &data, &len);
		if (err) {
			pr_errno(-err, "%s: cannot read module",
				 list.mods[i].path);
			break;
		}
		snprintf(name, sizeof(name), "/lib/modules/%02u-%s", i, base);
		err = cpio_add_file(cp, name, 0644, data, len);
		free(data);
		conf_put(conf, "mod", name);
		if (cfg->verbose)
			pr_info("module %s: %s", list.mods[i].name,
				list.mods[i].path);
	}
	hostroot_modlist_free(&list);
	hostroot_modtree_close(&t);
	return err;
}

/* ---- test seam: MVM_HOSTROOT_TEST_ROOT=DIR copies DIR into the archive
 * (files, folders, symlinks), for runs without the host's / ---- */

static struct cpio *tree_cpio;
static const char *tree_base;

static int tree_add(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	const char *rel = path + strlen(tree_base);
	char target[PATH_MAX];
	uint8_t *data;
	size_t len;
	ssize_t n;
	int err;

	if (!*rel)
		return 0;
	switch (st->st_mode & S_IFMT) {
	case S_IFDIR:
		return cpio_add_dir(tree_cpio, rel, st->st_mode);
	case S_IFLNK:
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		return cpio_add_symlink(tree_cpio, rel, target);
	case S_IFREG:
		err = read_file(path, &data, &len);
		if (err)
			return err;
		err = cpio_add_file(tree_cpio, rel, st->st_mode, data, len);
		free(data);
		return err;
	}
	return 0;
}

static int add_tree(struct cpio *cp, const char *dir)
{
	int err;

	tree_cpio = cp;
	tree_base = dir;
	err = nftw(dir, tree_add, 16, FTW_PHYS);
	if (err)
		pr_errno(err < 0 ? -err : errno,
			 "MVM_HOSTROOT_TEST_ROOT '%s': cannot copy", dir);
	return err ? -EINVAL : 0;
}

/* The shell's script: mvm's stdin up to its end, as /mvm/stdin. */
static int add_stdin(const struct hostroot_config *cfg, const char *label,
		     struct cpio *cp)
{
	size_t len = 0, cap = 64 * KiB;
	uint8_t *buf = malloc(cap), *nb;
	ssize_t n;
	int err;

	while (buf) {
		if (len == cap) {
			if (cap >= HOSTROOT_STDIN_MAX) {
				free(buf);
				pr_err("stdin: more than %llu MiB for the guest's shell: pass a file in a shared folder instead (or give a command after '--')",
				       HOSTROOT_STDIN_MAX / MiB);
				return -EFBIG;
			}
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(cfg->stdin_fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			free(buf);
			pr_errno(-err, "stdin: cannot read the shell's input for %s",
				 label);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf)
		return -ENOMEM;
	err = cpio_add_file(cp, "/mvm/stdin", 0600, buf, len);
	free(buf);
	return err;
}

int hostroot_initramfs_build(const struct hostroot_config *cfg,
			     const uint8_t *kernel, size_t kernel_len,
			     const char *label, uint8_t **out, size_t *out_len)
{
	static const char *const dirs[] = {
		"/dev", "/proc", "/sys", "/tmp", "/mnt", "/root", "/mvm", "/lib",
		"/lib/modules",
	};
	const char *test_root = getenv("MVM_HOSTROOT_TEST_ROOT");
	struct conf conf = { 0 };
	char kver[HOSTROOT_KVER_MAX], cwd[PATH_MAX];
	struct cpio cp;
	unsigned int i;
	char **e;
	int err = 0;

	if (hostroot_kernel_version(kernel, kernel_len, kver)) {
		if (cfg->modules_dir || cfg->nr_modprobe) {
			pr_err("%s: no kernel version in the bzImage header: mvm cannot pick its modules (use -i with your own initramfs)",
			       label);
			return -EINVAL;
		}
		strcpy(kver, "unknown");
	}
	cpio_init(&cp);
	conf.f = open_memstream(&conf.buf, &conf.len);
	if (!conf.f)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		cpio_add_dir(&cp, dirs[i], 0755);
	cpio_add_file(&cp, "/init", 0755, hostroot_init_start,
		      (size_t)(hostroot_init_end - hostroot_init_start));
	err = add_modules(cfg, label, kver, &cp, &conf);
	if (!err && test_root)
		err = add_tree(&cp, test_root);
	if (err)
		goto out;
	if (cfg->root_tag && !test_root)
		conf_put(&conf, "root", cfg->root_tag);
	for (i = 0; i < cfg->nr_mounts; i++) {
		fprintf(conf.f, "mount=%s:%s:%s", cfg->mounts[i].ro ? "ro" : "rw",
			cfg->mounts[i].tag, cfg->mounts[i].path);
		fputc('\0', conf.f);
	}
	if (getcwd(cwd, sizeof(cwd)))
		conf_put(&conf, "cwd", cwd);
	for (i = 0; cfg->argv && i < (unsigned int)cfg->argc; i++)
		conf_put(&conf, "arg", cfg->argv[i]);
	for (e = environ; e && *e; e++)
		conf_put(&conf, "env", *e);
	if (cfg->interactive)
		conf_put(&conf, "interactive", "1");
	if (cfg->verbose)
		conf_put(&conf, "verbose", "1");
	if (fflush(conf.f)) {
		err = -ENOMEM;
		goto out;
	}
	cpio_add_file(&cp, "/mvm/config", 0644, conf.buf, conf.len);
	if (!cfg->interactive && !cfg->argv)
		err = add_stdin(cfg, label, &cp);
	if (err)
		goto out;
	err = cpio_finish(&cp);
	if (err)
		pr_errno(-err, "%s: cannot build the initramfs", label);
out:
	fclose(conf.f);
	free(conf.buf);
	if (err) {
		cpio_free(&cp);
		return err;
	}
	*out = cp.buf;
	*out_len = cp.len;
	return 0;
}
