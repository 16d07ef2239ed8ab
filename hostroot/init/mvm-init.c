// SPDX-License-Identifier: GPL-2.0
/*
 * mvm-init: PID 1 of host-root mode (include/hostroot/hostroot.h).  It
 * runs in the initramfs mvm generates and does, in order:
 *
 *  1. mount devtmpfs, proc, sysfs and a tmpfs on /dev /proc /sys /tmp;
 *  2. load the modules /mvm/config lists, in order (finit_module; a
 *     compressed one with MODULE_INIT_COMPRESSED_FILE);
 *  3. open hvc0 (the command's stdout; its stdin when mvm's is a
 *     terminal) and hvc1 (its stderr): raw ttys, so bytes pass
 *     unchanged, unless stdin is a terminal on the host (then hvc0 is a
 *     cooked tty and the shell's controlling one); without a terminal
 *     the shell reads /mvm/stdin (mvm's stdin, whole), a command
 *     /dev/null;
 *  4. mount the host's / (virtio-fs, read-only) under a tmpfs overlay at
 *     /mnt/root, further shares at their paths, move /dev /proc /sys /tmp
 *     into it and chroot there;
 *  5. chdir to the host's working directory, set the host's environment,
 *     run the command (or /bin/sh), reap everything until it ends;
 *  6. wait until hvc0/hvc1 have handed every byte to mvm (tcdrain: the
 *     virtio-console driver returns only when the host took the buffer),
 *     write the status to the debug-exit port 0xf4 (mvm exits with it),
 *     power off if that port is absent.
 *
 * Linked statically against glibc's libc.a rather than written with raw
 * syscalls: it needs mount, finit_module, fork/exec with a PATH search,
 * termios, chroot and port I/O; libc makes that short and obviously
 * right, and ~800 KiB more initramfs costs nothing noticeable (the kernel
 * copies it once).  Its messages start with "mvm: init: " and go to hvc1
 * (mvm's stderr) once it exists, to the kernel console before that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE	4
#endif
#define DEBUG_EXIT_PORT		0xf4
#define CONFIG_PATH		"/mvm/config"
#define NEWROOT			"/mnt/root"
#define MAX_ENTRIES		4096

static int err_fd = -1;		/* where messages go; -1: /dev/console */
static int out_fd = -1;		/* hvc0 */
static bool verbose;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n, fd = err_fd;

	n = snprintf(buf, sizeof(buf), "mvm: init: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (fd < 0)
		fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	if (fd >= 0 && write(fd, buf, (size_t)n) < 0)
		n = 0;
	if (fd >= 0 && fd != err_fd)
		close(fd);
}

/* The end: status to mvm through the debug-exit port, else power off. */
static void __attribute__((noreturn)) finish(int status)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		tcdrain(fd);
	if (out_fd >= 0)
		tcdrain(out_fd);
	if (err_fd >= 0)
		tcdrain(err_fd);
	sync();
	if (ioperm(DEBUG_EXIT_PORT, 1, 1) == 0)
		outb((unsigned char)status, DEBUG_EXIT_PORT);
	else
		msg("no access to port 0x%x: %s", DEBUG_EXIT_PORT,
		    strerror(errno));
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void __attribute__((noreturn)) fail(const char *what)
{
	msg("%s", what);
	finish(125);
}

/* /mvm/config: NUL-separated "key=value" entries. */
static char *conf_buf;
static char *entries[MAX_ENTRIES];
static int nr_entries;

