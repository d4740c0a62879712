/*
 * schema.c: the ledger's schema (ra.db) as an ordered list of migrations.
 *
 * Rules: a migration, once landed, is never edited; changes are new entries appended at
 * the end. PRAGMA user_version records how many have run; db_open() runs the rest, each
 * in its own transaction. Times are seconds since the epoch from ra_now() unless the
 * column name ends in _ms (wall-clock milliseconds, used for leases).
 */
#include "db.h"

const char *const db_migrations[] = {
	/* 1: the queue, forms, subscribers, accounts, card orders, certificates, sheets, audit */
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  idem_key TEXT UNIQUE,"
	"  payload TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','leased','done','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  lease_token INTEGER NOT NULL DEFAULT 0,"
	"  lease_until_ms INTEGER,"
	"  worker TEXT,"
	"  not_before_ms INTEGER NOT NULL DEFAULT 0,"
	"  result TEXT,"
	"  error TEXT,"
	"  submitted_by TEXT,"
	"  parent INTEGER REFERENCES jobs(id),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX jobs_ready ON jobs(state, not_before_ms);"
	"CREATE INDEX jobs_kind ON jobs(kind, state);"

	"CREATE TABLE forms ("
	"  serial TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  content TEXT NOT NULL,"	/* canonical JSON (lib/form.c) */
	"  digest TEXT NOT NULL,"	/* SHA-256 hex of content */
	"  state TEXT NOT NULL CHECK (state IN ('keyed','verified','approved','done','rejected')),"
	"  keyed_by TEXT NOT NULL,"
	"  verified_by TEXT,"
	"  approved_by TEXT,"
	"  approve_job INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"

	"CREATE TABLE subscribers ("
	"  id INTEGER PRIMARY KEY,"
	"  form_serial TEXT NOT NULL UNIQUE,"
	"  applicant_type TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  id_number TEXT NOT NULL,"	/* national id or unified business number */
	"  contact_person TEXT,"
	"  email TEXT NOT NULL,"
	"  phone TEXT,"
	"  postal_code TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  language TEXT NOT NULL DEFAULT 'zh-TW',"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX subscribers_id_number ON subscribers(id_number);"

	"CREATE TABLE accounts ("
	"  id TEXT PRIMARY KEY,"
	"  subscriber_id INTEGER NOT NULL UNIQUE REFERENCES subscribers(id),"
	"  pw_hash TEXT NOT NULL,"	/* argon2id encoded */
	"  prev_hash TEXT,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  locked INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"

	"CREATE TABLE orders ("
	"  id INTEGER PRIMARY KEY,"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),"
	"  form_serial TEXT NOT NULL,"
	"  purpose TEXT NOT NULL DEFAULT 'new' CHECK (purpose IN ('new','renewal')),"
	"  state TEXT NOT NULL CHECK (state IN ('approved','claimed','issued','personalized','cancelled')),"
	"  card_serial TEXT,"
	"  station TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX orders_state ON orders(state, id);"
	"CREATE INDEX orders_card ON orders(card_serial);"

	"CREATE TABLE certificates ("
	"  serial TEXT PRIMARY KEY,"	/* lower-case hex, as the signer made it */
	"  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),"
	"  order_id INTEGER REFERENCES orders(id),"
	"  usage TEXT NOT NULL CHECK (usage IN ('signature','encryption')),"
	"  subject TEXT NOT NULL,"
	"  not_before INTEGER NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid','revoked','held')),"
	"  reason TEXT,"
	"  request_id TEXT NOT NULL UNIQUE,"
	"  job_id INTEGER NOT NULL REFERENCES jobs(id),"
	"  pem TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX certificates_expiry ON certificates(not_after);"
	"CREATE INDEX certificates_subscriber ON certificates(subscriber_id, usage);"

	"CREATE TABLE sheets ("
	"  id INTEGER PRIMARY KEY,"
	"  serial TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('password','pin')),"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),"
	"  account_id TEXT,"
	"  order_id INTEGER REFERENCES orders(id),"
	"  reason TEXT NOT NULL CHECK (reason IN ('registration','resume','reset','personalization')),"
	"  delivery TEXT NOT NULL CHECK (delivery IN ('post','counter','electronic')),"
	"  sealed BLOB,"		/* the secret sealed to the sheet key; NULL once produced */
	"  state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting','produced','cancelled')),"
	"  batch TEXT,"
	"  produced_at INTEGER,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX sheets_waiting ON sheets(state, kind);"

	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  before TEXT,"
	"  after TEXT,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",

	/* New migrations go below this line, one string each. */

	/* 2 (notifier): the notice ledger, the certificates each notice covered, sheet batches */
	"CREATE TABLE notices ("
	"  id INTEGER PRIMARY KEY,"
	"  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),"
	"  kind TEXT NOT NULL,"		/* renewal, renewal2, revocation, suspension, resume, sheet */
	"  topic TEXT NOT NULL,"		/* what the notice is about: an expiry, an event, a sheet */
	"  recipient TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sent','undeliverable')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL,"
	"  first_try INTEGER,"
	"  sent_at INTEGER,"
	"  message_id TEXT,"
	"  smtp_reply TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (subscriber_id, topic, kind));"
	"CREATE INDEX notices_due ON notices(state, next_try);"
	"CREATE TABLE notice_certificates ("
	"  notice_id INTEGER NOT NULL REFERENCES notices(id),"
	"  serial TEXT NOT NULL REFERENCES certificates(serial),"
	"  kind TEXT NOT NULL,"
	"  PRIMARY KEY (serial, kind));"
	"CREATE TABLE sheet_batches ("
	"  name TEXT PRIMARY KEY,"
	"  delivery TEXT NOT NULL,"
	"  sheets INTEGER NOT NULL,"
	"  pdf TEXT,"
	"  manifest TEXT,"
	"  officer TEXT,"
	"  created_at INTEGER NOT NULL);",

	/* 3 (notifier): the last certificate status each subscriber was told about */
	"CREATE TABLE notice_status ("
	"  serial TEXT PRIMARY KEY REFERENCES certificates(serial),"
	"  status TEXT NOT NULL,"
	"  notice_id INTEGER REFERENCES notices(id));",

	/* 4: every change of a certificate's status is an event, whoever makes it (a trigger,
	 * in the changing transaction), so the notifier confirms each suspension and resume
	 * even when both happen between two of its runs, and reads only what is new. */
	"CREATE TABLE status_events ("
	"  id INTEGER PRIMARY KEY,"
	"  serial TEXT NOT NULL REFERENCES certificates(serial),"
	"  status TEXT NOT NULL,"
	"  reason TEXT,"
	"  at INTEGER NOT NULL);"
	"CREATE TRIGGER certificates_status_event AFTER UPDATE OF status ON certificates"
	"  WHEN new.status <> old.status BEGIN"
	"  INSERT INTO status_events (serial, status, reason, at)"
	"  VALUES (new.serial, new.status, new.reason, CAST(strftime('%s', 'now') AS INTEGER)); END;"
	"CREATE TABLE notifier_cursor ("
	"  name TEXT PRIMARY KEY,"
	"  position INTEGER NOT NULL);"
	"CREATE TABLE notice_events ("
	"  event_id INTEGER PRIMARY KEY REFERENCES status_events(id),"
	"  notice_id INTEGER NOT NULL REFERENCES notices(id));"
	"CREATE INDEX notice_events_notice ON notice_events(notice_id);",

	/* 5: confirmations come from status_events now; the last-status table is read by nothing */
	"DROP TABLE notice_status;",

	/* 6: the officer registry. An officer acts by signing with the credential whose
	 * certificate is recorded here (serial upper-case hex); a disabled officer's
	 * signatures are refused. */
	"CREATE TABLE officers ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('clerk','supervisor','operator','admin')),"
	"  cert_serial TEXT NOT NULL UNIQUE,"
	"  cert_pem TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);",

	/* 7: idempotency keys are scoped by submitter and kind (lib/jobs.c) */
	"UPDATE jobs SET idem_key = coalesce(submitted_by, '') || '/' || kind || '/' || idem_key"
	"  WHERE idem_key IS NOT NULL;",

	/* 8: wrong passwords for account ids that do not exist, and per source (account_guard.c) */
	"CREATE TABLE auth_failures ("
	"  subject TEXT PRIMARY KEY,"	/* account:<id> (no such account) or source:<producer>/<tag> */
	"  failures INTEGER NOT NULL,"
	"  last_at INTEGER NOT NULL);",

	/* 9: the audit hash encoding of each row (lib/audit.c: 1 the first, 2 length-prefixed),
	 * and the chain's head signed at intervals by ca-signer (append-only) */
	"ALTER TABLE audit ADD COLUMN v INTEGER NOT NULL DEFAULT 1;"
	"CREATE TABLE audit_checkpoints ("
	"  seq INTEGER PRIMARY KEY,"
	"  rows INTEGER NOT NULL,"
	"  head TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"	/* the signer's clock */
	"  signature BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints"
	"  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;"
	"CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints"
	"  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;",

	/* 10: the version of each card's derived PUK (lib/derive.c); no row: version 1, the one
	 * personalization sets. An unlock releases it and moves the card to the next. */
	"CREATE TABLE card_puk ("
	"  card_serial TEXT PRIMARY KEY,"
	"  version INTEGER NOT NULL CHECK (version >= 1),"
	"  unlock_job INTEGER REFERENCES jobs(id),"
	"  updated_at INTEGER NOT NULL);",

	/* 11 (counter): a supervisor's rejection of a keyed form, and whom to tell. There is
	 * no subscriber yet for a rejected registration, so the notice is this row: mailed to
	 * EMAIL, or printed as a letter to ADDRESS in a sheet batch when there is no e-mail
	 * (notice_state waiting -> sent | printed). */
	"CREATE TABLE form_rejections ("
	"  serial TEXT PRIMARY KEY REFERENCES forms(serial),"
	"  reason TEXT NOT NULL,"	/* a code of lib/form_reject.c's list */
	"  note TEXT,"			/* the supervisor's free text */
	"  officer TEXT NOT NULL,"
	"  job_id INTEGER NOT NULL REFERENCES jobs(id),"
	"  recipient TEXT,"		/* name, or an organization's contact person */
	"  email TEXT,"
	"  postal_code TEXT,"
	"  address TEXT,"
	"  language TEXT NOT NULL DEFAULT 'zh-TW',"
	"  notice_state TEXT NOT NULL DEFAULT 'waiting' CHECK (notice_state IN ('waiting','sent','printed')),"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX form_rejections_notice ON form_rejections(notice_state);",

	/* 12 (counter): where a sheet goes when its form says so (a resume or reset form names
	 * the recipient, address and e-mail); NULL: the subscriber's registered contact. */
	"ALTER TABLE sheets ADD COLUMN recipient TEXT;"
	"ALTER TABLE sheets ADD COLUMN postal_code TEXT;"
	"ALTER TABLE sheets ADD COLUMN address TEXT;"
	"ALTER TABLE sheets ADD COLUMN email TEXT;",

	/* 13: where each personalized card went (workers/job_dispatch.c): handed over at the
	 * counter, mailed with a tracking number, returned, or returned and set aside */
	"ALTER TABLE orders ADD COLUMN dispatch TEXT"
	"  CHECK (dispatch IN ('counter','mailed','returned','set_aside'));"
	"ALTER TABLE orders ADD COLUMN tracking TEXT;"
	"ALTER TABLE orders ADD COLUMN dispatched_at INTEGER;",

	/* 14 (counter): the postal print batch that carried a rejection letter, and when
	 * (notifier/rejections.c): the letter is printed, shredded and reprinted with it */
	"ALTER TABLE form_rejections ADD COLUMN batch TEXT;"
	"ALTER TABLE form_rejections ADD COLUMN printed_at INTEGER;",

	/* 15: when a job was submitted and when it ended (done or failed), in system-clock
	 * milliseconds (clock_wall_ms): created_at has whole seconds only, too coarse for the
	 * time a job takes (bench/e2e.sh reads its percentiles from these). NULL before. */
	"ALTER TABLE jobs ADD COLUMN created_ms INTEGER;"
	"ALTER TABLE jobs ADD COLUMN finished_ms INTEGER;",

	/* 16 (notifier): the confirmation cursors start at the head of their events, so the
	 * first notices run after an upgrade mails only what changes from then on, not every
	 * past status change and password (notifier/notices.c, passwords.c). A cursor that
	 * exists already stays where it is. */
	"INSERT OR IGNORE INTO notifier_cursor (name, position)"
	"  SELECT 'status', coalesce(max(id), 0) FROM status_events;"
	"INSERT OR IGNORE INTO notifier_cursor (name, position)"
	"  SELECT 'password', coalesce(max(id), 0) FROM audit;",
};

const int db_nmigrations = (int)(sizeof db_migrations / sizeof db_migrations[0]);
