/*
 * pcsc.c: PC/SC (pcsc-lite) calls, and nothing else: SCardEstablishContext, the reader
 * list, SCardGetStatusChange, connect, transactions and SCardTransmit.
 *
 * Every failure is turned into a piv_rc here (through piv_rc_from_pcsc) and logged with
 * pcsc_stringify_error, so the layers above never see a LONG. Command bytes are never
 * logged beyond their header: they may carry PINs and keys.
 */
#include "pcsc.h"

#include <PCSC/winscard.h>
#include <PCSC/pcsclite.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct pcsc {
	SCARDCONTEXT ctx;
	SCARD_READERSTATE *watch;	/* last states seen by pcsc_wait_change */
	size_t nwatch;
};

struct pcsc_card {
	pcsc_t *p;
	SCARDHANDLE h;
	DWORD proto;
	char *reader;
	uint8_t atr[PCSC_ATR_MAX];
	size_t atr_len;
	int depth;		/* transaction nesting */
	int was_reset;
};

static const char pnp_name[] = "\\\\?PnP?\\Notification";

static piv_rc pcsc_fail(const char *what, LONG r)
{
	piv_rc rc = piv_rc_from_pcsc(r);
	/* The catch-all "card reader error" says nothing by itself: name the call and code. */
	if (rc == PIV_E_PCSC)
		log_warn("%s: %s (0x%08lx)", what, pcsc_stringify_error(r), (unsigned long)r);
	else
		log_debug("%s: %s", what, pcsc_stringify_error(r));
	return rc;
}

pcsc_t *pcsc_new(piv_rc *rc)
{
	pcsc_t *p = xcalloc(1, sizeof *p);
	LONG r;

	r = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
	if (r != SCARD_S_SUCCESS) {
		if (rc)
			*rc = pcsc_fail("SCardEstablishContext", r);
		free(p);
		return NULL;
	}
	if (rc)
		*rc = PIV_OK;
	return p;
}

static void pcsc_watch_free(pcsc_t *p)
{
	for (size_t i = 0; i < p->nwatch; i++)
		free((char *)p->watch[i].szReader);
	free(p->watch);
	p->watch = NULL;
	p->nwatch = 0;
}

void pcsc_destroy(pcsc_t **pp)
{
	pcsc_t *p;

	if (!pp || !*pp)
		return;
	p = *pp;
	pcsc_watch_free(p);
	SCardReleaseContext(p->ctx);
	free(p);
	*pp = NULL;
}

/* The multi-string reader list as an array of names (caller frees each and the array). */
static piv_rc pcsc_names(pcsc_t *p, char ***names, size_t *n)
{
	DWORD len = 0;
	char *buf = NULL, *s;
	LONG r;
	piv_rc rc = PIV_OK;

	*names = NULL;
	*n = 0;
	r = SCardListReaders(p->ctx, NULL, NULL, &len);
	if (r == SCARD_E_NO_READERS_AVAILABLE)
		goto out;
	if (r != SCARD_S_SUCCESS) {
		rc = pcsc_fail("SCardListReaders", r);
		goto out;
	}
	buf = xmalloc(len + 1);
	r = SCardListReaders(p->ctx, NULL, buf, &len);
	if (r == SCARD_E_NO_READERS_AVAILABLE)
		goto out;
	if (r != SCARD_S_SUCCESS) {
		rc = pcsc_fail("SCardListReaders", r);
		goto out;
	}
	buf[len] = '\0';
	for (s = buf; *s && s < buf + len; s += strlen(s) + 1) {
		*names = xrealloc(*names, (*n + 1) * sizeof **names);
		(*names)[(*n)++] = xstrdup(s);
	}
out:
	free(buf);
	return rc;
}

piv_rc pcsc_readers(pcsc_t *p, struct pcsc_reader **out, size_t *n)
{
	char **names = NULL;
	SCARD_READERSTATE *st = NULL;
	struct pcsc_reader *r = NULL;
	size_t cnt = 0;
	LONG lr;
	piv_rc rc;

	*out = NULL;
	*n = 0;
	rc = pcsc_names(p, &names, &cnt);
	if (rc != PIV_OK || cnt == 0)
		goto out;
	st = xcalloc(cnt, sizeof *st);
	for (size_t i = 0; i < cnt; i++) {
		st[i].szReader = names[i];
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	lr = SCardGetStatusChange(p->ctx, 0, st, (DWORD)cnt);
	if (lr != SCARD_S_SUCCESS && lr != SCARD_E_TIMEOUT) {
		rc = pcsc_fail("SCardGetStatusChange", lr);
		goto out;
	}
	r = xcalloc(cnt, sizeof *r);
	for (size_t i = 0; i < cnt; i++) {
		r[i].name = names[i];
		names[i] = NULL;
		r[i].present = (st[i].dwEventState & SCARD_STATE_PRESENT) != 0;
		r[i].exclusive = (st[i].dwEventState & SCARD_STATE_EXCLUSIVE) != 0;
		r[i].atr_len = st[i].cbAtr <= PCSC_ATR_MAX ? st[i].cbAtr : 0;
		memcpy(r[i].atr, st[i].rgbAtr, r[i].atr_len);
	}
	*out = r;
	*n = cnt;
out:
	for (size_t i = 0; i < cnt; i++)
		free(names ? names[i] : NULL);
	free(names);
	free(st);
	return rc;
}

void pcsc_readers_free(struct pcsc_reader *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++)
		free(r[i].name);
	free(r);
}

