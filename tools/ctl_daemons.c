/*
 * ctl_daemons.c: `ra-ctl up` / `down` / `status`. Each daemon runs detached (its own
 * session), logs to log/NAME.log, and has its pid in run/NAME.pid. `up` returns once every
 * daemon's socket is there, so the next command can use the service at once; `down`
 * waits until every daemon has exited (the ledger is then closed and consistent).
 */
#include "ctl.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *prog_path(const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		char *p;
		self[n] = '\0';
		p = xasprintf("%s/%s", dirname(self), name);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return xstrdup(name);
}

static char *run_file(const config_t *cfg, const char *name, const char *ext)
{
	return xasprintf("%s/%s/%s.%s", config_home(cfg), strcmp(ext, "log") == 0 ? "log" : "run", name, ext);
}

/* Whether PID runs: exists and is not a zombie (where no init reaps orphans, an exited
 * daemon stays a zombie, and kill(pid, 0) alone would call it alive). */
static int pid_alive(pid_t pid)
{
	char path[64], *stat, *paren;
	int alive;

	if (pid <= 0 || kill(pid, 0) != 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!(stat = file_read(path, NULL)))
		return 1;
	paren = strrchr(stat, ')');
	alive = !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
	free(stat);
	return alive;
}

static pid_t pid_of(const config_t *cfg, const char *name)
{
	char *path = run_file(cfg, name, "pid"), *text = file_read(path, NULL);
	pid_t pid = text ? (pid_t)atoi(text) : 0;
	free(path);
	free(text);
	return pid_alive(pid) ? pid : 0;
}

static int spawn(const config_t *cfg, const char *cfgfile, const char *name, const char *prog,
    const char *extra1, const char *extra2)
{
	char *logp = run_file(cfg, name, "log"), *pidp = run_file(cfg, name, "pid");
	char *path = prog_path(prog), pidtext[24];
	pid_t pid;
	int rc = -1;

	if (pid_of(cfg, name)) {
		log_info("%s already runs", name);
		rc = 0;
		goto out;
	}
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600), nul = open("/dev/null", O_RDONLY);
		setsid();
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (ctl_become(cfg, prog) < 0)
			_exit(126);
		execl(path, prog, "-c", cfgfile, extra1, extra2, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	snprintf(pidtext, sizeof pidtext, "%d\n", (int)pid);
	rc = file_write_atomic(pidp, pidtext, strlen(pidtext), 0600);
out:
	free(logp);
	free(pidp);
	free(path);
	return rc;
}

/* Wait until the ipc socket named in config KEY exists (tcp endpoints: assume ready). */
static int wait_socket(const config_t *cfg, const char *key, const char *name)
{
	const char *ep = config_str(cfg, key);
	char *file;
	int ok = 0;

	if (strncmp(ep, "ipc://", 6) != 0)
		return 0;
	file = ep[6] == '/' ? xstrdup(ep + 6) : xasprintf("%s/%s", config_home(cfg), ep + 6);
	for (int i = 0; i < 300 && !ok; i++) {
		struct stat st;
		ok = stat(file, &st) == 0 && S_ISSOCK(st.st_mode) && pid_of(cfg, name);
		if (!ok)
			usleep(50000);
	}
	if (!ok)
		log_err("%s did not come up: see %s/log/%s.log", name, config_home(cfg), name);
	free(file);
	return ok ? 0 : -1;
}

int ctl_up(const config_t *cfg, const char *cfgfile, int nworkers, int ocsp)
{
	char abs[PATH_MAX];
	if (!realpath(cfgfile, abs)) {
		log_err("cannot find %s", cfgfile);
		return -1;
	}
	if (spawn(cfg, abs, "ca-signer", "ca-signer", NULL, NULL) < 0 ||
	    wait_socket(cfg, "signer.endpoint", "ca-signer") < 0)
		return -1;
	if (spawn(cfg, abs, "ra-queue", "ra-queue", NULL, NULL) < 0 ||
	    wait_socket(cfg, "queue.endpoint", "ra-queue") < 0)
		return -1;
	for (int i = 1; i <= nworkers; i++) {
		char name[32];
		snprintf(name, sizeof name, "ra-worker-%d", i);
		if (spawn(cfg, abs, name, "ra-worker", "--name", "worker") < 0)
			return -1;
	}
	if (ocsp && spawn(cfg, abs, "ra-ocsp", "ra-ocsp", NULL, NULL) < 0)
		return -1;
	printf("up: ca-signer, ra-queue%s and %d worker(s) (logs in %s/log)\n", ocsp ? ", ra-ocsp" : "",
	    nworkers, config_home(cfg));
	return 0;
}

/* Stopped in this order: the optional ones and the workers before the queue and signer. */
static const struct {
	const char *name;
	int core;	/* status reports it as stopped when it is not running */
} daemons[] = {
	{ "ra-ocsp", 0 }, { "ra-worker-1", 1 }, { "ra-worker-2", 0 }, { "ra-worker-3", 0 }, { "ra-worker-4", 0 },
	{ "ra-worker-5", 0 }, { "ra-worker-6", 0 }, { "ra-worker-7", 0 }, { "ra-worker-8", 0 },
	{ "ra-queue", 1 }, { "ca-signer", 1 },
};

/* The credentials handed to the daemons (ctl_become) live only while they run. */
static void ctl_creds_remove(const config_t *cfg)
{
	char *dir = xasprintf("%s/run/credentials", config_home(cfg));
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *sub;
		DIR *s;
		struct dirent *f;
		if (e->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", dir, e->d_name);
		if ((s = opendir(sub))) {
			while ((f = readdir(s)))
				if (f->d_name[0] != '.')
					unlinkat(dirfd(s), f->d_name, 0);
			closedir(s);
		}
		rmdir(sub);
		free(sub);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

int ctl_down(const config_t *cfg)
{
	for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++) {
		pid_t pid = pid_of(cfg, daemons[i].name);
		char *pidp;
		if (!pid)
			continue;
		kill(pid, SIGTERM);
		for (int t = 0; t < 100 && pid_alive(pid); t++)
			usleep(50000);
		if (pid_alive(pid)) {
			log_warn("%s did not stop in 5 s; killing it", daemons[i].name);
			kill(pid, SIGKILL);
		}
		pidp = run_file(cfg, daemons[i].name, "pid");
		unlink(pidp);
		free(pidp);
	}
	ctl_creds_remove(cfg);
	printf("down\n");
	return 0;
}

int ctl_status(const config_t *cfg)
{
	int all = 1;
	for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++) {
		pid_t pid = pid_of(cfg, daemons[i].name);
		if (pid)
			printf("%-12s running (pid %d)\n", daemons[i].name, (int)pid);
		else if (daemons[i].core) {
			printf("%-12s stopped\n", daemons[i].name);
			all = 0;
		}
	}
	return all ? 0 : 1;
}
