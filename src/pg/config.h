/* config.h - the tables pgpart manages (pgpart.part_config). */
#ifndef PGPART_PG_CONFIG_H
#define PGPART_PG_CONFIG_H

#include "core/calendar.h"
#include "core/schedule.h"
#include "pg/catalog.h"

typedef struct PartConfig
{
	RelOid parent;
	char *parent_schema;
	char *parent_name;
	bool parent_exists; /* false when the table was dropped behind pgpart's back */
	char *column;
	CalUnit unit; /* the interval it was created with: sched.first */
	IntervalSchedule sched; /* with the changes of pgpart.interval_history */
	CivilDate start;
	int premake;
	char *time_zone;
} PartConfig;

void partconfig_free(PartConfig *c);
void partconfig_list_free(PartConfig *list, int n);

/* all configured tables, or only parent when parent != 0 */
bool config_load(PgConn *pc, RelOid parent, PartConfig **list, int *n, PgpError *err);
/*
 * table NULL: every configured table; otherwise that one (as the user named
 * it), and a usage error when it does not exist or pgpart does not manage it.
 * Fails first, with the hint to run "pgpart init", unless pgpart's schema is
 * current: every command that reads the config needs both checks.
 */
bool config_load_managed(PgConn *pc, const char *table, PartConfig **list, int *n,
						 PgpError *err);
/* the same for one named table, whose config goes to *cfg (partconfig_free) */
bool config_load_one_managed(PgConn *pc, const char *table, PartConfig *cfg, PgpError *err);
/* INSERT (in the caller's transaction; printed in --dry-run) */
bool config_insert(PgConn *pc, const PartConfig *c, PgpError *err);

/* records one command's outcome in pgpart.run_log (feeds status and metrics) */
bool config_log_run(PgConn *pc, RelOid parent, const char *command, const char *started_at,
					bool ok, const char *summary_json, PgpError *err);
/* the started_at for config_log_run: the server's clock now, as text */
bool config_run_started(PgConn *pc, char **started_at, PgpError *err);

#endif
