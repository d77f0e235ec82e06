/*
 * metrics.h - what "pgpart metrics" and "pgpart run --metrics-addr" expose to
 * Prometheus, collected from the catalog and pgpart's own tables (status of
 * every managed table, run_log, migration, and archive outcomes when that
 * table exists).
 */
#ifndef PGPART_COMMANDS_METRICS_H
#define PGPART_COMMANDS_METRICS_H

#include "core/promtext.h"
#include "pg/conn.h"

/*
 * Adds every pgpart metric to set (and pgpart_up 1).  Sets the session's
 * lock_timeout on pc (sizes open each partition; a collection must never wait
 * long behind a lock) and, when timeout_ms > 0, a statement_timeout of
 * timeout_ms: use a connection of its own.  On failure set may hold part of
 * the metrics; callers then render pgpart_up 0 instead.
 */
bool ops_metrics_collect(PgConn *pc, int timeout_ms, PromSet *set, PgpError *err);

/* the set that says only "pgpart_up 0" */
void ops_metrics_down(PromSet *set);

#endif
