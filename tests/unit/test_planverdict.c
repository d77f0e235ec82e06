/* planverdict: EXPLAIN's JSON plans judged for partition pruning, and the statement screen */
#include <stdlib.h>
#include <string.h>

#include "core/planverdict.h"
#include "tap.h"

static NameList parts;
static NameList leads;

static PlanJudgement
judge(const char *json)
{
	PlanTable t = {"occurred_at", &parts, &leads};
	PlanJudgement j;
	char *why = NULL;

	ok(planverdict_judge(json, &t, &j, &why), "the plan is read%s%s", why ? ": " : "",
	   why ? why : "");
	free(why);
	return j;
}

#define SCAN(type, part, filter)                                                 \
	"{\"Node Type\": \"" type "\", \"Relation Name\": \"" part "\", \"Schema\": \"public\", " \
	"\"Output\": [\"" part ".amount\", \"" part ".org_id\"], \"Filter\": \"" filter "\"}"

int
main(void)
{
	PlanJudgement j;
	char *why = NULL, *fn;
	bool params;

	namelist_add(&parts, "public.revenues_2025_q1");
	namelist_add(&parts, "public.revenues_2025_q2");
	namelist_add(&parts, "public.revenues_default");

	/* plan-time pruning: one partition scanned, no Append */
	j = judge("[{\"Plan\": " SCAN("Index Scan", "revenues_2025_q1",
								  "(revenues_2025_q1.occurred_at >= '2025-01-02')") "}]");
	is_int(j.verdict, PLAN_PRUNES, "one of three partitions: prunes");
	is_int(j.scanned, 1, "one partition scanned");
	is_int(j.in_plan, 1, "one in the plan");
	ok(j.reason == NULL, "nothing to say");
	planjudgement_free(&j);

	/* a generic plan: every partition planned, two removed at executor start-up */
	j = judge("[{\"Plan\": {\"Node Type\": \"Aggregate\", \"Plans\": [{\"Node Type\": \"Append\", "
			  "\"Subplans Removed\": 2, \"Plans\": [" SCAN("Seq Scan", "revenues_2025_q2",
														   "(revenues_2025_q2.occurred_at >= $1)")
			  "]}]}}]");
	is_int(j.verdict, PLAN_PRUNES_AT_RUN_TIME, "removed at start-up: prunes at run time");
	is_int(j.removed, 2, "Subplans Removed counted");
	is_int(j.in_plan, 3, "all three in the plan");
	planjudgement_free(&j);

	/* every partition, no condition on the key, a filter on org_id */
	j = judge("[{\"Plan\": {\"Node Type\": \"Append\", \"Plans\": ["
			  SCAN("Seq Scan", "revenues_2025_q1", "(revenues_2025_q1.org_id = $1)") ", "
			  SCAN("Seq Scan", "revenues_2025_q2", "(revenues_2025_q2.org_id = $1)") ", "
			  SCAN("Seq Scan", "revenues_default", "(revenues_default.org_id = $1)") "]}}]");
	is_int(j.verdict, PLAN_NO_PRUNING, "all three scanned: does not prune");
	is_str(j.reason,
		   "no condition on occurred_at; no index on (org_id, occurred_at): each partition "
		   "scanned by its heap",
		   "the reasons");
	is_str(j.index_column, "org_id", "an index led by org_id would serve it");
	ok(j.index_missing, "and there is none");
	is_int(j.include_columns.n, 1, "one column to INCLUDE");
	is_str(j.include_columns.n ? j.include_columns.items[0] : NULL, "amount", "amount");
	planjudgement_free(&j);

	/* the same with the index there: the planner chose the heap anyway */
	namelist_add(&leads, "org_id,occurred_at");
	j = judge("[{\"Plan\": {\"Node Type\": \"Append\", \"Plans\": ["
			  SCAN("Seq Scan", "revenues_2025_q1", "(revenues_2025_q1.org_id = $1)") ", "
			  SCAN("Seq Scan", "revenues_2025_q2", "(revenues_2025_q2.org_id = $1)") ", "
			  SCAN("Seq Scan", "revenues_default", "(revenues_default.org_id = $1)") "]}}]");
	ok(!j.index_missing, "the index is there");
	ok(j.reason && strstr(j.reason, "although an index on (org_id, occurred_at) exists"),
	   "an existing index is not called missing: %s", j.reason ? j.reason : "");
	planjudgement_free(&j);

	/* the key inside date_trunc() */
	j = judge("[{\"Plan\": {\"Node Type\": \"Append\", \"Plans\": ["
			  SCAN("Seq Scan", "revenues_2025_q1",
				   "(date_trunc('month'::text, revenues_2025_q1.occurred_at) = $1)") ", "
			  SCAN("Seq Scan", "revenues_2025_q2",
				   "(date_trunc('month'::text, revenues_2025_q2.occurred_at) = $1)") ", "
			  SCAN("Seq Scan", "revenues_default",
				   "(date_trunc('month'::text, revenues_default.occurred_at) = $1)") "]}}]");
	is_int(j.verdict, PLAN_NO_PRUNING, "date_trunc: does not prune");
	is_str(j.reason, "occurred_at wrapped in date_trunc()", "the function is named");
	planjudgement_free(&j);

	/* a plan of other tables */
	j = judge("[{\"Plan\": {\"Node Type\": \"Seq Scan\", \"Relation Name\": \"expenses\", "
			  "\"Schema\": \"public\"}}]");
	is_int(j.verdict, PLAN_NOT_TOUCHED, "another table: not in the plan");
	planjudgement_free(&j);

	ok(!planverdict_judge("not json", &(PlanTable){"occurred_at", &parts, &leads}, &j, &why) &&
		   why != NULL,
	   "text that is not a plan is refused");
	free(why);

	fn = planverdict_wrapping_function("((revenues.occurred_at)::date = $1)", "occurred_at");
	is_str(fn, "::date", "a cast is found");
	free(fn);
	fn = planverdict_wrapping_function("(occurred_at >= $1) AND (lower(status) = $2)",
									   "occurred_at");
	ok(fn == NULL, "a bare key with a call beside it is not wrapped");
	free(fn);
	fn = planverdict_wrapping_function("(\"Occurred_at\" >= $1)", "occurred_at");
	ok(fn == NULL, "a different (quoted) name is not the key");
	free(fn);

	/* PREPARE texts, as pg_stat_statements records them */
	is_str(planverdict_prepared_body("PREPARE p2(bigint, numeric(14,2)) AS SELECT 1 WHERE $1 > 0"),
		   "SELECT 1 WHERE $1 > 0", "PREPARE with types: the statement");
	is_str(planverdict_prepared_body("prepare \"q\" as select 1"), "select 1",
		   "PREPARE without types");
	ok(planverdict_prepared_body("SELECT 1") == NULL, "not a PREPARE");
	ok(planverdict_prepared_body("PREPAREX p AS SELECT 1") == NULL, "not the word PREPARE");

	/* the screen */
	ok(planverdict_screen_statement("SELECT 1 FROM t WHERE a = $1", &params, &why) && params,
	   "a parameterized SELECT passes");
	free(why);
	ok(planverdict_screen_statement(" with x as (select 1) select * from x", &params, &why) &&
		   !params,
	   "WITH ... SELECT passes, no parameters");
	free(why);
	{
		static const char *const refused[] = {
			"INSERT INTO t VALUES ($1)",
			"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
			"SELECT 1; DROP TABLE t",
			"SELECT * INTO t2 FROM t",
			"SELECT 1 -- x",
			"SELECT 1 /* x */",
			"SELECT $a$x$a$",
			"SELECT 'a\\' FROM t",
			"EXPLAIN SELECT 1",
			"SELECT 'unclosed",
			NULL};
		int i;

		for (i = 0; refused[i]; i++)
		{
			ok(!planverdict_screen_statement(refused[i], &params, &why) && why,
			   "refused: %s (%s)", refused[i], why ? why : "no reason");
			free(why);
		}
	}
	ok(planverdict_screen_statement("SELECT 'a;b' AS \"update\" FROM t", &params, &why) == false,
	   "a semicolon even in a literal is refused (safe side)");
	free(why);
	ok(planverdict_screen_statement("SELECT \"update\", updated_at FROM t", &params, &why),
	   "quoted \"update\" and a longer word pass");
	free(why);

	NAMELIST_FREE_ALL(&parts, &leads);
	return done_testing();
}
