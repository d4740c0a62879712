/*
 * sandbox.c: what ca-signer gives up once its key is loaded and its socket bound.
 *
 * It drops to signer.user (if set and started as root), forbids gaining privileges
 * again (PR_SET_NO_NEW_PRIVS), and installs a seccomp filter (libseccomp) that kills the
 * process on any attempt to run a program, trace or write another process's memory,
 * load kernel code, mount, change identity or reboot. ZeroMQ's I/O threads still need
 * ordinary file and socket calls, so the filter lists what the key holder must never
 * do rather than everything it may.
 *
 * Its metrics (signer_metrics.c) go out the same way its CRLs do: a file written, synced
 * and renamed into a folder by the main loop. No socket is opened for them and no call is
 * added here; an HTTP endpoint would have meant a listening socket reachable from outside
 * the key holder, which is exactly what this process must not offer.
 */
#include "sandbox.h"
#include "log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static const int sandbox_denied[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(init_module),
	SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(bpf), SCMP_SYS(perf_event_open),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid), SCMP_SYS(setregid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups), SCMP_SYS(capset),
	SCMP_SYS(reboot), SCMP_SYS(swapon), SCMP_SYS(swapoff), SCMP_SYS(keyctl),
	SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(userfaultfd), SCMP_SYS(personality),
	SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at),
};

int sandbox_drop_user(const char *user)
{
	struct passwd *pw;

	if (!user || !*user)
		return 0;
	if (geteuid() != 0) {
		log_warn("signer.user is %s but ca-signer is not root: staying as we are", user);
		return 0;
	}
	if (!(pw = getpwnam(user))) {
		log_err("signer.user %s does not exist", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot drop privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	return 0;
}

int sandbox_seccomp(void)
{
	scmp_filter_ctx ctx;
	int rc = -1;

#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer's leak check stops the world with ptrace at exit, which the
	 * filter forbids: the process would spin forever. Sanitizer builds are for tests. */
	log_warn("sanitizer build: the seccomp filter is not installed");
	return 0;
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (!(ctx = seccomp_init(SCMP_ACT_ALLOW)))
		return -1;
	/* ZeroMQ's threads already run: the filter must cover them too */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
		goto out;
	for (size_t i = 0; i < sizeof sandbox_denied / sizeof sandbox_denied[0]; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, sandbox_denied[i], 0) < 0)
			goto out;
	if (seccomp_load(ctx) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		log_err("cannot install the seccomp filter");
	seccomp_release(ctx);
	return rc;
}
