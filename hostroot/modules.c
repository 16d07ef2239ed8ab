// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel modules host-root mode puts into its initramfs: where a
 * kernel's modules are, which are built in, and what each depends on.
 *
 * Two kinds of tree:
 * - installed (`make modules_install INSTALL_MOD_PATH=DIR` makes
 *   DIR/lib/modules/KVER/, as does a distribution's package after depmod):
 *   modules.dep lists "PATH: DEP_PATH ..." for every module;
 * - a kernel build tree (the folder `make` ran in): modules.order lists
 *   each module's object path, and each .ko names its dependencies in its
 *   .modinfo section ("depends=a,b"), which is what depmod reads too.
 * Both have modules.builtin ("kernel/PATH/NAME.ko" per built-in module).
 *
 * Module names compare with '-' and '_' the same, as modprobe does.
 * Compressed modules (.ko.xz, .ko.zst, .ko.gz) are listed as they are:
 * the init hands them to finit_module() with MODULE_INIT_COMPRESSED_FILE
 * and the kernel decompresses them (CONFIG_MODULE_DECOMPRESS, which
 * kernels that install compressed modules have); so mvm needs no
 * decompression library.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "hostroot/hostroot.h"

static const char *const mod_suffixes[] = { ".ko", ".ko.xz", ".ko.zst",
					    ".ko.gz", ".o" };

/* snprintf into a PATH_MAX buffer; a path that does not fit is "". */
static void __printf(2, 3) pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		buf[0] = '\0';
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A text file as a NUL-terminated string; "" when absent and optional. */
static int read_text(const char *path, bool optional, char **out)
{
	uint8_t *buf, *nb;
	size_t len;
	int err = read_file(path, &buf, &len);

	if (err == -ENOENT && optional) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	if (err)
		return err;
	nb = realloc(buf, len + 1);
	if (!nb) {
		free(buf);
		return -ENOMEM;
	}
	nb[len] = '\0';
	*out = (char *)nb;
	return 0;
}

/* NAME of ".../NAME.ko[.xz]" (or NAME.o) into name[NAME_MAX + 1],
 * normalized; false when the path has no module suffix. */
static bool mod_name_of(const char *path, size_t len, char *name)
{
	const char *base = path, *p;
	size_t i, n, sl;

	for (p = path; p < path + len; p++)
		if (*p == '/')
			base = p + 1;
	n = (size_t)(path + len - base);
	for (i = 0; i < ARRAY_SIZE(mod_suffixes); i++) {
		sl = strlen(mod_suffixes[i]);
		if (n > sl && !memcmp(base + n - sl, mod_suffixes[i], sl))
			break;
	}
	if (i == ARRAY_SIZE(mod_suffixes) || n - sl > NAME_MAX)
		return false;
	for (n -= sl, i = 0; i < n; i++)
		name[i] = base[i] == '-' ? '_' : base[i];
	name[n] = '\0';
	return true;
}

static void mod_normalize(const char *in, char *name)
{
	size_t i;

	for (i = 0; in[i] && i < NAME_MAX; i++)
		name[i] = in[i] == '-' ? '_' : in[i];
	name[i] = '\0';
}

int hostroot_modtree_open(struct hostroot_modtree *t, const char *dir,
			  const char *root, const char *kver)
{
	char path[PATH_MAX], base[PATH_MAX];
	int err;

	memset(t, 0, sizeof(*t));
	if (!dir) {
		pathf(base, "%s/lib/modules/%s",
			 root ? root : "", kver);
		pathf(path, "%s/modules.dep", base);
		if (!is_file(path))
			return -ENOENT;
	} else if (!is_dir(dir)) {
		pr_err("--modules '%s': not a folder: pass a `make modules_install INSTALL_MOD_PATH=` folder, a kernel build tree or a /lib/modules/VERSION folder",
		       dir);
		return -ENOTDIR;
	} else {
		pathf(base, "%s/lib/modules/%s", dir, kver);
		pathf(path, "%s/modules.dep", base);
		if (!is_file(path)) {
			pathf(base, "%s", dir);
			pathf(path, "%s/modules.dep", base);
		}
		if (!is_file(path)) {
			pathf(path, "%s/modules.order", base);
			t->build_tree = is_file(path);
		}
		if (!is_file(path)) {
			pathf(path, "%s/lib/modules", dir);
			if (is_dir(path))
				pr_err("--modules '%s': has no modules for kernel %s (no lib/modules/%s/modules.dep): pass the tree that kernel's modules_install made",
				       dir, kver, kver);
			else
				pr_err("--modules '%s': not a modules tree (no lib/modules/%s/modules.dep, modules.dep or modules.order): pass a `make modules_install INSTALL_MOD_PATH=` folder or a kernel build tree",
				       dir, kver);
			return -ENOENT;
		}
	}
	t->base = strdup(base);
	if (!t->base)
		return -ENOMEM;
	err = read_text(path, false, &t->dep);
	if (!err) {
		pathf(path, "%s/modules.builtin", base);
		err = read_text(path, true, &t->builtin);
	}
	if (err) {
		pr_errno(-err, "%s: cannot read the module list", path);
		hostroot_modtree_close(t);
	}
	return err;
}

void hostroot_modtree_close(struct hostroot_modtree *t)
{
	free(t->base);
	free(t->dep);
	free(t->builtin);
	memset(t, 0, sizeof(*t));
}

/* The next line of a text: *end is its '\n' or the final NUL. */
static const char *next_line(const char *p, const char **end)
{
	*end = strchrnul(p, '\n');
	return p;
}

#define for_each_line(p, end, text) \
	for (p = next_line(text, &end); *p; \
	     p = next_line(*end ? end + 1 : end, &end))

bool hostroot_mod_builtin(const struct hostroot_modtree *t, const char *name)
{
	char want[NAME_MAX + 1], got[NAME_MAX + 1];
	const char *p, *end;

	mod_normalize(name, want);
	for_each_line(p, end, t->builtin)
		if (mod_name_of(p, (size_t)(end - p), got) &&
		    !strcmp(got, want))
			return true;
	return false;
}

/* The line of `want` in modules.dep/modules.order, NULL if none; *plen
 * its path's length. */
static const char *mod_find(const struct hostroot_modtree *t,
			    const char *want, size_t *plen)
{
	char got[NAME_MAX + 1];
	const char *p, *end, *colon;

	for_each_line(p, end, t->dep) {
		colon = memchr(p, ':', (size_t)(end - p));
		*plen = (size_t)((colon ? colon : end) - p);
		if (mod_name_of(p, *plen, got) && !strcmp(got, want))
			return p;
	}
	return NULL;
}

static bool in_list(const struct hostroot_modlist *l, const char *name)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->mods[i].name, name))
			return true;
	return false;
}

