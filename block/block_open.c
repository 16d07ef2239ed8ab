// SPDX-License-Identifier: GPL-2.0
/*
 * blockdev_open(): parse "FILE[,ro][,format=raw|qcow2]", open and lock the
 * image, detect its format and hand it to the backend.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block_int.h"
#include "core/util.h"

enum blk_format { FMT_AUTO, FMT_RAW, FMT_QCOW2 };

struct blk_spec {
	char *path;
	bool ro;
	enum blk_format format;
};

/*
 * The file name ends at the first comma and options follow, so file names
 * containing commas are not supported (docs/block.md).
 */
static int parse_spec(const char *spec, struct blk_spec *s)
{
	char *opts, *opt, *save = NULL;

	memset(s, 0, sizeof(*s));
	s->path = strdup(spec);
	if (!s->path)
		return -ENOMEM;
	opts = strchr(s->path, ',');
	if (opts)
		*opts++ = '\0';
	if (!*s->path) {
		pr_err("%s: empty disk file name", spec);
		goto bad;
	}
	for (opt = opts ? strtok_r(opts, ",", &save) : NULL; opt;
	     opt = strtok_r(NULL, ",", &save)) {
		if (!strcmp(opt, "ro")) {
			s->ro = true;
		} else if (!strcmp(opt, "format=raw")) {
			s->format = FMT_RAW;
		} else if (!strcmp(opt, "format=qcow2")) {
			s->format = FMT_QCOW2;
		} else {
			pr_err("%s: unknown disk option '%s' (want ro, format=raw or format=qcow2)",
			       s->path, opt);
			goto bad;
		}
	}
	return 0;
bad:
	free(s->path);
	s->path = NULL;
	return -EINVAL;
}

/*
 * Writers take an exclusive, readers a shared open-file-description lock
 * on the whole file.  OFD locks belong to this open file, so even a second
 * open from the same process conflicts, and they vanish with the fd.
 */
static int lock_image(int fd, const char *path, bool ro)
{
	struct flock fl = {
		.l_type = ro ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};

	if (!fcntl(fd, F_OFD_SETLK, &fl))
		return 0;
	if (errno == EAGAIN || errno == EACCES) {
		pr_err("%s: image is locked by another process (is another VM using it?)",
		       path);
		return -EBUSY;
	}
	/* Some file systems (old NFS, FUSE) do not do locks: carry on. */
	pr_warn("%s: cannot lock the image (%s); make sure no other process uses it",
		path, strerror(errno));
	return 0;
}

static enum blk_format detect(int fd, const struct stat *st)
{
	uint32_t magic;

	/* qcow2 lives in regular files only; devices are always raw. */
	if (!S_ISREG(st->st_mode))
		return FMT_RAW;
	if (blk_pread(fd, &magic, sizeof(magic), 0) != sizeof(magic))
		return FMT_RAW;
	return be32toh(magic) == QCOW2_MAGIC ? FMT_QCOW2 : FMT_RAW;
}

int blockdev_open(const char *spec, struct blockdev **out)
{
	struct blockdev *bd = NULL;
	enum blk_format fmt;
	struct blk_spec s;
	struct stat st;
	int fd, ret;

	*out = NULL;
	ret = parse_spec(spec, &s);
	if (ret)
		return ret;
	fd = open(s.path, (s.ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_errno(-ret, "%s: cannot open disk image", s.path);
		goto out_free;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		pr_errno(-ret, "%s: cannot stat disk image", s.path);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		pr_err("%s: disk image must be a regular file or a block device",
		       s.path);
		ret = -EINVAL;
		goto out_close;
	}
	ret = lock_image(fd, s.path, s.ro);
	if (ret)
		goto out_close;
	fmt = s.format != FMT_AUTO ? s.format : detect(fd, &st);
	if (fmt == FMT_QCOW2)
		ret = qcow2_open(fd, s.path, s.ro, &st, &bd);
	else
		ret = raw_open(fd, s.path, s.ro, &st, &bd);
	if (ret)
		goto out_close;
	bd->path = s.path;
	*out = bd;
	return 0;
out_close:
	close(fd);
out_free:
	free(s.path);
	return ret;
}
