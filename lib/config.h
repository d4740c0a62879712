/*
 * config.h: the one configuration file (config/ra.yaml), read with libyaml.
 *
 * Every key the RA knows is declared once, with its type, embedded default and range,
 * in lib/config_keys.c. A file may set any of them; a key that is not declared, a value
 * of the wrong type or out of range is an error naming file, line and column. All errors
 * are collected and reported at once (each program's --check prints them). With no file
 * at all the embedded defaults make a working single-host deployment.
 *
 * Keys are dotted paths of YAML mappings: "signer.validity_days" is
 *   signer:
 *     validity_days: 365
 */
#ifndef RA_CONFIG_H
#define RA_CONFIG_H

#include <stddef.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_PATH };

struct cfg_key {
	const char *name;	/* dotted path */
	enum cfg_type type;
	const char *def;	/* embedded default, as text */
	long long min, max;	/* for CFG_INT */
	const char *help;	/* one line, shown by `ra-ctl config` */
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

typedef struct config config_t;

/*
 * Load FILE (NULL: embedded defaults only). On error returns NULL and sets *errors to
 * a malloc'd text of one "file:line:col: message" line per problem.
 */
config_t *config_load(const char *file, char **errors);
void config_destroy(config_t **cfg);

/* Typed getters. Asking for an undeclared key or the wrong type is a programming error: fatal. */
const char *config_str(const config_t *cfg, const char *key);
long long config_int(const config_t *cfg, const char *key);
int config_bool(const config_t *cfg, const char *key);
/* A CFG_PATH value made absolute against `home` (itself relative to the file's folder); for
 * a *_passphrase_file, *_password_file or *_pin_file key, $CREDENTIALS_DIRECTORY/NAME
 * instead when that file exists (NAME: the configured file's name; systemd credentials).
 * Caller frees. */
char *config_path(const config_t *cfg, const char *key);
/* The deployment folder every relative path hangs from. */
const char *config_home(const config_t *cfg);
/* The file it came from, or "(defaults)". */
const char *config_file(const config_t *cfg);

/* How a worker asks a peer that may take TIMEOUT_MS (a *_timeout_ms key): *TRIES tries of
 * *PER_TRY_MS each, never more than TIMEOUT_MS in all (config.c). */
void config_call_plan(long long timeout_ms, int *tries, int *per_try_ms);
/* The longest a healthy worker may wait on ca-signer and ra-cardkey within one job. */
long long config_job_wait_ms(const config_t *cfg);
/* NULL if queue.lease_ms covers config_job_wait_ms(), else the malloc'd error naming the
 * keys (config_load refuses such a file). */
char *config_check_lease(const config_t *cfg);

/*
 * Find the config file for a program: the -c argument if given, else $RA_CONFIG, else NULL
 * (embedded defaults). Returns the loaded config or calls fatal() with every error.
 */
config_t *config_open(const char *arg);

#endif
