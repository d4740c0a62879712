/*
 * mail.h: compose Internet mail (RFC 5322 + MIME) and hand it to an SMTP relay or an
 * outbox folder.
 *
 * A message is composed once into bytes; the same bytes go over SMTP or into a .eml file,
 * so what the tests parse from the outbox is what a relay would have received. Every
 * header a relay will not add for us is set here: Date, Message-ID, MIME-Version; subjects
 * and display names are RFC 2047 encoded-words (UTF-8, base64) when not plain ASCII.
 * Bodies are UTF-8, base64 transfer-encoded; text + HTML become multipart/alternative and
 * an attachment wraps that in multipart/mixed.
 *
 * A sender keeps its libcurl handles for its life so that many messages share each SMTP
 * connection (and its TLS handshake). It sends up to mail_conf.connections messages at
 * once, each on its own connection (libcurl's multi interface): mail_submit starts one,
 * mail_done hands back the next that finished with the relay's answer, so that a caller
 * can record each message's fate as soon as it is known.
 */
#ifndef RA_MAIL_H
#define RA_MAIL_H

#include <stddef.h>

typedef struct mail_msg mail_msg_t;
typedef struct mail_sender mail_sender_t;

/* A new, empty message. Never NULL (allocation failure is fatal). */
mail_msg_t *mail_msg_new(void);
void mail_msg_destroy(mail_msg_t **m);

/* Set the sender from "Display Name <addr>" or a bare address. 0, or -1 if malformed. */
int mail_msg_set_from(mail_msg_t *m, const char *mailbox);
/* Add a To recipient; NAME may be NULL or UTF-8. 0, or -1 if ADDR is not an address. */
int mail_msg_add_to(mail_msg_t *m, const char *name, const char *addr);
/* Subject (UTF-8). */
void mail_msg_set_subject(mail_msg_t *m, const char *subject);
/* Plain-text body (UTF-8); required. */
void mail_msg_set_text(mail_msg_t *m, const char *text);
/* HTML alternative (UTF-8); optional. */
void mail_msg_set_html(mail_msg_t *m, const char *html);
/* Attach DATA (copied) as FILENAME with MIME type TYPE (e.g. "application/pdf"). */
void mail_msg_attach(mail_msg_t *m, const char *filename, const char *type,
    const void *data, size_t len);

/* The envelope sender and recipients, as set above (for logs and the ledger). */
const char *mail_msg_from_addr(const mail_msg_t *m);
const char *mail_msg_first_to(const mail_msg_t *m);
/* The Message-ID (without angle brackets), fixed once the message is rendered. */
const char *mail_msg_id(const mail_msg_t *m);
/*
 * Fix the Message-ID (without angle brackets) instead of a random one: a notice sent
 * again after a crash carries the same id, so mail readers can see it is one message.
 */
void mail_msg_set_id(mail_msg_t *m, const char *id);

/*
 * Render the whole message (CRLF line ends). DATE is the Date header's time (the RA
 * clock). Caller frees; *len gets the size. NULL if the message lacks From, To or text.
 */
char *mail_msg_render(mail_msg_t *m, long long date, size_t *len);

/* RFC 2047 encoded-word form of TEXT if it needs one, else a copy. Caller frees. */
char *mail_encode_word(const char *text);
/* Standard base64 of DATA, lines of 76 characters ending CRLF. Caller frees. */
char *mail_base64(const void *data, size_t len);

struct mail_conf {
	const char *smtp_url;	/* smtp://host:port; NULL or "" = outbox mode */
	int starttls;		/* require STARTTLS */
	const char *cainfo;	/* CA file verifying the relay (NULL: system store) */
	const char *user;	/* SMTP AUTH user (NULL: no AUTH) */
	const char *password;	/* SMTP AUTH password (copied, wiped on destroy) */
	long timeout_s;
	int connections;	/* messages in flight at once, one per connection (0: 1) */
	const char *outbox;	/* folder for .eml files in outbox mode */
};

/* A sender for CONF; NULL on failure (logged). */
mail_sender_t *mail_sender_new(const struct mail_conf *conf);
/* Close the connection, wipe the password. Accepts NULL. */
void mail_sender_destroy(mail_sender_t **s);

/*
 * Send M with Date = DATE. 0 if the relay accepted it (or the .eml file is written);
 * -1 otherwise. *reply (if not NULL) gets a malloc'd text for the ledger: the relay's
 * last reply line ("250 ..."), "outbox:FILE", or the reason of a failure.
 */
int mail_send(mail_sender_t *s, mail_msg_t *m, long long date, char **reply);

/* How many messages may be in flight at once (1 in outbox mode). */
int mail_slots(const mail_sender_t *s);
/* How many are in flight now (submitted, not yet handed back by mail_done). */
int mail_in_flight(const mail_sender_t *s);
/* How many of those have finished already, so that mail_done returns at once. */
int mail_finished(const mail_sender_t *s);
/* How many connections to the relay have failed in a row (0 once one succeeds). */
int mail_unreachable(const mail_sender_t *s);
/* Wait until one message in flight has finished (none in flight: return at once). */
void mail_done_wait(mail_sender_t *s);
/*
 * Start sending M (the sender holds it until mail_done hands it back) with Date = DATE,
 * known by TAG. 0, or -1 if every slot is busy (nothing is taken then). A message that
 * cannot even be started still comes back from mail_done, as failed.
 */
int mail_submit(mail_sender_t *s, mail_msg_t *m, long long date, long long tag);
/*
 * Wait for a submitted message to finish and hand it back: *tag, *m (the caller destroys
 * it) and *reply (as mail_send's). 0 if the relay accepted it, -1 if not; -1 with *m NULL
 * if nothing was in flight.
 */
int mail_done(mail_sender_t *s, long long *tag, mail_msg_t **m, char **reply);

#endif