piv_rc pcsc_wait_change(pcsc_t *p, int timeout_ms)
{
	char **names = NULL;
	size_t cnt = 0;
	int first = p->watch == NULL;
	LONG lr;
	piv_rc rc;

	/* Rebuild the watch list from the current readers, keeping states already known. */
	rc = pcsc_names(p, &names, &cnt);
	if (rc != PIV_OK)
		return rc;
	SCARD_READERSTATE *st = xcalloc(cnt + 1, sizeof *st);
	for (size_t i = 0; i < cnt; i++) {
		st[i].szReader = names[i];
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
		for (size_t j = 0; j < p->nwatch; j++)
			if (strcmp(p->watch[j].szReader, names[i]) == 0)
				st[i].dwCurrentState = p->watch[j].dwEventState & ~SCARD_STATE_CHANGED;
	}
	st[cnt].szReader = xstrdup(pnp_name);
	st[cnt].dwCurrentState = (DWORD)(cnt << 16);
	free(names);
	lr = SCardGetStatusChange(p->ctx, first ? 0 : (DWORD)timeout_ms, st, (DWORD)cnt + 1);
	pcsc_watch_free(p);
	p->watch = st;
	p->nwatch = cnt + 1;
	if (lr == SCARD_E_TIMEOUT)
		return first ? PIV_OK : PIV_E_TIMEOUT;
	if (lr != SCARD_S_SUCCESS)
		return pcsc_fail("SCardGetStatusChange", lr);
	return PIV_OK;
}

piv_rc pcsc_connect(pcsc_t *p, const char *reader, pcsc_card_t **out)
{
	pcsc_card_t *c = xcalloc(1, sizeof *c);
	DWORD atr_len = PCSC_ATR_MAX, state, proto, rlen = 0;
	LONG r;
	piv_rc rc = PIV_OK;

	*out = NULL;
	c->p = p;
	c->reader = xstrdup(reader);
	r = SCardConnect(p->ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    &c->h, &c->proto);
	if (r != SCARD_S_SUCCESS) {
		rc = pcsc_fail("SCardConnect", r);
		goto out;
	}
	r = SCardStatus(c->h, NULL, &rlen, &state, &proto, c->atr, &atr_len);
	if (r == SCARD_S_SUCCESS && atr_len <= PCSC_ATR_MAX)
		c->atr_len = atr_len;
	*out = c;
	c = NULL;
out:
	if (c) {
		free(c->reader);
		free(c);
	}
	return rc;
}

void pcsc_disconnect(pcsc_card_t **cp)
{
	pcsc_card_t *c;

	if (!cp || !*cp)
		return;
	c = *cp;
	if (c->depth > 0)
		SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
	SCardDisconnect(c->h, SCARD_LEAVE_CARD);
	free(c->reader);
	free(c);
	*cp = NULL;
}

piv_rc pcsc_begin(pcsc_card_t *c)
{
	LONG r;

	if (c->depth++ > 0)
		return PIV_OK;
	r = SCardBeginTransaction(c->h);
	if (r == SCARD_W_RESET_CARD) {
		/* Another program reset the card: reconnect; the applet must be reselected. */
		r = SCardReconnect(c->h, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
		    SCARD_LEAVE_CARD, &c->proto);
		if (r == SCARD_S_SUCCESS) {
			c->was_reset = 1;
			r = SCardBeginTransaction(c->h);
		}
	}
	if (r != SCARD_S_SUCCESS) {
		c->depth = 0;
		return pcsc_fail("SCardBeginTransaction", r);
	}
	return PIV_OK;
}

piv_rc pcsc_end(pcsc_card_t *c)
{
	LONG r;

	if (c->depth == 0)
		return PIV_OK;
	if (--c->depth > 0)
		return PIV_OK;
	r = SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
	if (r != SCARD_S_SUCCESS)
		return pcsc_fail("SCardEndTransaction", r);
	return PIV_OK;
}

int pcsc_was_reset(pcsc_card_t *c)
{
	int r = c->was_reset;
	c->was_reset = 0;
	return r;
}

piv_rc pcsc_transmit(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *rsp, size_t *rlen)
{
	pcsc_card_t *c = ctx;
	const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	DWORD n = (DWORD)*rlen;
	LONG r;

	if (clen >= 4)
		log_debug("%s: > %02X %02X %02X %02X (%zu bytes)", c->reader, cmd[0], cmd[1], cmd[2],
		    cmd[3], clen);
	r = SCardTransmit(c->h, pci, cmd, (DWORD)clen, NULL, rsp, &n);
	if (r != SCARD_S_SUCCESS)
		return pcsc_fail("SCardTransmit", r);
	*rlen = n;
	if (n >= 2)
		log_debug("%s: < %02X %02X (%lu bytes)", c->reader, rsp[n - 2], rsp[n - 1],
		    (unsigned long)n);
	return PIV_OK;
}

const char *pcsc_card_reader(const pcsc_card_t *c)
{
	return c->reader;
}

const uint8_t *pcsc_card_atr(const pcsc_card_t *c, size_t *len)
{
	*len = c->atr_len;
	return c->atr;
}
