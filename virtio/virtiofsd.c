// SPDX-License-Identifier: GPL-2.0
/*
 * The virtiofsd process of one --share: found where Debian installs it,
 * started with its vhost-user socket, its stderr copied to mvm's with a
 * "virtiofsd[TAG]: " prefix, and stopped and reaped at exit.  mvm makes
 * the socket in a private runtime directory, listens, connects, and
 * hands the listening socket over as fd 3 (--fd=3, which both daemons
 * take), so it starts up while mvm loads the kernel and nothing polls
 * for it.  Two daemons are known:
 *   - QEMU's C virtiofsd (Debian 12: /usr/lib/qemu/virtiofsd, package
 *     qemu-system-common): --fd=3 -o source=DIR -o cache=auto;
 *     it has no read-only mode, so for ",ro" mvm starts it in a private
 *     mount namespace where a read-only bind mount of DIR sits at "ro"
 *     in the private runtime directory and is its source (the kernel
 *     refuses writes with EROFS; needs CAP_SYS_ADMIN, which that daemon
 *     needs anyway).  Not DIR made read-only in place: for "/" (host-root
 *     mode) that would also take away the daemon's own pid file.
 *   - the Rust virtiofsd (/usr/libexec/virtiofsd, or on $PATH):
 *     --fd=3 --shared-dir DIR --cache auto, and --readonly.
 * Which one it is comes from its --help (the Rust one has --shared-dir).
 * Both serve requests in the queue's own thread by default (no thread
 * pool: --thread-pool-size 0 in QEMU 7.2's and the Rust one's help).
 */
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/unix_socket.h"
#include "core/util.h"
#include "virtio/virtio_fs.h"

#define STOP_GRACE_MS		2000
#define HELP_MAX		(64 * 1024)

/* ---- --share HOSTDIR[,tag=NAME][,ro] ------------------------------- */

int virtio_fs_parse(const char *arg, struct virtio_fs_spec *spec)
{
	char *copy = strdup(arg), *opt, *save = NULL, *base;
	const char *tag = NULL;
	struct stat st;
	int ret = -1;

	if (!copy)
		return -1;
	memset(spec, 0, sizeof(*spec));
	opt = strtok_r(copy, ",", &save);
	if (!opt) {
		pr_err("--share '%s': needs a host directory (--share HOSTDIR[,tag=NAME][,ro])",
		       arg);
		goto out;
	}
	if (stat(opt, &st) < 0) {
		pr_err("--share '%s': %s: %s (give an existing host directory)",
		       arg, opt, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("--share '%s': %s is not a directory (share the directory that holds it)",
		       arg, opt);
		goto out;
	}
	if (!realpath(opt, spec->dir)) {
		pr_err("--share '%s': %s: %s", arg, opt, strerror(errno));
		goto out;
	}
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strncmp(opt, "tag=", 4)) {
			tag = opt + 4;
		} else if (!strcmp(opt, "ro")) {
			spec->ro = true;
		} else {
			pr_err("--share '%s': unknown option '%s' (HOSTDIR[,tag=NAME][,ro])",
			       arg, opt);
			goto out;
		}
	}
	if (!tag) {
		base = basename(spec->dir);
		tag = strcmp(base, "/") ? base : "root";
	}
	if (!*tag || strlen(tag) > VIRTIO_FS_TAG_MAX) {
		pr_err("--share '%s': tag '%s' must be 1 to %d bytes (give tag=NAME)",
		       arg, tag, VIRTIO_FS_TAG_MAX);
		goto out;
	}
	snprintf(spec->tag, sizeof(spec->tag), "%s", tag);
	ret = 0;
out:
	free(copy);
	return ret;
}

/* ---- finding and probing virtiofsd --------------------------------- */

static bool executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

