/*
 * config_keys.c: every configuration key the RA knows, its type, embedded default and
 * range. One table for all programs, so that one file can configure a whole deployment
 * and a misspelt key is an error wherever it appears. Paths are relative to `home`.
 */
#include "config.h"

#define I64MAX 9223372036854775807LL

const struct cfg_key cfg_keys[] = {
	/* deployment */
	{ "home", CFG_STR, ".", 0, 0, "deployment folder; relative paths hang from it (relative: to the config file's folder)" },
	{ "log_level", CFG_STR, "info", 0, 0, "error, warn, info or debug" },
	{ "language", CFG_STR, "en", 0, 0, "operators' language: en or zh-TW" },
	{ "keys_dir", CFG_PATH, "keys", 0, 0, "CURVE key pairs: queue.key, signer.key, clients/, workers/" },

	/* ra-queue */
	{ "queue.db", CFG_PATH, "ra.db", 0, 0, "the ledger (SQLite, WAL)" },
	{ "queue.endpoint", CFG_STR, "ipc://run/queue.sock", 0, 0, "producers connect here (ipc:// paths are relative to home)" },
	{ "queue.worker_endpoint", CFG_STR, "ipc://run/workers.sock", 0, 0, "workers connect here" },
	{ "queue.lease_ms", CFG_INT, "60000", 500, 86400000, "a job's lease; expired leases are dispatched again. At least 4 x worker.signer_timeout_ms + worker.cardkey_timeout_ms (what a worker may wait within one job)" },
	{ "queue.heartbeat_ms", CFG_INT, "1000", 50, 60000, "worker and queue heartbeat interval" },
	{ "queue.liveness", CFG_INT, "5", 2, 100, "missed heartbeats before a peer is presumed dead" },
	{ "queue.max_attempts", CFG_INT, "5", 1, 1000, "attempts before a job is parked as failed" },
	{ "queue.retry_backoff_ms", CFG_INT, "500", 0, 3600000, "first retry delay; doubles each attempt" },

	/* ra-worker */
	{ "worker.kinds", CFG_STR, "all", 0, 0, "comma-separated job kinds this worker takes, or all" },
	{ "worker.signer_timeout_ms", CFG_INT, "10000", 100, 600000, "how long a worker waits for one answer of ca-signer, all tries included" },

	/* ca-signer */
	{ "signer.db", CFG_PATH, "signer/signer.db", 0, 0, "the signer's own database and journal" },
	{ "signer.endpoint", CFG_STR, "ipc://run/signer.sock", 0, 0, "workers connect here" },
	{ "signer.key", CFG_PATH, "signer/ca.key", 0, 0, "the CA private key (encrypted PEM)" },
	{ "signer.key_passphrase_file", CFG_PATH, "signer/ca.pass", 0, 0, "file holding the key's passphrase; empty: prompt" },
	{ "signer.pkcs11_module", CFG_STR, "", 0, 0, "PKCS#11 module; when set the key is signer.pkcs11_uri" },
	{ "signer.pkcs11_uri", CFG_STR, "", 0, 0, "pkcs11: URI of the CA key" },
	{ "signer.pkcs11_pin_file", CFG_PATH, "", 0, 0, "file holding the token's user PIN" },
	{ "signer.cert", CFG_PATH, "signer/ca.pem", 0, 0, "the CA certificate" },
	{ "signer.validity_days", CFG_INT, "365", 1, 3650, "subscriber certificate validity" },
	{ "signer.min_rsa_bits", CFG_INT, "2048", 2048, 16384, "smallest RSA key accepted" },
	{ "signer.max_rsa_bits", CFG_INT, "4096", 2048, 16384, "largest RSA key accepted" },
	{ "signer.crl_url", CFG_STR, "http://ra.example.gov.tw/crl/ra.crl", 0, 0, "CRL distribution point written in certificates" },
	{ "signer.ocsp_url", CFG_STR, "", 0, 0, "OCSP responder written in AIA (empty: none)" },
	{ "signer.ca_issuers_url", CFG_STR, "http://ra.example.gov.tw/ca.crt", 0, 0, "CA issuers URL written in AIA" },
	{ "signer.policy_oid", CFG_STR, "2.16.886.101.20003.20065.1.1", 0, 0, "certificate policy OID" },
	{ "signer.cps_url", CFG_STR, "http://ra.example.gov.tw/cps", 0, 0, "certification practice statement, a CPS qualifier of the policy (empty: none)" },
	{ "signer.subject_c", CFG_STR, "TW", 0, 0, "countryName of subscriber subjects" },
	{ "signer.subject_o", CFG_STR, "Intellectual Property Office e-Filing", 0, 0, "organizationName of subscriber subjects" },
	{ "signer.crl_dir", CFG_PATH, "crl", 0, 0, "where CRLs (DER and PEM) and the issued list for ra-ocsp are published" },
	{ "signer.crl_next_update_hours", CFG_INT, "24", 1, 8760, "nextUpdate of complete (base) CRLs; a new base at half of it" },
	{ "signer.delta_crl_url", CFG_STR, "http://ra.example.gov.tw/crl/ra-delta.crl", 0, 0, "delta CRL URL (Freshest CRL in certificates and base CRLs); empty: no delta CRLs" },
	{ "signer.delta_next_update_minutes", CFG_INT, "60", 1, 10080, "nextUpdate of delta CRLs; a delta after each status change and at half of it" },
	{ "signer.user", CFG_STR, "", 0, 0, "drop privileges to this user after loading the key (empty: stay)" },
	{ "signer.seccomp", CFG_BOOL, "true", 0, 0, "apply the seccomp filter after start-up" },
	/* ra-cardkey: the card master key's holder (cardkey/) */
	{ "cardkey.endpoint", CFG_STR, "ipc://run/cardkey.sock", 0, 0, "workers ask ra-cardkey here for the card operations' challenges and sealed PUKs" },
	{ "cardkey.user", CFG_STR, "", 0, 0, "drop privileges to this user after loading the master key (empty: stay)" },
	{ "cardkey.seccomp", CFG_BOOL, "true", 0, 0, "apply the seccomp filter after start-up" },
	{ "cardkey.dir", CFG_PATH, "cardkey", 0, 0, "ra-cardkey's own folder, the only one it writes in: its metrics file (linked from metrics.dir)" },
	{ "worker.cardkey_timeout_ms", CFG_INT, "10000", 100, 600000, "how long a worker waits for one answer of ra-cardkey, all tries included" },
	{ "users.cardkey", CFG_STR, "", 0, 0, "Unix user ra-ctl up starts ra-cardkey as (--users: ra-cardkey)" },
	{ "users.signer", CFG_STR, "", 0, 0, "Unix user ra-ctl up starts ca-signer as (ra-ctl init --users: ra-signer; empty: ra-ctl's own)" },
	{ "users.queue", CFG_STR, "", 0, 0, "Unix user of ra-queue and the workers (--users: ra-queue)" },
	{ "users.notifier", CFG_STR, "", 0, 0, "Unix user of ra-notifier (--users: ra-notifier)" },

	/* metrics: every program's Prometheus textfile (docs/OPERATIONS.md) */
	{ "metrics.dir", CFG_PATH, "metrics", 0, 0, "each program writes PROGRAM.prom here (node-exporter's textfile collector directory)" },
	{ "metrics.interval_ms", CFG_INT, "15000", 100, 3600000, "how often the daemons write their metrics file" },

	/* officers: section kept by the officer code (lib/officer.c, tools/ctl_officer.c) */
	{ "officers.ca_cert", CFG_PATH, "officers/ca.pem", 0, 0, "the officer CA certificate: officers' credentials must chain to it" },
	{ "officers.ca_key", CFG_PATH, "officers/ca.key", 0, 0, "the officer CA key (encrypted PEM; passphrase: the first administrator's, given at init)" },
	{ "officers.credentials_dir", CFG_PATH, "officers", 0, 0, "where an officer's credential ID.pem is looked for when --credential is not given" },

	/* ra-intake */
	{ "intake.second_keying.registration", CFG_BOOL, "true", 0, 0, "registration forms need a blind second keying" },
	{ "intake.second_keying.revocation", CFG_BOOL, "true", 0, 0, "revocation forms need a blind second keying" },
	{ "intake.second_keying.resume", CFG_BOOL, "true", 0, 0, "resume forms need a blind second keying" },
	{ "intake.second_keying.password_reset", CFG_BOOL, "true", 0, 0, "password-reset forms need a blind second keying" },
	{ "intake.second_keying.change", CFG_BOOL, "true", 0, 0, "change forms (phone, address, contact person) need a blind second keying" },
	{ "intake.wait_ms", CFG_INT, "30000", 100, 3600000, "how long ra-intake waits for a job's answer before telling the clerk to look later" },

	/* accounts and secrets */
	{ "accounts.password_length", CFG_INT, "12", 8, 64, "generated website password length" },
	{ "accounts.max_failures", CFG_INT, "3", 1, 100, "wrong passwords before the account locks" },
	{ "accounts.argon2_t", CFG_INT, "3", 1, 100, "argon2id passes" },
	{ "accounts.argon2_m_kib", CFG_INT, "65536", 8, 4194304, "argon2id memory in KiB" },
	{ "accounts.source_free_failures", CFG_INT, "5", 1, 1000, "wrong passwords from one source before it must wait" },
	{ "audit.checkpoint_rows", CFG_INT, "1000", 1, 100000000, "have ca-signer sign the audit chain's head after this many new rows" },
	{ "audit.checkpoint_s", CFG_INT, "3600", 1, 31536000, "...or when this many seconds have passed since the last checkpoint (and rows were added)" },
	{ "accounts.source_wait_s", CFG_INT, "1", 1, 3600, "first wait of a source after too many wrong passwords; doubles each time (seconds)" },
	{ "accounts.source_max_wait_s", CFG_INT, "900", 1, 86400, "longest wait of a source after wrong passwords (seconds)" },
	{ "accounts.source_forget_s", CFG_INT, "3600", 60, 604800, "a source quiet this long starts counting from zero (seconds)" },
	{ "sheets.public_key", CFG_PATH, "keys/sheets.pub", 0, 0, "the notifier's sheet key (X25519, PEM): secrets are sealed to it" },
	{ "sheets.private_key", CFG_PATH, "keys/sheets.key", 0, 0, "the notifier's sheet private key (PEM, encrypted)" },
	{ "sheets.private_key_passphrase_file", CFG_PATH, "keys/sheets.pass", 0, 0, "passphrase of the sheet private key" },
	{ "cards.master_key_file", CFG_PATH, "keys/card-master.key", 0, 0, "master key the cards' PUK and management keys derive from" },

	/* ra-notifier: section kept by the notifier's code */
	{ "notifier.smtp_url", CFG_STR, "", 0, 0, "SMTP relay, e.g. smtp://relay.example:587 (empty: write .eml files to notifier.outbox)" },
	{ "notifier.smtp_starttls", CFG_BOOL, "true", 0, 0, "require STARTTLS on the SMTP connection" },
	{ "notifier.smtp_cainfo", CFG_PATH, "", 0, 0, "CA bundle that verifies the relay's certificate (empty: system store)" },
	{ "notifier.smtp_user", CFG_STR, "", 0, 0, "SMTP AUTH user name (empty: no AUTH)" },
	{ "notifier.smtp_password_file", CFG_PATH, "", 0, 0, "file holding the SMTP AUTH password" },
	{ "notifier.smtp_timeout_s", CFG_INT, "30", 1, 600, "SMTP connect and transfer timeout" },
	{ "notifier.smtp_connections", CFG_INT, "4", 1, 64, "SMTP connections to the relay at once, each sending one message at a time" },
	{ "notifier.outbox", CFG_PATH, "outbox", 0, 0, "where .eml files go when no SMTP relay is set" },
	/* the service's contact details, on every mail and sheet */
	{ "service.phone", CFG_STR, "(02) 2345-6789", 0, 0, "service telephone printed on every mail and sheet" },
	{ "service.website", CFG_STR, "https://ra.example.gov.tw", 0, 0, "service website printed on every mail and sheet" },
	{ "service.hours", CFG_STR, "週一至週五 08:30–17:30", 0, 0, "opening hours, in Traditional Chinese" },
	{ "service.hours_en", CFG_STR, "Monday to Friday, 08:30–17:30", 0, 0, "opening hours, in English" },
	{ "notifier.from", CFG_STR, "RA <ra@ra.example.gov.tw>", 0, 0, "sender of every mail: Display Name <address>" },
	{ "notifier.admin_address", CFG_STR, "ra-admin@ra.example.gov.tw", 0, 0, "receives each run's summary (empty: no summary)" },
	{ "notifier.templates_dir", CFG_PATH, "config/templates", 0, 0, "mail templates, one folder per language (zh-TW, en)" },
	{ "notifier.default_language", CFG_STR, "zh-TW", 0, 0, "language of mails when the subscriber has none" },
	{ "notifier.notice_days", CFG_INT, "30", 1, 365, "first renewal notice this many days before not_after" },
	{ "notifier.second_notice_days", CFG_INT, "0", 0, 364, "second renewal notice this many days before not_after (0: off)" },
	{ "notifier.retry_days", CFG_INT, "1", 0, 30, "first retry of a failed mail after this many days; doubles each attempt (0: next run)" },
	{ "notifier.undeliverable_after_days", CFG_INT, "7", 1, 365, "a mail still failing this long after its first try is reported undeliverable" },
	{ "notifier.sheets_dir", CFG_PATH, "sheets", 0, 0, "printed sheet batches (PDF) and their CSV manifests" },
	{ "notifier.reprint_window_hours", CFG_INT, "24", 0, 720, "a PIN sheet can be reprinted this long after it was produced; print files still there afterwards are shredded" },
	{ "notifier.font", CFG_STR, "WenQuanYi Micro Hei", 0, 0, "font family of the sheets (must cover Traditional Chinese)" },
	{ "notifier.return_address", CFG_STR, "10055 臺北市中正區某某路1號 憑證註冊中心", 0, 0, "sender line printed above the envelope window" },
	{ "notifier.pdf_password_rule", CFG_STR, "id_number", 0, 0, "opening password of e-mailed sheets: id_number (the national id or business number, letters in capitals) or id4-postal (its last 4 characters, then the postal code)" },
	{ "notifier.pdf_owner_password_file", CFG_PATH, "keys/pdf-owner.pass", 0, 0, "owner password of e-mailed sheets (missing: a random one per file)" },

	/* lifecycle and accounts: section kept by the lifecycle code (workers/job_revoke.c ... job_account.c, intake/ra-self.c) */
	{ "workers.seal_public_key", CFG_PATH, "keys/worker-seal.pub", 0, 0, "workers' X25519 key (PEM): producers seal subscribers' passwords to it" },
	{ "workers.seal_private_key", CFG_PATH, "keys/worker-seal.key", 0, 0, "workers' sealing private key (PEM, encrypted)" },
	{ "workers.seal_passphrase_file", CFG_PATH, "keys/worker-seal.pass", 0, 0, "passphrase of the workers' sealing private key" },
	{ "accounts.min_length", CFG_INT, "10", 8, 64, "password policy: shortest website password a subscriber may choose" },
	{ "accounts.min_classes", CFG_INT, "3", 1, 4, "password policy: character classes needed (lower, upper, digit, other)" },
	{ "renewal.window_days", CFG_INT, "30", 1, 365, "renewal opens this many days before the certificates expire" },
	{ "self.wait_ms", CFG_INT, "30000", 100, 3600000, "how long ra-self waits for a job's answer" },
	{ "ocsp.listen", CFG_STR, "127.0.0.1:8089", 0, 0, "ra-ocsp listens here (address:port), HTTP POST as RFC 6960 A.1" },
	{ "ocsp.key", CFG_PATH, "keys/ocsp.key", 0, 0, "the OCSP responder's signing key (PEM, encrypted)" },
	{ "ocsp.key_passphrase_file", CFG_PATH, "keys/ocsp.pass", 0, 0, "passphrase of the OCSP responder's key" },
	{ "ocsp.cert", CFG_PATH, "keys/ocsp.pem", 0, 0, "the OCSP responder's certificate (id-kp-OCSPSigning, issued by the CA)" },
	{ "ocsp.refresh_seconds", CFG_INT, "1800", 10, 86400, "a signed answer is kept and served again at most this long (sooner if the status changes)" },
	{ "ocsp.threads", CFG_INT, "0", 0, 16, "serving threads, each with its own kept answers (0: one per core)" },
	{ "ocsp.cache_entries", CFG_INT, "200000", 0, 10000000, "signed answers kept (0: sign every answer)" },

	/* ra-web: section kept by web/ (the subscriber's website and the RA's HTTP front door) */
	{ "web.listen", CFG_STR, "127.0.0.1:8443", 0, 0, "ra-web listens here (IPv4 address:port)" },
	{ "web.tls", CFG_BOOL, "true", 0, 0, "serve HTTPS (web.tls_cert, web.tls_key); false: plain HTTP on a loopback address only, behind a TLS reverse proxy" },
	{ "web.tls_cert", CFG_PATH, "keys/web.pem", 0, 0, "the website's TLS certificate chain (PEM)" },
	{ "web.tls_key", CFG_PATH, "keys/web.key", 0, 0, "the website's TLS private key (PEM, unencrypted: keep it 0600, owned by ra-web's user)" },
	{ "web.trusted_proxy", CFG_STR, "", 0, 0, "address of the reverse proxy whose X-Forwarded-For names the client (empty: none)" },
	{ "web.threads", CFG_INT, "4", 1, 64, "worker threads serving requests (each waits for the back office on its own)" },
	{ "web.max_sessions", CFG_INT, "10000", 16, 1000000, "sessions held at once; the oldest idle one goes first" },
	{ "web.session_idle_s", CFG_INT, "600", 30, 86400, "a session unused this long ends" },
	{ "web.session_max_s", CFG_INT, "3600", 60, 604800, "a session ends this long after login, used or not" },
	{ "web.rate_per_minute", CFG_INT, "60", 1, 100000, "requests a minute from one source (client address) before 429" },
	{ "web.rate_burst", CFG_INT, "30", 1, 100000, "requests one source may make at once before the rate applies" },
	{ "web.api_token_file", CFG_PATH, "", 0, 0, "bearer token of the site that calls the JSON API for subscribers (empty: that part of the API is off)" },
	{ "web.agent_origin", CFG_STR, "http://127.0.0.1:8455", 0, 0, "origin of the subscriber's local card agent that the card pages call" },
	{ "web.test_code", CFG_STR, "", 0, 0, "TESTS ONLY: every verification code is this text; refused unless ra-web runs with --insecure-test" },
	{ "web.wait_ms", CFG_INT, "20000", 100, 3600000, "how long ra-web waits for a job's answer" },

	/* card-station: section kept by the card station's code */
	{ "card_station.mgm_key_alg", CFG_STR, "aes128", 0, 0, "algorithm of the cards' derived management keys: aes128 or 3des" },
	{ "card_station.puk_retries", CFG_INT, "3", 1, 15, "PUK retry limit personalize sets (the PIN's is 3); a card that will not take it is refused" },
	{ "card_station.pin_length", CFG_INT, "8", 6, 8, "digits of the subscriber PINs personalize generates" },
	{ "card_station.issue_timeout_ms", CFG_INT, "300000", 1000, 86400000, "how long personalize waits for a card's certificates before giving its order back" },
	{ "card_station.wait_ms", CFG_INT, "30000", 100, 3600000, "how long card-station waits for the back office's answer" },

	/* card-agent: the subscriber's local card service (its own small file on the subscriber's PC) */
	{ "agent.port", CFG_INT, "8455", 1, 65535, "card-agent listens on 127.0.0.1 on this port (the website's web.agent_origin names it)" },
	{ "agent.origins", CFG_STR, "", 0, 0, "space-separated origins (https://host[:port]) whose pages the agent answers; empty: none" },
	{ "agent.ra_web", CFG_STR, "https://127.0.0.1:8443", 0, 0, "the RA website the agent relays the card operations through (https://host[:port])" },
	{ "agent.ra_web_ca", CFG_PATH, "", 0, 0, "CA certificate(s) that sign the RA website's TLS certificate; empty: the system's" },
	{ "agent.pinentry", CFG_STR, "pinentry", 0, 0, "the pinentry program that asks the subscriber (Assuan protocol, as GnuPG's)" },
	{ "agent.reader", CFG_STR, "", 0, 0, "part of the reader's name; empty: the one reader with a card in it" },
	{ "agent.mgm_key_alg", CFG_STR, "aes128", 0, 0, "algorithm of the cards' management keys: aes128 or 3des (as the RA's card_station.mgm_key_alg)" },
	{ "agent.export_dir", CFG_PATH, "card-export", 0, 0, "folder the export operation writes the certificates and the CA chain into" },
	{ "agent.wait_ms", CFG_INT, "60000", 1000, 600000, "how long the agent waits for the RA website's answer to one step" },
};

const size_t cfg_nkeys = sizeof cfg_keys / sizeof cfg_keys[0];
