/*
 * test_config.c: the configuration loader reports every problem with file, line and
 * column, all at once, and reads good values with their types.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "util.h"

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/ra-test-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Load TEXT; returns the errors text (or NULL when it loaded). */
static char *load_errors(const char *text, config_t **out)
{
	char *path = write_tmp(text), *errors = NULL;
	config_t *cfg = config_load(path, &errors);
	unlink(path);
	free(path);
	if (out)
		*out = cfg;
	else
		config_destroy(&cfg);
	return errors;
}

static void defaults_without_file(void **state)
{
	(void)state;
	char *errors = NULL;
	config_t *cfg = config_load(NULL, &errors);
	assert_non_null(cfg);
	assert_int_equal(config_int(cfg, "signer.validity_days"), 365);
	assert_int_equal(config_int(cfg, "signer.min_rsa_bits"), 2048);
	assert_true(config_bool(cfg, "intake.second_keying.registration"));
	config_destroy(&cfg);
	assert_null(cfg);
}

static void good_values_read(void **state)
{
	(void)state;
	config_t *cfg = NULL;
	char *errors = load_errors("queue:\n  lease_ms: 2000\n  max_attempts: 3\nsigner:\n  seccomp: false\n"
	    "worker:\n  signer_timeout_ms: 400\n  cardkey_timeout_ms: 400\n", &cfg);
	assert_null(errors);
	assert_int_equal(config_int(cfg, "queue.lease_ms"), 2000);
	assert_int_equal(config_int(cfg, "queue.max_attempts"), 3);
	assert_false(config_bool(cfg, "signer.seccomp"));
	config_destroy(&cfg);
}

/* The defaults agree: the lease covers what a worker may wait within one job. */
static void default_lease_covers_a_job(void **state)
{
	(void)state;
	config_t *cfg = NULL;
	char *errors = NULL;

	cfg = config_load(NULL, &errors);
	assert_non_null(cfg);
	assert_null(errors);
	assert_true(config_int(cfg, "queue.lease_ms") >= config_job_wait_ms(cfg));
	assert_true(config_job_wait_ms(cfg) >= 4 * config_int(cfg, "worker.signer_timeout_ms") +
	    config_int(cfg, "worker.cardkey_timeout_ms"));
	config_destroy(&cfg);
}

/* A lease shorter than four signer calls and one ra-cardkey call is refused, naming the keys. */
static void short_lease_refused(void **state)
{
	(void)state;
	config_t *cfg = NULL;
	char *e = load_errors("queue:\n  lease_ms: 15000\n", &cfg);

	assert_null(cfg);
	assert_non_null(e);
	assert_non_null(strstr(e, "queue.lease_ms (15000) is shorter than a worker may wait within one job"));
	assert_non_null(strstr(e, "4 x worker.signer_timeout_ms (10000) + 1 x worker.cardkey_timeout_ms (10000) = 50000 ms"));
	free(e);
	/* exactly enough is enough; a millisecond less is not */
	e = load_errors("queue:\n  lease_ms: 2000\nworker:\n  signer_timeout_ms: 400\n  cardkey_timeout_ms: 400\n", &cfg);
	assert_null(e);
	config_destroy(&cfg);
	e = load_errors("queue:\n  lease_ms: 1999\nworker:\n  signer_timeout_ms: 400\n  cardkey_timeout_ms: 400\n", &cfg);
	assert_null(cfg);
	assert_non_null(e);
	assert_non_null(strstr(e, "queue.lease_ms (1999)"));
	free(e);
	/* a slower ra-cardkey alone is enough to refuse it */
	e = load_errors("queue:\n  lease_ms: 2000\nworker:\n  signer_timeout_ms: 400\n  cardkey_timeout_ms: 401\n", &cfg);
	assert_null(cfg);
	assert_non_null(e);
	assert_non_null(strstr(e, "worker.cardkey_timeout_ms (401)"));
	free(e);
}

/* A call's tries end to end never take longer than its timeout. */
static void call_plan_within_timeout(void **state)
{
	static const long long timeouts[] = { 100, 300, 999, 1000, 1999, 2000, 2500, 2999, 3000, 10000, 600000 };
	(void)state;

	for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
		int tries = 0, per_try = 0;
		config_call_plan(timeouts[i], &tries, &per_try);
		assert_true(tries >= 1 && tries <= 3);
		assert_true(per_try >= 1);
		assert_true((long long)tries * per_try <= timeouts[i]);
		assert_true(per_try >= 1000 || tries == 1);
	}
}