int virtiofsd_find(const char *override, const char *what, char *buf,
		   size_t len)
{
	static const char *const fixed[] = {
		"/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd",
	};
	const char *path = getenv("PATH");
	unsigned int i;

	if (override) {
		if (!executable(override)) {
			if (what)
				pr_err("--virtiofsd '%s': not an executable file (give the path of virtiofsd)",
				       override);
			return -1;
		}
		snprintf(buf, len, "%s", override);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(fixed); i++) {
		if (executable(fixed[i])) {
			snprintf(buf, len, "%s", fixed[i]);
			return 0;
		}
	}
	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, len, "%.*s/virtiofsd", (int)n, path);
		if (n && executable(buf))
			return 0;
		path += n + (path[n] == ':');
	}
	if (what)
		pr_err("%s: no virtiofsd found in /usr/libexec, /usr/lib/qemu or $PATH (install Debian's qemu-system-common or virtiofsd, or give --virtiofsd PATH)",
		       what);
	return -1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Which daemon `bin` is, from its --help (the Rust one has --shared-dir).
 * Run in the background while mvm reads the kernel: exec'ing a
 * dynamically linked program is not free, least of all in a nested guest
 * under TCG.  What it prints stays in the pipe (64 KiB) until read.
 */
void virtiofsd_probe_start(struct virtiofsd_probe *pr, const char *bin)
{
	int p[2];

	pr->pid = 0;
	pr->fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pr->pid = fork();
	if (pr->pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul >= 0)
			dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(bin, bin, "--help", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (pr->pid < 0) {
		pr->pid = 0;
		close(p[0]);
		return;
	}
	pr->fd = p[0];
}

static void probe_end(struct virtiofsd_probe *pr)
{
	int st;

	if (pr->pid > 0) {
		kill(pr->pid, SIGKILL);
		while (waitpid(pr->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (pr->fd >= 0)
		close(pr->fd);
	pr->pid = 0;
	pr->fd = -1;
}

bool virtiofsd_probe_rust(struct virtiofsd_probe *pr)
{
	char *out = calloc(1, HELP_MAX + 1);
	long end = now_ms() + 5000;
	bool found = false;
	size_t got = 0;
	ssize_t n;

	while (out && pr->fd >= 0 && got < HELP_MAX) {
		struct pollfd pf = { .fd = pr->fd, .events = POLLIN };
		long left = end - now_ms();

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		n = read(pr->fd, out + got, HELP_MAX - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (out)
		found = strstr(out, "--shared-dir") != NULL;
	probe_end(pr);
	free(out);
	return found;
}

void virtiofsd_probe_cancel(struct virtiofsd_probe *pr)
{
	probe_end(pr);
}

/* ---- the process ---------------------------------------------------- */

/*
 * In the child: DIR read-only at VIEW, in a private mount namespace.
 * Read-only with everything mounted below it (mount_setattr(2) with
 * AT_RECURSIVE, Linux 5.12+; uapi linux/mount.h), so a share of "/" does
 * not leave /home or /boot writable; an older kernel gets the top mount
 * only.
 */
static int child_make_ro(const char *dir, const char *view)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(dir, view, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (!syscall(SYS_mount_setattr, AT_FDCWD, view, AT_RECURSIVE, &attr,
		     sizeof(attr)))
		return 0;
	if (errno != ENOSYS ||
	    mount(NULL, view, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return -errno;
	return 0;
}

/* In the child after fork(): no stdio or locale, only write(2). */
static void child_say(const char *a, const char *b, int err)
{
	const char *parts[] = { a, b, ": ", strerrordesc_np(err), "\n" };
	unsigned int i;
	ssize_t w = 0;

	for (i = 0; i < ARRAY_SIZE(parts); i++)
		if (parts[i])
			w += write(2, parts[i], strlen(parts[i]));
	(void)w;
}

/* Its vhost-user socket, listening, becomes its fd 3. */
#define LISTEN_FD	3
#define LISTEN_FD_OPT	"--fd=3"

static int spawn(struct virtiofsd *d, char *const argv[], int listen_fd,
		 const char *ro_dir, const char *ro_view)
{
	int p[2], nul, err;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls here: mvm has threads. */
		nul = open("/dev/null", O_RDWR);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		/* dup2() clears FD_CLOEXEC; a no-op dup2() would not. */
		if (listen_fd == LISTEN_FD)
			fcntl(LISTEN_FD, F_SETFD, 0);
		else
			dup2(listen_fd, LISTEN_FD);
		/* If mvm dies without stopping it, it goes too. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (ro_dir) {
			err = child_make_ro(ro_dir, ro_view);
			if (err) {
				child_say("cannot make a read-only view of ",
					  ro_dir, -err);
				_exit(126);
			}
		}
		execv(argv[0], argv);
		child_say("cannot run ", argv[0], errno);
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	d->pid = pid;
	d->err_fd = p[0];
	d->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

static void emit_line(struct virtiofsd *d)
{
	int n;

	d->line[d->line_len] = '\0';
	d->line_len = 0;
	if (!d->holding) {
		fprintf(stderr, "%s: %s\n", d->name, d->line);
		return;
	}
	n = snprintf(d->held + d->held_len, sizeof(d->held) - d->held_len,
		     "%s: %s\n", d->name, d->line);
	if (n > 0)
		d->held_len = MIN(d->held_len + (size_t)n, sizeof(d->held) - 1);
}

void virtiofsd_relay(struct virtiofsd *d)
{
	char buf[1024];
	ssize_t n;
	ssize_t i;

	while (d->err_fd >= 0) {
		n = read(d->err_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				close(d->err_fd);
				d->err_fd = -1;
			}
			break;
		}
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n' &&
			    d->line_len < sizeof(d->line) - 1) {
				d->line[d->line_len++] = buf[i];
				continue;
			}
			if (buf[i] != '\n')
				i--;	/* a full buffer: flush, then take it */
			emit_line(d);
		}
	}
	if (d->err_fd < 0 && d->line_len)
		emit_line(d);
}

bool virtiofsd_exited(struct virtiofsd *d, bool wait, char *buf, size_t len)
{
	int st;
	pid_t r;

	if (!d->pid || d->reaped)
		return false;
	do {
		r = waitpid(d->pid, &st, wait ? 0 : WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r != d->pid)
		return false;
	d->reaped = true;
	if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	return true;
}

static void remove_rundir(struct virtiofsd *d)
{
	if (!d->rundir[0])
		return;
	unlink(d->sock);
	rmdir(d->ro_view);
	rmdir(d->rundir);
	d->rundir[0] = '\0';
}

void virtiofsd_stop(struct virtiofsd *d, struct vhost_user *vu)
{
	char how[64] = "";
	bool clean = false;
	long end;

	/* What it says while going away (QEMU 7.2's: "virtio_loop:
	 * Unexpected poll revents 11" when the socket closes) is only
	 * worth showing if it does not end cleanly. */
	if (!d->quiet)
		virtiofsd_relay(d);
	d->holding = true;
	vhost_user_close(vu);
	if (d->pid && !d->reaped) {
		/* Its socket is closed now: it exits on its own. */
		end = now_ms() + STOP_GRACE_MS;
		while (!virtiofsd_exited(d, false, how, sizeof(how)) &&
		       now_ms() < end)
			usleep(10000);
		if (!d->reaped) {
			kill(d->pid, SIGTERM);
			end = now_ms() + STOP_GRACE_MS;
			while (!virtiofsd_exited(d, false, how, sizeof(how)) &&
			       now_ms() < end)
				usleep(10000);
		}
		clean = d->reaped && !strcmp(how, "exit status 0");
		if (!d->reaped) {
			kill(d->pid, SIGKILL);
			virtiofsd_exited(d, true, how, sizeof(how));
		}
	}
	virtiofsd_relay(d);
	if (!clean && d->held_len && !d->quiet)
		fputs(d->held, stderr);
	d->holding = false;
	d->held_len = 0;
	if (d->err_fd >= 0)
		close(d->err_fd);
	if (d->pidfd >= 0)
		close(d->pidfd);
	d->err_fd = d->pidfd = -1;
	remove_rundir(d);
}

static int make_rundir(struct virtiofsd *d)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (!base || !*base || stat(base, &st) < 0 || !S_ISDIR(st.st_mode))
		base = "/tmp";
	/* mkdtemp makes it 0700: only this user reaches the socket. */
	snprintf(d->rundir, sizeof(d->rundir), "%s/mvm-virtiofsd.XXXXXX", base);
	if (!mkdtemp(d->rundir)) {
		d->rundir[0] = '\0';
		return -errno;
	}
	snprintf(d->sock, sizeof(d->sock), "%s/vhost-user.sock", d->rundir);
	snprintf(d->ro_view, sizeof(d->ro_view), "%s/ro", d->rundir);
	return 0;
}

int virtiofsd_spawn(struct virtiofsd *d, const char *bin, bool rust,
		    const struct virtio_fs_spec *spec, struct vhost_user *vu)
{
	char src_opt[PATH_MAX + 16];
	const char *argv[16];
	const char *ro_dir = NULL;
	unsigned int n = 0;
	int err, lfd = -1;

	memset(d, 0, sizeof(*d));
	d->pidfd = d->err_fd = -1;
	snprintf(d->name, sizeof(d->name), "virtiofsd[%s]", spec->tag);
	vhost_user_init(vu, -1, d->name);
	err = make_rundir(d);
	if (err) {
		pr_errno(-err, "--share '%s': cannot make a private runtime directory for virtiofsd (set XDG_RUNTIME_DIR to a writable directory)",
			 spec->dir);
		return err;
	}
	/* mvm listens and connects at once; virtiofsd accepts on the
	 * listening socket it is given (--fd, both daemons have it) and
	 * answers once it is ready.  So nothing waits for it to start
	 * until the handshake. */
	lfd = unix_listen(d->sock, 1);
	err = lfd < 0 ? lfd : vhost_user_connect(vu, d->sock, d->name);
	if (err) {
		pr_errno(-err, "--share '%s': cannot make a vhost-user socket at %s",
			 spec->dir, d->sock);
		goto fail;
	}
	argv[n++] = bin;
	argv[n++] = LISTEN_FD_OPT;
	if (rust) {
		argv[n++] = "--shared-dir";
		argv[n++] = spec->dir;
		argv[n++] = "--cache";
		argv[n++] = "auto";
		argv[n++] = "--log-level";
		argv[n++] = "warn";
		if (spec->ro)
			argv[n++] = "--readonly";
	} else {
		if (spec->ro && mkdir(d->ro_view, 0700) < 0) {
			err = -errno;
			pr_errno(-err, "--share '%s': cannot make %s for its read-only view",
				 spec->dir, d->ro_view);
			goto fail;
		}
		snprintf(src_opt, sizeof(src_opt), "source=%s",
			 spec->ro ? d->ro_view : spec->dir);
		argv[n++] = "-o";
		argv[n++] = src_opt;
		argv[n++] = "-o";
		argv[n++] = "cache=auto";
		argv[n++] = "-o";
		argv[n++] = "log_level=warn";
		if (spec->ro)
			ro_dir = spec->dir;
	}
	argv[n] = NULL;
	err = spawn(d, (char *const *)argv, lfd, ro_dir, d->ro_view);
	if (err) {
		pr_errno(-err, "--share '%s': cannot start %s", spec->dir, bin);
		goto fail;
	}
	/* Only virtiofsd holds it now: if it dies, the connection resets. */
	close(lfd);
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
	vhost_user_close(vu);
	remove_rundir(d);
	return err;
}

/* After a failed handshake: give virtiofsd a moment to finish dying. */
static bool ended(struct virtiofsd *d, char *how, size_t len)
{
	long end = now_ms() + STOP_GRACE_MS;

	while (!virtiofsd_exited(d, false, how, len)) {
		struct pollfd pf = { .fd = d->pidfd, .events = POLLIN };

		if (now_ms() >= end)
			return false;
		if (d->pidfd < 0 || poll(&pf, 1, 100) < 0)
			usleep(10000);
	}
	return true;
}

int virtiofsd_connect(struct virtiofsd *d, const char *bin,
		      const struct virtio_fs_spec *spec, struct vhost_user *vu)
{
	char how[64];
	int err;

	/* The first reply comes once it has started: a failure here is
	 * most likely it ending, which says more than the socket does. */
	vu->quiet = true;
	vu->why[0] = '\0';
	err = vhost_user_handshake(vu);
	vu->quiet = false;
	if (!err) {
		virtiofsd_relay(d);
		return 0;
	}
	if (err != -EPROTO && ended(d, how, sizeof(how))) {
		virtiofsd_relay(d);
		pr_err("--share '%s': %s (%s) ended before it answered on its socket: %s (see its messages above; check the directory and --virtiofsd)",
		       spec->dir, d->name, bin, how);
		err = -ECHILD;
	} else {
		virtiofsd_relay(d);
		if (vu->why[0])
			pr_err("%s: %s", vu->name, vu->why);
		pr_err("--share '%s': %s (%s) is not a working vhost-user back-end (check --virtiofsd)",
		       spec->dir, d->name, bin);
	}
	virtiofsd_stop(d, vu);
	return err;
}
