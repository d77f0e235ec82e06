/*
 * parallel_slot.h - a pool of connections that each run one statement at a
 * time, asynchronously, as PostgreSQL's fe_utils/parallel_slot.c does for
 * vacuumdb and reindexdb: the caller hands a statement to an idle slot,
 * waits until some slot has input, and collects what finished.  Which
 * statement runs where, and what an outcome means, stays with the caller
 * (commands/vacuum/vacuum.c).
 */
#ifndef PGPART_PG_PARALLEL_SLOT_H
#define PGPART_PG_PARALLEL_SLOT_H

#include "pg/conn.h"

typedef struct ParallelSlot
{
	PgConn pc;
	int job; /* the caller's job number, -1: idle */
	double started;
	char *error; /* once collected: the statement's error, NULL when it succeeded */
} ParallelSlot;

typedef struct ParallelSlots
{
	ParallelSlot *items;
	int n; /* the connections open (to close) */
} ParallelSlots;

/*
 * n connections to conninfo, each with the session's lock_timeout set to
 * lock_timeout_ms.  On failure the ones opened are still in s: close them.
 */
bool slots_open(ParallelSlots *s, int n, const char *conninfo, int lock_timeout_ms, PgpError *err);
void slots_close(ParallelSlots *s);

/* sql sent on an idle slot for job; false: not sent, *error says why (the caller frees it) */
bool slot_send(ParallelSlot *slot, int job, const char *sql, char **error);
/* how many slots run a statement */
int slots_busy(const ParallelSlots *s);
/* waits up to timeout_ms for input on a busy slot: ready[i] for the slots that have some */
void slots_wait(const ParallelSlots *s, int timeout_ms, bool *ready);
/* reads what arrived; true when the slot's statement has finished (see slot->error) */
bool slot_collect(ParallelSlot *slot);
/* asks the server to cancel every running statement */
void slots_cancel(const ParallelSlots *s);

#endif
