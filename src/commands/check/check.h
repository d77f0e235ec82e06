/*
 * check.h - "pgpart check": are the application's queries served by the
 * partitioning?  The costliest statements of pg_stat_statements that touch
 * managed tables, each EXPLAINed (never run) and judged for partition
 * pruning, and advice read from the tables themselves.  Prints nothing.
 */
#ifndef PGPART_COMMANDS_CHECK_H
#define PGPART_COMMANDS_CHECK_H

#include "core/planverdict.h"
#include "pg/catalog.h"
#include "pg/conn.h"

typedef struct CheckOptions
{
	const char *table; /* NULL: every managed table */
	int top;		   /* statements judged, costliest first */
	int timeout_ms;	   /* statement_timeout of each EXPLAIN */
} CheckOptions;

typedef struct CheckStatement
{
	char *queryid;
	char *query;
	long long calls;
	double total_ms;
	double mean_ms;
	bool generic; /* parameterized: judged by its generic plan */
	char *table;  /* the managed table ("schema.name") the judgement is about */
	PlanJudgement j;
} CheckStatement;

typedef struct CheckTable
{
	char *schema;
	char *name;
	char *column;
	int partitions;
	NameList advice;
} CheckTable;

typedef struct CheckResult
{
	CheckStatement *stmts;
	int n;
	CheckTable *tables;
	int ntables;
	int candidates;	 /* SELECT statements read from pg_stat_statements */
	int refused;	 /* of which not EXPLAINed: the screen refused the text */
	int failed;		 /* EXPLAIN failed (e.g. a dropped table, the timeout) */
	int not_pruning; /* statements whose verdict is PLAN_NO_PRUNING */
	NameList notes;
} CheckResult;

void checkresult_free(CheckResult *r);
/*
 * Fails (EXIT_RUNTIME, with how to enable it) when pg_stat_statements is not
 * installed in this database or not loaded by the server.
 */
bool ops_check(PgConn *pc, const CheckOptions *o, CheckResult *res, PgpError *err);

#endif
