// SPDX-License-Identifier: GPL-2.0
/*
 * mvm: a minimal KVM hypervisor.  This file is the command line only:
 * it turns arguments into a struct machine_config, and every error into one
 * line on stderr and a non-zero exit status.
 */
#include <getopt.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "debug/control.h"
#include "x86/pvm.h"
#include "debug/timing.h"
#include "debug/trace.h"
#include "core/util.h"
#include "machine.h"

#define MEM_MIN_MIB	32ULL
#define MEM_MAX_MIB	(1ULL << 20)	/* 1 TiB */

static const char run_usage[] =
"usage: mvm run [options] [-- COMMAND [ARG...]]\n"
"\n"
"Boot a Linux kernel (or, without -k, the embedded test guest) in a KVM\n"
"virtual machine with a serial console on stdin/stdout.\n"
"\n"
"With -k and neither -i nor -d (host-root mode), mvm generates the\n"
"initramfs: its own init and the kernel's modules.  The init mounts the\n"
"host's / read-only with a tmpfs overlay for writes, enters the current\n"
"directory and runs COMMAND (or /bin/sh): COMMAND's stdout and stderr are\n"
"mvm's, kernel messages are hidden (--verbose shows them), and mvm exits\n"
"with COMMAND's status.\n"
"Without a terminal, the shell reads mvm's stdin to its end as a script;\n"
"COMMAND reads /dev/null.\n"
"\n"
"  -k, --kernel FILE     bzImage or ELF vmlinux to boot\n"
"      --no-host-decompress\n"
"                        let a bzImage decompress itself in the guest\n"
"                        (default: mvm decompresses its gzip, bzip2, lzma,\n"
"                        xz, lz4 or zstd payload and enters the kernel\n"
"                        directly; lzo and unknown formats always\n"
"                        decompress in the guest)\n"
"  -i, --initrd FILE     initramfs / initrd image\n"
"  -p, --params CMDLINE  appended to the kernel command line\n"
"                        (default: \"" VM_DEFAULT_CMDLINE "\")\n"
"  -m, --mem MiB         guest RAM in MiB (default 256, even, >= 32)\n"
"      --hugepages       back guest RAM with the host's reserved huge pages\n"
"                        (hugetlbfs, default size; see /proc/meminfo)\n"
"      --mem-prealloc    allocate all of guest RAM at start (no page faults\n"
"                        later; fails at once if the host lacks the memory)\n"
"      --mem-overcommit  allow more guest RAM than the host has available\n"
"                        (MemAvailable + SwapFree; refused otherwise)\n"
"  -c, --cpus N          number of vCPUs (default 1, at most 64)\n"
"  -d, --disk FILE[,ro][,format=raw|qcow2]\n"
"                        add a virtio-blk disk (/dev/vda, vdb... in order;\n"
"                        raw or qcow2, detected); repeatable, at most 8\n"
"  -n, --network tap=NAME[,mac=xx:xx:xx:xx:xx:xx]\n"
"                        add a virtio-net on the existing host TAP NAME\n"
"                        (ip tuntap add dev NAME mode tap user $USER);\n"
"                        repeatable, at most 4.  mvm does no networking\n"
"                        itself: no user-mode network (docs/virtio.md)\n"
"      --share HOSTDIR[,tag=NAME][,ro]\n"
"                        share a host directory with the guest over\n"
"                        virtio-fs (mount -t virtiofs NAME /mnt); the tag\n"
"                        defaults to the directory's basename (\"root\" for\n"
"                        /); ro: the guest cannot write.  mvm runs a\n"
"                        virtiofsd for it; repeatable, at most 8\n"
"      --virtiofsd PATH  the virtiofsd to run (default: the first of\n"
"                        /usr/libexec/virtiofsd, /usr/lib/qemu/virtiofsd,\n"
"                        virtiofsd on $PATH)\n"
"      --name NAME       name of the VM (default \"mvm\")\n"
"      --debug-exit      add a debug-exit port at 0xf4: a guest write of\n"
"                        byte V ends mvm with exit status V\n"
"      --passthrough BDF pass host PCI function BDF (e.g. 0000:03:10.0,\n"
"                        bound to vfio-pci) through with VFIO; repeatable.\n"
"                        sim:MODEL[,key=value...] uses a simulated host\n"
"                        instead (model mbox-vf: vectors=N, host=dynamic|\n"
"                        noresize; see docs/mbox-vf.md)\n"
"      --rng             add a virtio-rng device (the guest's /dev/hwrng)\n"
"      --console serial|virtio\n"
"                        the console on stdin/stdout: the UART ttyS0\n"
"                        (default) or a virtio-console, hvc0 in the guest\n"
"                        (add -p console=hvc0)\n"
"      --trace LIST      print events of these categories (comma-separated):\n"
"                        pci, msix, vfio, mmio, pio, irq, virtio, exit, all\n"
"                        (docs/debugging.md)\n"
"      --trace-file FILE write the trace to FILE instead of stderr\n"
"      --timing[=MARKER] at the end, print when the boot reached each phase\n"
"                        (built, first guest entry, kernel proper, first\n"
"                        console byte, MARKER on the serial console, end)\n"
"      --gdb [ADDR:]PORT GDB remote stub (default address 127.0.0.1);\n"
"                        vCPUs are GDB threads (docs/debugging.md)\n"
"      --gdb-wait        keep the vCPUs stopped until GDB attaches\n"
"      --pvm-compat on|off|auto\n"
"                        for hosts whose KVM is PVM (kernel mode emulated):\n"
"                        hide CPUID features PVM cannot emulate, append\n"
"                        '" PVM_COMPAT_CMDLINE "' to the\n"
"                        command line, raise #UD for their instructions\n"
"                        (default auto: on when the host is PVM; docs/pvm.md)\n"
"      --modules DIR     host-root mode: the kernel's modules, a\n"
"                        `make modules_install INSTALL_MOD_PATH=DIR` folder,\n"
"                        a kernel build tree or a /lib/modules/VERSION\n"
"                        folder (default /lib/modules/<the kernel's version>)\n"
"      --modprobe NAME   host-root mode: also load module NAME (and what it\n"
"                        depends on); repeatable, at most 16\n"
"      --verbose         host-root mode: show the kernel's messages and the\n"
"                        init's steps on stderr\n"
"  -h, --help            show this help\n"
"\n"
"Console: when stdin is a terminal it is put in raw mode; type Ctrl-A x\n"
"to quit, Ctrl-A Ctrl-A to send Ctrl-A.\n"
"Exit status: 0 when the guest powers off or reboots, V for a debug-exit\n"
"write of V, 255 when the guest kernel panicked (reported by the pvpanic-pci\n"
"device, or a panic line on ttyS0 before a reset; mvm prints the line),\n"
"128+N when stopped by signal N, 1 on errors, 2 for bad arguments.\n"
"Host-root mode: COMMAND's status (128+N when a signal N ended it; 125\n"
"when mvm's init failed, with its reason on stderr; 127 when COMMAND was\n"
"not found).\n";

