/*
 * check.c - "pgpart check": reads pg_stat_statements, EXPLAINs each SELECT
 * it may (screened, read-only, never executed), keeps the statements whose
 * plans hold partitions of a managed table, costliest first, and judges
 * them with core/planverdict; then the advice the tables themselves give.
 */
#include "commands/check/check.h"
#include "commands/check/check_sql.h"

#include <stdlib.h>
#include <string.h>

#include "pg/catalog.h"
#include "pg/config.h"
#include "pg/stats.h"
#include "util/log.h"
#include "util/mem.h"

/* the default partition is counted up to this many rows, as status does */
#define CHECK_DEFAULT_COUNT_CAP 1000000L

/* what is known of one managed table while its statements are judged */
typedef struct TableFacts
{
	NameList partitions;
	NameList index_leads;
	/* the heap scans filtering on a column an index could lead with */
	char *index_column;
	NameList include_columns;
	int heap_statements;
} TableFacts;

void
checkresult_free(CheckResult *r)
{
	int i;

	for (i = 0; i < r->n; i++)
	{
		FREE_ALL(r->stmts[i].queryid, r->stmts[i].query, r->stmts[i].table);
		planjudgement_free(&r->stmts[i].j);
	}
	for (i = 0; i < r->ntables; i++)
	{
		FREE_ALL(r->tables[i].schema, r->tables[i].name, r->tables[i].column);
		namelist_free(&r->tables[i].advice);
	}
	free(r->stmts);
	free(r->tables);
	namelist_free(&r->notes);
	memset(r, 0, sizeof(*r));
}

static void
not_installed(PgpError *err, const char *what)
{
	err_set(err, EXIT_RUNTIME, "pg_stat_statements is %s", what);
	err_detail(err, "\"pgpart check\" judges the statements pg_stat_statements recorded.");
	err_hint(err, "Add pg_stat_statements to shared_preload_libraries in postgresql.conf, "
				  "restart the server, run CREATE EXTENSION pg_stat_statements in this "
				  "database, let the application run a while, then run \"pgpart check\" again.");
}

static bool
table_facts(PgConn *pc, const PartConfig *cfg, CheckTable *t, TableFacts *f, PgpError *err)
{
	PartitionList parts = {NULL, 0, -1};
	const PartitionInfo *def = NULL;
	long rows = 0;
	bool ok;
	int i;

	t->schema = pg_xstrdup(cfg->parent_schema);
	t->name = pg_xstrdup(cfg->parent_name);
	t->column = pg_xstrdup(cfg->column);
	if (!cfg->parent_exists)
		return true;
	if (!catalog_partitions(pc, cfg->parent, &parts, err))
		return false;
	for (i = 0; i < parts.n; i++)
		namelist_addf(&f->partitions, "%s.%s", parts.items[i].schema, parts.items[i].name);
	def = parts.default_index >= 0 ? &parts.items[parts.default_index] : NULL;
	ok = check_index_leads(pc, cfg->parent, &f->index_leads, err) &&
		 check_size_outliers(pc, cfg->parent, &t->advice, err) &&
		 (def == NULL || stats_count_rows_capped(pc, def->schema, def->name,
												 CHECK_DEFAULT_COUNT_CAP, &rows, err)) &&
		 check_unused_indexes(pc, cfg->parent, &t->advice, err);
	t->partitions = f->partitions.n;
	if (ok && rows > 0)
		namelist_addf(&t->advice,
					  "the default partition %s holds %s%ld rows: every query plans it, and "
					  "\"pgpart maintain\" moves them into partitions of their own",
					  def->name, rows >= CHECK_DEFAULT_COUNT_CAP ? "at least " : "", rows);
	partitionlist_free(&parts);
	return ok;
}

static void
add_statement(CheckResult *res, const PgssRow *row, bool generic, const CheckTable *t,
			  PlanJudgement *j)
{
	CheckStatement *s;

	res->stmts = pg_xrealloc(res->stmts, (size_t) (res->n + 1) * sizeof(CheckStatement));
	s = &res->stmts[res->n++];
	memset(s, 0, sizeof(*s));
	s->queryid = pg_xstrdup(row->queryid);
	s->query = pg_xstrdup(row->query);
	s->calls = row->calls;
	s->total_ms = row->total_ms;
	s->mean_ms = row->mean_ms;
	s->generic = generic;
	s->table = pg_xasprintf("%s.%s", t->schema, t->name);
	s->j = *j;
	memset(j, 0, sizeof(*j));
	if (s->j.verdict == PLAN_NO_PRUNING)
		res->not_pruning++;
}

/* the (column, key) index one table's heap scans ask for, with the columns they read */
static void
note_heap_scan(TableFacts *f, const PlanJudgement *j)
{
	int i, k;

	if (!j->index_missing)
		return;
	if (f->index_column && strcmp(f->index_column, j->index_column) != 0)
		return;
	if (!f->index_column)
		f->index_column = pg_xstrdup(j->index_column);
	f->heap_statements++;
	for (i = 0; i < j->include_columns.n; i++)
	{
		bool dup = false;

		for (k = 0; k < f->include_columns.n && !dup; k++)
			dup = strcmp(f->include_columns.items[k], j->include_columns.items[i]) == 0;
		if (!dup)
			namelist_add(&f->include_columns, j->include_columns.items[i]);
	}
}

