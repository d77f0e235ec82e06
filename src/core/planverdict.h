/*
 * planverdict.h - what an EXPLAIN (FORMAT JSON, VERBOSE) plan says about one
 * partitioned table: how many of its partitions the plan holds and scans,
 * whether it pruned (at plan time or at executor start-up), and why not.
 * Also the screen a statement from pg_stat_statements passes before pgpart
 * asks the server to EXPLAIN it.  Pure: no I/O, no libpq.
 */
#ifndef PGPART_CORE_PLANVERDICT_H
#define PGPART_CORE_PLANVERDICT_H

#include <stdbool.h>

#include "util/namelist.h"

typedef enum PlanVerdict
{
	PLAN_NOT_TOUCHED = 0, /* no partition of the table is in the plan */
	PLAN_PRUNES,		  /* the planner left partitions out */
	PLAN_PRUNES_AT_RUN_TIME, /* every partition planned; executor start-up removed some */
	PLAN_NO_PRUNING			 /* every partition scanned */
} PlanVerdict;

/* the table a plan is judged against */
typedef struct PlanTable
{
	const char *column;		   /* the partition key */
	const NameList *partitions; /* "schema.name" of every partition, default included */
	/*
	 * The leading columns of the table's indexes, "a,b" (the first two, or
	 * one): to tell a missing (col, key) index from a planner that chose the
	 * heap anyway.
	 */
	const NameList *index_leads;
} PlanTable;

typedef struct PlanJudgement
{
	PlanVerdict verdict;
	int partitions;		  /* of the table */
	int in_plan;		  /* scanned + removed at run time */
	int scanned;		  /* partition scan nodes left in the plan */
	int removed;		  /* "Subplans Removed" over Append/MergeAppend nodes of the table */
	int heap_scans;		  /* of which Seq Scan */
	char *reason;		  /* malloc'd; NULL when it prunes and nothing is to be said */
	char *index_column;	  /* the column a (column, key) index would serve; NULL: none */
	bool index_missing;	  /* and the table has no index leading with (column, key) */
	NameList include_columns; /* what the heap scans output besides those two */
} PlanJudgement;

void planjudgement_free(PlanJudgement *j);

/*
 * Judges plan_json (EXPLAIN's whole output: an array of one object with
 * "Plan") against t.  False with a malloc'd *why when the text is not such a
 * plan.
 */
bool planverdict_judge(const char *plan_json, const PlanTable *t, PlanJudgement *j, char **why);

const char *planverdict_name(PlanVerdict v);

/*
 * Whether statement text (from pg_stat_statements: the server's, but
 * untrusted) may be EXPLAINed: one plain SELECT or WITH ... SELECT, no
 * semicolon, no comment, no data-modifying or locking clause, no SELECT
 * INTO.  False with a malloc'd *why.  *has_params: it holds $n parameters.
 */
bool planverdict_screen_statement(const char *text, bool *has_params, char **why);

/*
 * pg_stat_statements records a statement PREPAREd in SQL as "PREPARE name
 * [(types)] AS statement": the statement part (a pointer into text), or
 * NULL when text is not such a PREPARE.
 */
const char *planverdict_prepared_body(const char *text);

/*
 * "occurred_at wrapped in date_trunc()": the function a filter calls over
 * column, malloc'd, or NULL when the column is not inside a call.  Casts
 * ("(occurred_at)::date") give "::date".
 */
char *planverdict_wrapping_function(const char *filter, const char *column);

#endif