static const char main_usage[] =
"usage: mvm <command> [options]\n"
"\n"
"commands:\n"
"  run       boot a virtual machine (see 'mvm help run')\n"
"  list      list the running VMs\n"
"  stop NAME | pause NAME | resume NAME\n"
"            stop, pause or resume the running VM NAME\n"
"  debug NAME, stat NAME\n"
"            print VM NAME's state, or its counters\n"
"  version   print the version\n"
"  help      show help for a command\n";

static int parse_uint(const char *opt, const char *arg, unsigned long long min,
		      unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*arg == '-' || *arg == '\0')
		goto bad;
	v = strtoull(arg, &end, 10);
	if (errno || *end)
		goto bad;
	if (v < min || v > max) {
		pr_err("%s '%s': must be between %llu and %llu", opt, arg, min,
		       max);
		return -1;
	}
	*out = v;
	return 0;
bad:
	pr_err("%s '%s': not a number", opt, arg);
	return -1;
}

enum {
	OPT_NAME = 256,
	OPT_GDB,
	OPT_GDB_WAIT,
	OPT_TRACE,
	OPT_TRACE_FILE,
	OPT_DEBUG_EXIT,
	OPT_PASSTHROUGH,
	OPT_RNG,
	OPT_CONSOLE,
	OPT_PVM_COMPAT,
	OPT_SHARE,
	OPT_VIRTIOFSD,
	OPT_MODULES,
	OPT_MODPROBE,
	OPT_VERBOSE,
	OPT_HUGEPAGES,
	OPT_MEM_PREALLOC,
	OPT_MEM_OVERCOMMIT,
	OPT_TIMING,
	OPT_NO_HOST_DECOMPRESS,
};