/* one statement: screened, EXPLAINed, judged against every managed table */
static bool
judge_statement(PgConn *pc, const CheckOptions *o, const PgssRow *row, CheckResult *res,
				TableFacts *facts, int *matched)
{
	const char *body = planverdict_prepared_body(row->query);
	bool has_params, touched = false;
	char *why = NULL, *plan = NULL;
	PgpError e;
	int i;

	/* a PREPARE in SQL: its statement is what is judged */
	if (body == NULL)
		body = row->query;
	if (!planverdict_screen_statement(body, &has_params, &why))
	{
		log_info("statement %s not explained: %s", row->queryid, why);
		res->refused++;
		free(why);
		return true;
	}
	err_init(&e);
	if (!check_explain(pc, body, has_params, o->timeout_ms, &plan, &e))
	{
		res->failed++;
		namelist_addf(&res->notes, "statement %s could not be explained: %s", row->queryid,
					  e.message ? e.message : "unknown error");
		err_clear(&e);
		return PQstatus(pc->conn) == CONNECTION_OK;
	}
	for (i = 0; i < res->ntables; i++)
	{
		PlanTable t = {res->tables[i].column, &facts[i].partitions, &facts[i].index_leads};
		PlanJudgement j;

		if (facts[i].partitions.n == 0)
			continue;
		if (!planverdict_judge(plan, &t, &j, &why))
		{
			namelist_addf(&res->notes, "the plan of statement %s was not understood: %s",
						  row->queryid, why);
			free(why);
			break;
		}
		if (j.verdict != PLAN_NOT_TOUCHED)
		{
			note_heap_scan(&facts[i], &j);
			add_statement(res, row, has_params, &res->tables[i], &j);
			touched = true;
		}
		planjudgement_free(&j);
	}
	free(plan);
	if (touched)
		(*matched)++;
	return true;
}

/* the covering index the heap scans ask for, as "pgpart index add" would build it */
static void
covering_index_advice(CheckTable *t, const TableFacts *f)
{
	char *include;

	if (!f->index_column)
		return;
	include = namelist_join(&f->include_columns, ", ");
	namelist_addf(&t->advice,
				  "%d statement%s filter%s on %s and read%s each partition's heap: an index on "
				  "(%s, %s)%s%s%s would serve %s from the index; \"pgpart index add %s "
				  "--name=NAME '(%s, %s)'\" builds its key columns without blocking writes "
				  "(INCLUDE columns it does not take)",
				  f->heap_statements, f->heap_statements == 1 ? "" : "s",
				  f->heap_statements == 1 ? "s" : "", f->index_column,
				  f->heap_statements == 1 ? "s" : "", f->index_column, t->column,
				  *include ? " INCLUDE (" : "", include, *include ? ")" : "",
				  f->heap_statements == 1 ? "it" : "them", t->name, f->index_column, t->column);
	free(include);
}

bool
ops_check(PgConn *pc, const CheckOptions *o, CheckResult *res, PgpError *err)
{
	PartConfig *cfgs = NULL;
	TableFacts *facts = NULL;
	PgssRow *rows = NULL;
	char *pgss = NULL;
	int ncfg = 0, nrows = 0, i, matched = 0;
	bool ok;

	memset(res, 0, sizeof(*res));
	if (!config_load_managed(pc, o->table, &cfgs, &ncfg, err))
		return false;
	ok = check_pgss_schema(pc, &pgss, err);
	if (ok && pgss == NULL)
	{
		not_installed(err, "not installed in this database");
		ok = false;
	}
	res->tables = pg_xcalloc((size_t) ncfg + 1, sizeof(CheckTable));
	facts = pg_xcalloc((size_t) ncfg + 1, sizeof(TableFacts));
	res->ntables = ncfg;
	for (i = 0; i < ncfg && ok; i++)
		ok = table_facts(pc, &cfgs[i], &res->tables[i], &facts[i], err);
	/* more candidates than --top: some are pgpart's or other tables' statements */
	if (ok && !check_read_statements(pc, pgss, o->top * 10 < 200 ? 200 : o->top * 10, &rows,
									 &nrows, err))
	{
		ok = false;
		/* the view errors out (55000) when the library was not preloaded */
		if (strcmp(err->sqlstate, "55000") == 0)
			not_installed(err, "installed but not loaded (it is not in shared_preload_libraries)");
	}
	res->candidates = nrows;
	for (i = 0; ok && i < nrows && matched < o->top; i++)
		if (!judge_statement(pc, o, &rows[i], res, facts, &matched))
		{
			err_set(err, EXIT_RUNTIME, "the connection was lost while explaining statements");
			ok = false;
		}
	for (i = 0; i < ncfg; i++)
	{
		if (ok)
			covering_index_advice(&res->tables[i], &facts[i]);
		NAMELIST_FREE_ALL(&facts[i].partitions, &facts[i].index_leads,
						  &facts[i].include_columns);
		free(facts[i].index_column);
	}
	free(facts);
	free(pgss);
	pgssrow_list_free(rows, nrows);
	partconfig_list_free(cfgs, ncfg);
	if (!ok)
		checkresult_free(res);
	return ok;
}