static void unknown_key_has_line_and_column(void **state)
{
	(void)state;
	char *e = load_errors("queue:\n  lease_ms: 2000\n  lease_msec: 3\n", NULL);
	assert_non_null(e);
	assert_non_null(strstr(e, ":3:15: unknown key 'queue.lease_msec'"));
	free(e);
}

static void wrong_type_and_range(void **state)
{
	(void)state;
	char *e = load_errors("signer:\n  validity_days: ten\n  min_rsa_bits: 1024\n  seccomp: maybe\n", NULL);
	assert_non_null(e);
	assert_non_null(strstr(e, ":2:18: signer.validity_days: 'ten' is not a whole number"));
	assert_non_null(strstr(e, ":3:17: signer.min_rsa_bits: '1024' is out of range (2048..16384)"));
	assert_non_null(strstr(e, ":4:12: signer.seccomp: 'maybe' is not true or false"));
	free(e);
}

static void all_errors_at_once(void **state)
{
	(void)state;
	char *e = load_errors("nosuch: 1\nqueue:\n  bogus: 2\nsigner:\n  validity_days: -5\n", NULL);
	int lines = 0;
	assert_non_null(e);
	for (char *p = e; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
	free(e);
}

static void syntax_error_position(void **state)
{
	(void)state;
	char *e = load_errors("queue:\n  lease_ms: [1, 2\n", NULL);
	assert_non_null(e);
	assert_non_null(strstr(e, "YAML syntax"));
	assert_non_null(strstr(e, ":3:"));
	free(e);
}

static void section_and_list_misuse(void **state)
{
	(void)state;
	char *e = load_errors("queue: 5\nsigner:\n  crl_url: [a, b]\n", NULL);
	assert_non_null(e);
	assert_non_null(strstr(e, ":1:8: 'queue' is a section"));
	assert_non_null(strstr(e, ":3:12: signer.crl_url: a list is not allowed here"));
	free(e);
}

static void missing_file(void **state)
{
	(void)state;
	char *errors = NULL;
	config_t *cfg = config_load("/nonexistent/ra.yaml", &errors);
	assert_null(cfg);
	assert_non_null(strstr(errors, "/nonexistent/ra.yaml:0:0: cannot open"));
	free(errors);
}

static void paths_hang_from_home(void **state)
{
	(void)state;
	config_t *cfg = NULL;
	char *errors = load_errors("home: /srv/ra\nqueue:\n  db: data/ra.db\nkeys_dir: /etc/ra/keys\n", &cfg);
	char *p;
	assert_null(errors);
	p = config_path(cfg, "queue.db");
	assert_string_equal(p, "/srv/ra/data/ra.db");
	free(p);
	p = config_path(cfg, "keys_dir");
	assert_string_equal(p, "/etc/ra/keys");
	free(p);
	config_destroy(&cfg);
}

static void bad_log_level(void **state)
{
	(void)state;
	char *e = load_errors("log_level: loud\n", NULL);
	assert_non_null(e);
	assert_non_null(strstr(e, "log_level 'loud'"));
	free(e);
}

/* Each log line names the process that wrote it, a forked child its own: log.c keeps the
 * process id rather than asking for it per line. */
static void log_lines_name_their_process(void **state)
{
	int fds[2], saved;
	char buf[1024], want[80];
	ssize_t n;
	size_t got = 0;
	pid_t child;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	saved = dup(2);
	assert_true(saved >= 0);
	log_init("test_config", LV_INFO);
	assert_true(dup2(fds[1], 2) >= 0);
	log_info("from the parent");
	child = fork();
	if (child == 0) {
		log_info("from the child");
		_exit(0);
	}
	waitpid(child, NULL, 0);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	log_init("test_config", LV_ERR);
	while (got < sizeof buf - 1 && (n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	buf[got] = '\0';
	assert_true(child > 0);
	snprintf(want, sizeof want, "test_config[%d] info: from the parent", (int)getpid());
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof want, "test_config[%d] info: from the child", (int)child);
	assert_non_null(strstr(buf, want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_without_file),
		cmocka_unit_test(good_values_read),
		cmocka_unit_test(default_lease_covers_a_job),
		cmocka_unit_test(short_lease_refused),
		cmocka_unit_test(call_plan_within_timeout),
		cmocka_unit_test(unknown_key_has_line_and_column),
		cmocka_unit_test(wrong_type_and_range),
		cmocka_unit_test(all_errors_at_once),
		cmocka_unit_test(syntax_error_position),
		cmocka_unit_test(section_and_list_misuse),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(paths_hang_from_home),
		cmocka_unit_test(bad_log_level),
		cmocka_unit_test(log_lines_name_their_process),
	};
	log_init("test_config", LV_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