/* --share: parse, and refuse a tag already in use. */
static int add_share(struct machine_config *cfg, const char *arg)
{
	struct virtio_fs_spec *s = &cfg->shares[cfg->nr_shares];
	unsigned int i;

	if (cfg->nr_shares == VM_MAX_SHARES) {
		pr_err("--share '%s': at most %d shares", arg, VM_MAX_SHARES);
		return -1;
	}
	if (virtio_fs_parse(arg, s))
		return -1;
	for (i = 0; i < cfg->nr_shares; i++) {
		if (!strcmp(cfg->shares[i].tag, s->tag)) {
			pr_err("--share '%s': tag '%s' is already used by --share %s (give each share its own tag=NAME)",
			       arg, s->tag, cfg->shares[i].dir);
			return -1;
		}
	}
	cfg->nr_shares++;
	return 0;
}

/* Host-root mode (-k without -i/-d) and the options only it takes. */
static int run_check_hostroot(struct machine_config *cfg)
{
	struct hostroot_config *hc = &cfg->hostroot_cfg;
	const char *opt = hc->argv ? "a command after '--'" :
			  hc->modules_dir ? "--modules" :
			  hc->nr_modprobe ? "--modprobe" : NULL;

	cfg->hostroot = cfg->kernel && !cfg->initrd && !cfg->nr_disks;
	if (cfg->hostroot || !opt)
		goto out;
	if (!cfg->kernel)
		pr_err("run: %s needs --kernel (mvm's init runs on a Linux kernel: -k bzImage)",
		       opt);
	else
		pr_err("run: %s is for host-root mode: leave out -i and -d (mvm makes the initramfs and mounts the host's /)",
		       opt);
	return -1;
out:
	/* A terminal on stdin: a cooked hvc0 (so "\n" is "\r\n" on its
	 * output); a command whose stdout is not a terminal runs without
	 * one, so its output stays byte-exact. */
	hc->interactive = isatty(STDIN_FILENO) &&
			  (isatty(STDOUT_FILENO) || !hc->argv);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "params", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "disk", required_argument, NULL, 'd' },
		{ "network", required_argument, NULL, 'n' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "gdb", required_argument, NULL, OPT_GDB },
		{ "gdb-wait", no_argument, NULL, OPT_GDB_WAIT },
		{ "trace-file", required_argument, NULL, OPT_TRACE_FILE },
		{ "debug-exit", no_argument, NULL, OPT_DEBUG_EXIT },
		{ "passthrough", required_argument, NULL, OPT_PASSTHROUGH },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "pvm-compat", required_argument, NULL, OPT_PVM_COMPAT },
		{ "share", required_argument, NULL, OPT_SHARE },
		{ "virtiofsd", required_argument, NULL, OPT_VIRTIOFSD },
		{ "modules", required_argument, NULL, OPT_MODULES },
		{ "modprobe", required_argument, NULL, OPT_MODPROBE },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
		{ "mem-prealloc", no_argument, NULL, OPT_MEM_PREALLOC },
		{ "mem-overcommit", no_argument, NULL, OPT_MEM_OVERCOMMIT },
		{ "timing", optional_argument, NULL, OPT_TIMING },
		{ "no-host-decompress", no_argument, NULL,
		  OPT_NO_HOST_DECOMPRESS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct machine_config cfg;
	struct hostroot_config *hc = &cfg.hostroot_cfg;
	unsigned long long v;
	const char *trace_file = NULL;
	enum pvm_compat_mode pvm_mode = PVM_COMPAT_AUTO;
	bool host_pvm;
	struct machine m;
	int c, status;

	machine_config_init(&cfg);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:p:m:c:d:n:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'k':
			cfg.kernel = optarg;
			break;
		case 'i':
			cfg.initrd = optarg;
			break;
		case 'p':
			cfg.params = optarg;
			break;
		case 'm':
			if (parse_uint("--mem", optarg, MEM_MIN_MIB,
				       MEM_MAX_MIB, &v))
				return 2;
			if (v & 1) {
				pr_err("--mem '%s': must be an even number of MiB (RAM is mapped in 2 MiB pages)",
				       optarg);
				return 2;
			}
			cfg.mem_size = v << 20;
			break;
		case 'c':
			if (parse_uint("--cpus", optarg, 1, VM_MAX_CPUS, &v))
				return 2;
			cfg.nr_cpus = (unsigned int)v;
			break;
		case 'd':
			if (cfg.nr_disks == VM_MAX_DISKS) {
				pr_err("--disk '%s': at most %d disks",
				       optarg, VM_MAX_DISKS);
				return 2;
			}
			cfg.disks[cfg.nr_disks++] = optarg;
			break;
		case 'n':
			if (cfg.nr_nets == VM_MAX_NETS) {
				pr_err("--network '%s': at most %d network devices",
				       optarg, VM_MAX_NETS);
				return 2;
			}
			if (virtio_net_parse(optarg, &cfg.nets[cfg.nr_nets]))
				return 2;
			cfg.nr_nets++;
			break;
		case OPT_NAME:
			if (!control_name_valid(optarg)) {
				pr_err("--name '%s': must be 1 to 63 characters, without '/' or control characters",
				       optarg);
				return 2;
			}
			cfg.name = optarg;
			break;
		case OPT_TRACE:
			if (trace_parse(optarg))
				return 2;
			break;
		case OPT_TRACE_FILE:
			trace_file = optarg;
			break;
		case OPT_GDB:
			cfg.gdb = optarg;	/* checked when the stub starts */
			break;
		case OPT_GDB_WAIT:
			cfg.gdb_wait = true;
			break;
		case OPT_DEBUG_EXIT:
			cfg.debug_exit = true;
			break;
		case OPT_PASSTHROUGH:
			if (cfg.nr_passthrough == VM_MAX_PASSTHROUGH) {
				pr_err("--passthrough '%s': at most %d devices",
				       optarg, VM_MAX_PASSTHROUGH);
				return 2;
			}
			cfg.passthrough[cfg.nr_passthrough++] = optarg;
			break;
		case OPT_RNG:
			cfg.virtio_rng = true;
			break;
		case OPT_CONSOLE:
			if (strcmp(optarg, "virtio") && strcmp(optarg, "serial")) {
				pr_err("--console '%s': must be 'serial' or 'virtio'",
				       optarg);
				return 2;
			}
			cfg.virtio_console = !strcmp(optarg, "virtio");
			break;
		case OPT_PVM_COMPAT:
			if (pvm_compat_parse(optarg, &pvm_mode))
				return 2;
			break;
		case OPT_SHARE:
			if (add_share(&cfg, optarg))
				return 2;
			break;
		case OPT_VIRTIOFSD:
			cfg.virtiofsd = optarg;
			break;
		case OPT_MODULES:
			hc->modules_dir = optarg;	/* checked with the kernel */
			break;
		case OPT_MODPROBE:
			if (hc->nr_modprobe == HOSTROOT_MAX_MODPROBE) {
				pr_err("--modprobe '%s': at most %d modules",
				       optarg, HOSTROOT_MAX_MODPROBE);
				return 2;
			}
			if (!*optarg || strpbrk(optarg, "/ ")) {
				pr_err("--modprobe '%s': not a module name (give NAME as modprobe takes it, e.g. virtio_net)",
				       optarg);
				return 2;
			}
			hc->modprobe[hc->nr_modprobe++] = optarg;
			break;
		case OPT_HUGEPAGES:
			cfg.hugepages = true;
			break;
		case OPT_MEM_PREALLOC:
			cfg.mem_prealloc = true;
			break;
		case OPT_MEM_OVERCOMMIT:
			cfg.mem_overcommit = true;
			break;
		case OPT_TIMING:
			if (timing_enable(optarg)) {
				pr_err("--timing='%s': the marker must be 1 to 128 bytes",
				       optarg);
				return 2;
			}
			break;
		case OPT_NO_HOST_DECOMPRESS:
			cfg.guest_decompress = true;
			break;
		case OPT_VERBOSE:
			hc->verbose = true;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 0;
		case ':':
			pr_err("run: option '%s' needs an argument (see 'mvm help run')",
			       argv[optind - 1]);
			return 2;
		default:
			pr_err("run: unknown option '%s' (see 'mvm help run')",
			       argv[optind - 1]);
			return 2;
		}
	}
	if (optind > 1 && !strcmp(argv[optind - 1], "--")) {
		if (optind == argc) {
			pr_err("run: '--' needs a command after it (leave it out for a shell)");
			return 2;
		}
		hc->argv = argv + optind;
		hc->argc = argc - optind;
	} else if (optind < argc) {
		pr_err("run: unexpected argument '%s' (see 'mvm help run')",
		       argv[optind]);
		return 2;
	}
	if (run_check_hostroot(&cfg))
		return 2;
	/* Only where there is a /dev/kvm to be PVM (our own machines have
	 * kvm_pvm loaded as PVM guests, without /dev/kvm). */
	host_pvm = access("/dev/kvm", F_OK) == 0 && pvm_host_detect("/sys");
	if (host_pvm)
		pr_info("host KVM is PVM: guest kernel code is emulated, expect slow boots");
	cfg.host_pvm = host_pvm;
	cfg.pvm_compat = pvm_mode == PVM_COMPAT_ON ||
			 (pvm_mode == PVM_COMPAT_AUTO && host_pvm);
	if (cfg.initrd && !cfg.kernel) {
		pr_err("--initrd '%s': needs --kernel (the embedded guest takes no initrd)",
		       cfg.initrd);
		return 2;
	}
	if (trace_file && trace_open_file(trace_file))
		return 2;
	cfg.control = true;
	if (machine_build(&m, &cfg)) {
		trace_close();
		return 1;
	}
	timing_mark(TIMING_BUILT);
	status = machine_run(&m);
	if (timing_on)
		timing_print(stderr);
	machine_destroy(&m);
	trace_close();
	return status;
}