static int read_config(void)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd = open(CONFIG_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		return -1;
	conf_buf = malloc((size_t)st.st_size + 1);
	if (!conf_buf)
		return -1;
	while (off < (size_t)st.st_size &&
	       (n = read(fd, conf_buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	conf_buf[off] = '\0';
	for (size_t i = 0; i < off && nr_entries < MAX_ENTRIES;
	     i += strlen(conf_buf + i) + 1)
		entries[nr_entries++] = conf_buf + i;
	return 0;
}

/* The value of entry i if its key is `key`, else NULL. */
static const char *conf_val(int i, const char *key)
{
	size_t kl = strlen(key);

	if (!strncmp(entries[i], key, kl) && entries[i][kl] == '=')
		return entries[i] + kl + 1;
	return NULL;
}

static const char *conf_get(const char *key)
{
	const char *v;

	for (int i = 0; i < nr_entries; i++)
		if ((v = conf_val(i, key)))
			return v;
	return NULL;
}

static void do_mount(const char *src, const char *dst, const char *type,
		     unsigned long flags, const char *data)
{
	char buf[256];

	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, data)) {
		snprintf(buf, sizeof(buf), "mount %s on %s (%s): %s", src, dst,
			 type ? type : "move", strerror(errno));
		fail(buf);
	}
}

static bool has_fs(const char *type)
{
	char line[128];
	bool found = false;
	FILE *f = fopen("/proc/filesystems", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *t = strrchr(line, '\t');

		line[strcspn(line, "\n")] = '\0';
		found = t && !strcmp(t + 1, type);
	}
	fclose(f);
	return found;
}

static void load_modules(void)
{
	const char *path;

	for (int i = 0; i < nr_entries; i++) {
		size_t len;
		int fd, flags = 0;

		path = conf_val(i, "mod");
		if (!path)
			continue;
		len = strlen(path);
		if (len > 3 && strcmp(path + len - 3, ".ko"))
			flags = MODULE_INIT_COMPRESSED_FILE;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			msg("%s: %s", path, strerror(errno));
			continue;
		}
		if (verbose)
			msg("loading %s", path);
		if (syscall(SYS_finit_module, fd, "", flags) && errno != EEXIST)
			msg("%s: cannot load: %s%s", path, strerror(errno),
			    flags && (errno == EINVAL || errno == EOPNOTSUPP) ?
			    " (the kernel cannot decompress modules: CONFIG_MODULE_DECOMPRESS)" :
			    "");
		close(fd);
	}
}

/* hvcN, waiting a little for the driver to have created it. */
static int open_hvc(const char *path)
{
	for (int i = 0; i < 200; i++) {
		int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

		if (fd >= 0 || (errno != ENOENT && errno != ENODEV &&
				errno != ENXIO))
			return fd;
		usleep(10000);
	}
	return -1;
}

static void setup_consoles(bool interactive)
{
	struct termios t;
	int out = open_hvc("/dev/hvc0"), err = open_hvc("/dev/hvc1");

	if (out < 0 || err < 0) {
		msg("no /dev/hvc0 and /dev/hvc1 (virtio-console; the kernel has virtio_console neither built in nor as a module?): output goes to the console");
		if (out >= 0)
			close(out);
		if (err >= 0)
			close(err);
		out = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
		err = dup(out);
	} else {
		/* stderr: raw bytes, unless the host shows it on a terminal
		 * (then "\n" must become "\r\n", as the shell's own tty). */
		if (!tcgetattr(err, &t)) {
			cfmakeraw(&t);
			if (interactive)
				t.c_oflag |= OPOST | ONLCR;
			tcsetattr(err, TCSANOW, &t);
		}
		if (!interactive && !tcgetattr(out, &t)) {
			cfmakeraw(&t);
			tcsetattr(out, TCSANOW, &t);
		}
	}
	err_fd = err;
	out_fd = out;
}

/* The host's / (read-only) with a tmpfs for writes, at NEWROOT. */
static void mount_root(const char *tag)
{
	char opts[256];

	if (!has_fs("virtiofs"))
		fail("this kernel has no virtiofs (neither built in nor loaded): pass its modules with --modules DIR (CONFIG_VIRTIO_FS)");
	if (!has_fs("overlay"))
		fail("this kernel has no overlay file system (neither built in nor loaded): pass its modules with --modules DIR (CONFIG_OVERLAY_FS)");
	do_mount(tag, "/mnt/lower", "virtiofs", MS_RDONLY, NULL);
	do_mount("tmpfs", "/mnt/rw", "tmpfs", 0, "mode=0755");
	mkdir("/mnt/rw/upper", 0755);
	mkdir("/mnt/rw/work", 0755);
	snprintf(opts, sizeof(opts),
		 "lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work");
	do_mount("overlay", NEWROOT, "overlay", 0, opts);
}