static int list_add(struct hostroot_modlist *l, const char *name,
		    const char *path)
{
	struct hostroot_module *nm;

	if (l->nr == l->cap) {
		nm = realloc(l->mods, (l->cap ? l->cap * 2 : 16) * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		l->mods = nm;
		l->cap = l->cap ? l->cap * 2 : 16;
	}
	nm = &l->mods[l->nr];
	nm->name = strdup(name);
	nm->path = strdup(path);
	if (!nm->name || !nm->path) {
		free(nm->name);
		free(nm->path);
		return -ENOMEM;
	}
	l->nr++;
	return 0;
}

/* A build tree's "depends=" of the .ko at path, as a malloc()ed string. */
static int modinfo_depends(const char *path, char **out)
{
	static const char key[] = "depends=";
	uint8_t *buf;
	size_t len, i;
	int err = read_file(path, &buf, &len);

	if (err)
		return err;
	*out = NULL;
	for (i = 0; i + sizeof(key) <= len; i++) {
		if ((i == 0 || buf[i - 1] == '\0') &&
		    !memcmp(buf + i, key, sizeof(key) - 1)) {
			*out = strndup((char *)buf + i + sizeof(key) - 1,
				       len - i - sizeof(key) + 1);
			break;
		}
	}
	free(buf);
	if (!*out)
		*out = strdup("");
	return *out ? 0 : -ENOMEM;
}

static int mod_resolve(const struct hostroot_modtree *t, const char *name,
		       struct hostroot_modlist *list, unsigned int depth);

/* A dependency of module `want` (file `path`): one the tree lacks is an
 * error here, where its name is known. */
static int mod_dep(const struct hostroot_modtree *t, const char *path,
		   const char *want, const char *dep,
		   struct hostroot_modlist *list, unsigned int depth)
{
	int err = mod_resolve(t, dep, list, depth + 1);

	if (err == -ENOENT) {
		pr_err("%s: module %s depends on %s, which the tree does not have (run depmod?)",
		       path, want, dep);
		return -EINVAL;
	}
	return err;
}

static int mod_resolve(const struct hostroot_modtree *t, const char *name,
		       struct hostroot_modlist *list, unsigned int depth)
{
	char want[NAME_MAX + 1], path[PATH_MAX], rel[PATH_MAX];
	char *deps = NULL, *d, *save;
	const char *line;
	size_t plen;
	int err = 0;

	mod_normalize(name, want);
	if (in_list(list, want) || hostroot_mod_builtin(t, want))
		return 0;
	if (depth > 64)
		return -ELOOP;
	line = mod_find(t, want, &plen);
	if (!line)
		return -ENOENT;
	pathf(rel, "%.*s", (int)plen, line);
	if (t->build_tree && plen > 2 && !strcmp(rel + plen - 2, ".o"))
		strcpy(rel + plen - 2, ".ko");	/* old modules.order */
	pathf(path, "%s/%s", t->base, rel);
	if (t->build_tree) {
		err = modinfo_depends(path, &deps);
		if (err) {
			pr_errno(-err, "%s: cannot read module %s", path, want);
			return err;
		}
		for (d = strtok_r(deps, ",", &save); d && !err;
		     d = strtok_r(NULL, ",", &save))
			err = mod_dep(t, path, want, d, list, depth);
	} else {
		const char *p = line + plen + 1, *end = strchrnul(line, '\n');
		char dname[NAME_MAX + 1];

		/* modules.dep: "PATH: DEP..." with paths; each dep's own
		 * line gives its dependencies. */
		while (p < end && !err) {
			const char *w;

			while (p < end && *p == ' ')
				p++;
			w = p;
			while (p < end && *p != ' ')
				p++;
			if (p > w && mod_name_of(w, (size_t)(p - w), dname))
				err = mod_dep(t, path, want, dname, list,
					      depth);
		}
	}
	free(deps);
	if (err)
		return err;
	if (!is_file(path)) {
		pr_err("%s: listed for module %s but missing", path, want);
		return -EINVAL;
	}
	return list_add(list, want, path);
}

int hostroot_mod_resolve(const struct hostroot_modtree *t, const char *name,
			 struct hostroot_modlist *list)
{
	return mod_resolve(t, name, list, 0);
}

void hostroot_modlist_free(struct hostroot_modlist *list)
{
	unsigned int i;

	for (i = 0; i < list->nr; i++) {
		free(list->mods[i].name);
		free(list->mods[i].path);
	}
	free(list->mods);
	memset(list, 0, sizeof(*list));
}