/* mvm stop|pause|resume|debug|stat NAME: ask VM NAME over its socket. */
static int cmd_control(const char *cmd, int argc, char **argv)
{
	if (argc != 2) {
		pr_err("%s: needs one VM name (usage: mvm %s NAME; 'mvm list' shows them)",
		       cmd, cmd);
		return 2;
	}
	return control_request(argv[1], cmd, stdout) ? 1 : 0;
}

static int cmd_list(int argc, char **argv)
{
	if (argc != 1) {
		pr_err("list: unexpected argument '%s'", argv[1]);
		return 2;
	}
	return control_list(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	timing_start();

	/* A console reader that went away must not kill the VM. */
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(cmd, "stop") || !strcmp(cmd, "pause") ||
	    !strcmp(cmd, "resume") || !strcmp(cmd, "debug") ||
	    !strcmp(cmd, "stat"))
		return cmd_control(cmd, argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("mvm %s\n", MVM_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		if (argc > 2 && !strcmp(argv[2], "run")) {
			fputs(run_usage, stdout);
			return 0;
		}
		if (argc > 2) {
			pr_err("help: unknown command '%s'", argv[2]);
			return 2;
		}
		fputs(main_usage, stdout);
		return 0;
	}
	pr_err("unknown command '%s' (see 'mvm help')", cmd);
	return 2;
}
