/* The memory budget of wsrecv: one limit on the messages it holds, those
 * being reassembled and those waiting in the output queue, across every
 * connection. Above it wsrecv stops reading (TCP then slows the senders
 * down) instead of growing. Two rules:
 *
 *  - full: once everything held reaches the budget, no connection is read
 *    until it is down to three quarters of it. (Holding only the one just
 *    read, so that each would get its turn, measured worse with 1,000
 *    phones: more CPU, more memory, more lag.)
 *  - large: unfinished messages over RX_LARGE may take only half of it, so
 *    clients that hold large messages open cannot stop the cameras, whose
 *    frames are smaller.
 *
 * One connection, the owner, is read whatever the budget, to finish the
 * message it has begun: unfinished messages alone can then never hold the
 * budget for good. It is chosen when a large message is held, or when the
 * budget is full and the output queue empty, so that at most one message
 * is over the budget at a time. The others' unfinished messages wait;
 * conn.c drops one that waits longer than the idle limit, so no client
 * holds the budget for ever by not finishing. Calls conn.c and out.c. */
#include <stdint.h>

#include "util.h"
#include "wsrecv.h"

/* Unfinished messages larger than this are "large". */
#define RX_LARGE	(256u << 10)

static int
budget_is_large(const struct conn *c)
{
	return c->in_msg && c->rx_cap > RX_LARGE;
}

static size_t
used(const struct server *s)
{
	return s->rx_used + out_queued();
}

/* How much c may allocate for its message beyond what its fragment needs. */
size_t
budget_room(const struct server *s, const struct conn *c)
{
	size_t u = used(s);

	if (c == s->rx_owner || s->stopping)
		return SIZE_MAX;
	return u < s->rx_budget ? s->rx_budget - u : 0;
}

/* Count c's reassembly buffer as it is now; budget_uncharge() takes it
 * off again, before anything changes it (a fragment, the message taken to
 * the output queue, the connection's end). */
void
budget_charge(struct server *s, const struct conn *c)
{
	s->rx_used += c->rx_cap;
	if (budget_is_large(c))
		s->rx_large += c->rx_cap;
}

void
budget_uncharge(struct server *s, const struct conn *c)
{
	s->rx_used -= c->rx_cap;
	if (budget_is_large(c))
		s->rx_large -= c->rx_cap;
}

static void
hold(struct server *s, struct conn *c, int64_t now)
{
	if (c->holds & HOLD_BUDGET || c == s->rx_owner)
		return;
	conn_hold(c, HOLD_BUDGET, 1, now);
	s->rx_waiting++;
}

/* Read again every held connection that the large rule does not hold. */
static void
release(struct server *s, int64_t now)
{
	struct conn *c;

	for (c = s->conns; c != NULL && s->rx_waiting > 0; c = c->next)
		if (c->holds & HOLD_BUDGET && !(s->rx_large_over && budget_is_large(c))) {
			conn_hold(c, HOLD_BUDGET, 0, now);
			s->rx_waiting--;
		}
}

/* An owner among the connections with a message begun, if there is none:
 * preferably candidate. */
static void
elect(struct server *s, struct conn *candidate, int64_t now)
{
	struct conn *c = candidate;

	if (s->rx_owner != NULL)
		return;
	if (c == NULL || !c->in_msg || c->finished)
		for (c = s->conns; c != NULL; c = c->next)
			if (c->in_msg && !c->finished && !c->server_closed)
				break;
	if ((s->rx_owner = c) != NULL && c->holds & HOLD_BUDGET) {
		conn_hold(c, HOLD_BUDGET, 0, now);
		s->rx_waiting--;
	}
}

/* After a fragment or message of c, or with c NULL whenever the output
 * queue may have drained: hold or release. Returns 1 when it has just
 * begun to hold connections for the budget, for the caller to say so. */
int
budget_update(struct server *s, struct conn *c, int64_t now)
{
	size_t u = used(s);
	struct conn *x;
	int began = 0, over;

	if (s->stopping) {
		for (x = s->conns; x != NULL && s->rx_waiting > 0; x = x->next)
			if (x->holds & HOLD_BUDGET) {
				conn_hold(x, HOLD_BUDGET, 0, now);
				s->rx_waiting--;
			}
		s->rx_full = 0;
		return 0;
	}
	over = s->rx_large > s->rx_budget / 2;
	if (s->rx_large_over && !over) {
		s->rx_large_over = 0;
		if (!s->rx_full)
			release(s, now);
	}
	s->rx_large_over = over;
	if (!s->rx_full && u >= s->rx_budget) {
		s->rx_full = began = 1;
		for (x = s->conns; x != NULL; x = x->next)
			hold(s, x, now);
	} else if (s->rx_full && u < s->rx_budget - s->rx_budget / 4) {
		s->rx_full = 0;
		release(s, now);
	}
	if (over && c != NULL && budget_is_large(c) && c != s->rx_owner &&
	    !(c->holds & HOLD_BUDGET)) {
		hold(s, c, now);
		elect(s, c, now);
		began |= s->rx_waiting == 1 && (c->holds & HOLD_BUDGET);
	}
	/* Full with nothing left to write: the budget is all unfinished
	 * messages, and only finishing one frees any. */
	if (s->rx_full && s->rx_owner == NULL && s->rx_waiting > 0 &&
	    out_queued() == 0)
		elect(s, c, now);
	return began;
}

/* c's message is complete, or c is going away: it is no longer the owner
 * nor held. The next owner is chosen by budget_update() when one is
 * needed. */
void
budget_done(struct server *s, struct conn *c, int gone)
{
	if (gone && c->holds & HOLD_BUDGET) {
		c->holds &= ~HOLD_BUDGET;
		s->rx_waiting--;
	}
	if (c == s->rx_owner)
		s->rx_owner = NULL;
}