static void mount_shares(void)
{
	char where[4096];

	for (int i = 0; i < nr_entries; i++) {
		const char *v = conf_val(i, "mount"), *tag, *path;
		char tagbuf[64];
		bool ro;

		if (!v)
			continue;
		ro = !strncmp(v, "ro:", 3);
		tag = v + 3;
		path = strchr(tag, ':');
		if (!path || (size_t)(path - tag) >= sizeof(tagbuf))
			continue;
		snprintf(tagbuf, sizeof(tagbuf), "%.*s", (int)(path - tag), tag);
		snprintf(where, sizeof(where), NEWROOT "%s", path + 1);
		do_mount(tagbuf, where, "virtiofs", ro ? MS_RDONLY : 0, NULL);
	}
}

static void enter_root(void)
{
	static const char *const keep[] = { "/dev", "/proc", "/sys", "/tmp" };
	char dst[64];

	for (unsigned int i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		snprintf(dst, sizeof(dst), NEWROOT "%s", keep[i]);
		do_mount(keep[i], dst, NULL, MS_MOVE, NULL);
	}
	if (chdir(NEWROOT) || mount(".", "/", NULL, MS_MOVE, NULL) ||
	    chroot(".") || chdir("/"))
		fail("cannot enter the new root");
}

static int run(bool interactive, int script, int out)
{
	static char *argv[MAX_ENTRIES + 1], *envp[MAX_ENTRIES + 1];
	static char sh[] = "/bin/sh";
	const char *cwd = conf_get("cwd"), *v;
	int argc = 0, envc = 0, status;
	pid_t pid, w;

	for (int i = 0; i < nr_entries; i++) {
		if ((v = conf_val(i, "arg")))
			argv[argc++] = (char *)v;
		else if ((v = conf_val(i, "env")))
			envp[envc++] = (char *)v;
	}
	if (!argc)
		argv[argc++] = sh;
	if (cwd && chdir(cwd)) {
		msg("cannot enter %s: %s (running in /)", cwd, strerror(errno));
		cwd = NULL;
	}
	pid = fork();
	if (pid < 0)
		fail("fork failed");
	if (pid == 0) {
		/* hvc0 when mvm's stdin is a terminal; else the shell's
		 * script (/mvm/stdin), a command /dev/null. */
		int in = interactive ? out : script >= 0 ? script :
			 open("/dev/null", O_RDONLY);

		setsid();
		if (interactive)
			ioctl(out, TIOCSCTTY, 0);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err_fd, 2);
		clearenv();
		for (int i = 0; i < envc; i++)
			putenv(envp[i]);
		if (!cwd)
			setenv("PWD", "/", 1);
		execvp(argv[0], argv);
		status = errno == ENOENT ? 127 : 126;
		msg("%s: %s", argv[0], strerror(errno));
		_exit(status);
	}
	/* PID 1 reaps every orphan; the command's status is the result. */
	for (;;) {
		w = wait(&status);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return 125;
		if (w == pid)
			break;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int main(void)
{
	bool interactive;
	const char *root;
	int status, script;

	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if (fcntl(0, F_GETFD) < 0) {	/* no /dev/console in the archive */
		int fd = open("/dev/console", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	do_mount("proc", "/proc", "proc", 0, NULL);
	do_mount("sysfs", "/sys", "sysfs", 0, NULL);
	do_mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777");
	if (read_config())
		fail("cannot read " CONFIG_PATH);
	verbose = conf_get("verbose") != NULL;
	interactive = conf_get("interactive") != NULL;
	/* Opened before the root changes: it lives in the initramfs. */
	script = open("/mvm/stdin", O_RDONLY | O_CLOEXEC);
	load_modules();
	setup_consoles(interactive);
	root = conf_get("root");
	if (root) {
		mount_root(root);
		mount_shares();
		enter_root();
	}
	status = run(interactive, script, out_fd);
	if (verbose)
		msg("command ended with status %d", status);
	finish(status);
}
