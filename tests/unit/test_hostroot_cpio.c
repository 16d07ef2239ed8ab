// SPDX-License-Identifier: GPL-2.0
/*
 * The newc writer of host-root mode (hostroot/cpio.c), checked against
 * GNU cpio (Debian's `cpio` package): `cpio -t` lists what was written,
 * `cpio -i` unpacks it byte-exact (file contents, modes, symlinks), and
 * the header bytes are as buffer-format.rst says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "lib/sh.h"
#include "hostroot/cpio.h"

static char tmp[] = "/tmp/mvm-cpio-XXXXXX";

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	*len = (size_t)n;
	fclose(f);
	return buf;
}

static void check_header(const struct cpio *c)
{
	char field[9] = { 0 };

	ok(c->len % 4 == 0, "archive length %zu is a multiple of 4", c->len);
	ok(!memcmp(c->buf, "070701", 6), "first entry has the newc magic");
	memcpy(field, c->buf + 6 + 8 * 11, 8);	/* namesize */
	is_int(strtoul(field, NULL, 16), 4, "namesize of 'dev' counts its NUL");
	memcpy(field, c->buf + 6 + 8 * 1, 8);	/* mode */
	is_int(strtoul(field, NULL, 16), S_IFDIR | 0755, "folder mode");
	ok(c->len > 124 && !memcmp(c->buf + c->len - 124 + 110,
				   "TRAILER!!!", 10),
	   "archive ends with TRAILER!!!");
}

int main(void)
{
	static uint8_t big[300001];
	struct cpio c;
	char path[256];
	size_t i, len;
	char *s;
	struct stat st;
	FILE *f;

	if (system("cpio --version >/dev/null 2>&1"))
		tap_skip_all("no cpio (Debian package cpio)");
	if (!mkdtemp(tmp))
		tap_skip_all("no temporary folder");
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 9));

	cpio_init(&c);
	is_int(cpio_add_dir(&c, "/dev", 0755), 0, "add a folder");
	cpio_add_dir(&c, "/lib", 0755);
	cpio_add_dir(&c, "/lib/modules", 0700);
	is_int(cpio_add_file(&c, "/init", 0755, "#!/bin/sh\n", 10), 0,
	       "add a file");
	cpio_add_file(&c, "/lib/modules/00-odd-name.ko", 0644, big,
		      sizeof(big));
	cpio_add_file(&c, "/empty", 0600, NULL, 0);
	cpio_add_file(&c, "/abc", 0644, "a", 1);	/* every padding */
	cpio_add_file(&c, "/abcd", 0644, "ab", 2);
	cpio_add_file(&c, "/abcde", 0644, "abc", 3);
	is_int(cpio_add_symlink(&c, "/sh", "init"), 0, "add a symlink");
	is_int(cpio_finish(&c), 0, "trailer");
	check_header(&c);

	snprintf(path, sizeof(path), "%s/a.cpio", tmp);
	f = fopen(path, "wb");
	ok(f && fwrite(c.buf, 1, c.len, f) == c.len, "archive written");
	if (f)
		fclose(f);
	cpio_free(&c);

	is_int(test_sh("cd %s && cpio -t --quiet <a.cpio >list 2>err", tmp), 0,
	       "cpio -t reads it without complaint");
	s = slurp(strcat(strcpy(path, tmp), "/list"), &len);
	is_str(s, "dev\nlib\nlib/modules\ninit\nlib/modules/00-odd-name.ko\n"
	       "empty\nabc\nabcd\nabcde\nsh\n", "cpio -t lists every entry in order");
	free(s);
	s = slurp(strcat(strcpy(path, tmp), "/err"), &len);
	is_int(s ? len : 1, 0, "cpio -t printed nothing on stderr");
	free(s);

	is_int(test_sh("mkdir %s/x && cd %s/x && cpio -i -d --quiet --no-absolute-filenames <../a.cpio 2>../err",
		  tmp, tmp), 0, "cpio -i unpacks it");
	s = slurp(strcat(strcpy(path, tmp), "/x/lib/modules/00-odd-name.ko"),
		  &len);
	ok(s && len == sizeof(big) && !memcmp(s, big, len),
	   "300001-byte file unpacked byte-exact");
	free(s);
	s = slurp(strcat(strcpy(path, tmp), "/x/init"), &len);
	is_str(s, "#!/bin/sh\n", "small file unpacked byte-exact");
	free(s);
	s = slurp(strcat(strcpy(path, tmp), "/x/abcde"), &len);
	is_str(s, "abc", "3-byte file after a 5-byte name");
	free(s);
	ok(!stat(strcat(strcpy(path, tmp), "/x/init"), &st) &&
	   (st.st_mode & 07777) == 0755, "file mode 0755 kept");
	ok(!stat(strcat(strcpy(path, tmp), "/x/empty"), &st) &&
	   st.st_size == 0 && (st.st_mode & 07777) == 0600,
	   "empty file, mode 0600");
	ok(!stat(strcat(strcpy(path, tmp), "/x/lib/modules"), &st) &&
	   S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
	   "folder mode 0700 kept");
	len = (size_t)readlink(strcat(strcpy(path, tmp), "/x/sh"), path,
			       sizeof(path) - 1);
	ok(len == 4 && !memcmp(path, "init", 4), "symlink sh -> init");

	/* Errors stick: nothing is added after one. */
	cpio_init(&c);
	c.err = -ENOMEM;
	is_int(cpio_add_file(&c, "/x", 0644, "x", 1), -ENOMEM,
	       "a failed archive refuses more entries");
	is_int(c.len, 0, "...and stays empty");
	cpio_free(&c);

	test_sh("rm -rf %s", tmp);
	return tap_done();
}
