/*
 * rollup.c - the operations behind "pgpart rollup add|refresh|status|drop"
 * and the refresh that "maintain" runs and the upgrade that "init" runs:
 * what to summarise, in which transactions and under which locks.  Their
 * statements are in rollup_sql.c; what happened comes back as facts
 * (RollupReport) or notes for the CLI to print.
 */
#include "commands/rollup/rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/rollup/rollup_sql.h"
#include "core/collist.h"
#include "core/measures.h"
#include "pg/citus.h"
#include "pg/config.h"
#include "pg/textarray.h"
#include "pg/privilege.h"
#include "pg/schema.h"
#include "pg/stmt.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strbuf.h"

void
rollupreport_free(RollupReport *r)
{
	NAMELIST_FREE_ALL(&r->labels, &r->values);
}

/* one line of the report: label, then the formatted value */
#define report(r, label, ...) namelist_add_fact(&(r)->labels, &(r)->values, (label), __VA_ARGS__)

/* ---- summarising ---- */

typedef struct BuildCtx
{
	const Rollup *r;
	const RollupPiece *piece;
	long long groups;
} BuildCtx;

static bool
build_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	BuildCtx *c = arg;
	bool ok;

	ok = rollup_lock(pc, c->r, err) &&
		 rollup_ensure_summary_partition(pc, c->r, c->piece->lo, c->piece->hi, err);
	lock_txn_mark_locked(stats);
	return ok && rollup_summarise_piece(pc, c->r, c->piece, &c->groups, err);
}

typedef struct DirtyCtx
{
	const Rollup *r;
	const RollupPiece *pieces;
	int npieces;
	long buckets;	 /* dirty buckets recomputed */
	long discarded;	 /* marks outside what the rollup covers */
	bool everything; /* a TRUNCATE mark */
} DirtyCtx;

/*
 * The marked buckets of one covered partition, as an array literal in lit:
 * all of them after a TRUNCATE mark.  *n: how many (0: nothing to do).
 */
static bool
piece_marks(PgConn *pc, const DirtyCtx *c, const RollupPiece *piece, const NameList *buckets,
			StrBuf *lit, int *n, PgpError *err)
{
	int i;

	*n = 0;
	sb_append(lit, "{");
	if (c->everything)
	{
		char *all = NULL;

		if (!rollup_piece_buckets(pc, c->r, piece, &all, err))
			return false;
		if (all)
		{
			sb_append(lit, all);
			*n = 1;
		}
		free(all);
	}
	else
		for (i = 0; i < buckets->n; i++)
			if (strcmp(buckets->items[i], piece->lo) >= 0 && strcmp(buckets->items[i], piece->hi) < 0)
			{
				sb_appendf(lit, "%s%s", *n ? "," : "", buckets->items[i]);
				(*n)++;
			}
	sb_append(lit, "}");
	return true;
}

static bool
dirty_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	DirtyCtx *c = arg;
	NameList buckets = {0};
	int j;
	bool ok = true;

	c->buckets = c->discarded = 0;
	c->everything = false;
	if (!rollup_lock(pc, c->r, err))
		return false;
	lock_txn_mark_locked(stats);
	if (pc->dry_run)
		return true;
	/*
	 * Only committed marks are visible, and each was committed with its
	 * change: every change whose mark is consumed here is in the aggregates
	 * computed below (later statements, later snapshots).
	 */
	if (!rollup_take_marks(pc, c->r, &buckets, &c->everything, err))
		return false;
	for (j = 0; ok && j < c->npieces; j++)
	{
		const RollupPiece *piece = &c->pieces[j];
		StrBuf lit;
		int n;

		if (!piece->covered)
			continue;
		sb_init(&lit);
		ok = piece_marks(pc, c, piece, &buckets, &lit, &n, err);
		if (ok && n > 0)
		{
			ok = rollup_recompute(pc, c->r, piece, lit.data, err);
			c->buckets += c->everything ? 1 : n;
		}
		sb_free(&lit);
	}
	if (!c->everything)
		c->discarded = buckets.n - c->buckets;
	namelist_free(&buckets);
	return ok && rollup_mark_refreshed(pc, c->r, err);
}

static bool
triggers_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	const Rollup *r = arg;
	PartitionList parts;
	int i;
	bool ok;

	lock_txn_mark_locked(stats);
	/*
	 * On Citus the functions' guard names the source (the workers know
	 * neither its OID nor pgpart.rollup): made again, they follow a rename
	 */
	ok = (r->dist_column == NULL ||
		  (citus_begin_ddl(pc, err) && rollup_create_functions(pc, r, err))) &&
		 rollup_ensure_triggers(pc, r, r->source_schema, r->source_name, err) &&
		 catalog_partitions(pc, r->source, &parts, err);
	if (!ok)
		return false;
	for (i = 0; ok && i < parts.n; i++)
		ok = rollup_ensure_triggers(pc, r, parts.items[i].schema, parts.items[i].name, err);
	partitionlist_free(&parts);
	return ok;
}

/* triggers everywhere, missing partitions summarised, marked buckets recomputed */
static bool
refresh_one(PgConn *pc, const Rollup *r, const LockPolicy *lock, NameList *notes, PgpError *err)
{
	RollupPiece *pieces = NULL;
	int npieces = 0, i, built = 0, skipped = 0;
	long long groups = 0;
	double t0 = clock_ms();
	DirtyCtx dc;
	bool ok;

	if (r->filter && !r->filter_compiled)
	{
		err_set(err, EXIT_RUNTIME,
				"rollup %s.%s keeps a --where that an older pgpart stored as SQL text; it is not "
				"run any more",
				r->summary_schema, r->summary_name);
		err_detail(err, "The expression: %s", r->filter);
		err_hint(err, "Run \"pgpart init\": it checks the expression and converts it.  If it is "
					  "refused, drop the rollup and add it again with a --where pgpart accepts.");
		return false;
	}
	ok = lock_run_txn(pc, lock, triggers_body, (void *) r, NULL, err) &&
		 rollup_load_pieces(pc, r, &pieces, &npieces, err);
	for (i = 0; ok && i < npieces; i++)
	{
		BuildCtx bc = {r, &pieces[i], 0};

		if (pieces[i].covered)
			continue;
		if (!pieces[i].aligned)
		{
			skipped++;
			continue;
		}
		log_info("rollup %s: summarising %s", r->summary_name, pieces[i].name);
		ok = lock_run_txn(pc, lock, build_body, &bc, NULL, err);
		if (ok)
		{
			pieces[i].covered = true;
			built++;
			groups += bc.groups;
		}
	}
	memset(&dc, 0, sizeof(dc));
	dc.r = r;
	dc.pieces = pieces;
	dc.npieces = npieces;
	ok = ok && lock_run_txn(pc, lock, dirty_body, &dc, NULL, err);
	if (ok && notes)
	{
		namelist_addf(
			notes,
			"rollup %s.%s: %d partition%s summarised (%lld rows), %s%ld changed bucket%s "
			"recomputed%s, %.0f ms",
			r->summary_schema, r->summary_name, built, built == 1 ? "" : "s", groups,
			dc.everything ? "after a TRUNCATE " : "", dc.buckets, dc.buckets == 1 ? "" : "s",
			skipped ? ", partitions whose bounds are not on bucket boundaries skipped" : "",
			clock_ms() - t0);
	}
	rollup_pieces_free(pieces, npieces);
	return ok;
}

bool
ops_rollup_refresh_table(PgConn *pc, RelOid source, const LockPolicy *lock, NameList *notes,
						 PgpError *err)
{
	Rollup *list = NULL;
	int n = 0, i;
	bool ok;

	ok = rollup_load(pc, source, 0, &list, &n, err);
	for (i = 0; ok && i < n; i++)
		ok = refresh_one(pc, &list[i], lock, notes, err);
	rollup_list_free(list, n);
	return ok;
}

/* rollups named by opt: --name (a summary table), TABLE (its rollups) or all */
static bool
select_rollups(PgConn *pc, const RollupOptions *opt, Rollup **list, int *n, PgpError *err)
{
	RelInfo rel;
	bool found;
	RelOid source = 0, summary = 0;

	*list = NULL;
	*n = 0;
	if (!schema_require(pc, err))
		return false;
	if (opt->name || opt->table)
	{
		const char *which = opt->name ? opt->name : opt->table;

		if (!catalog_resolve_table(pc, which, &rel, &found, err))
			return false;
		if (!found)
		{
			err_set(err, EXIT_USAGE, "table \"%s\" does not exist", which);
			err_hint(err, "\"pgpart rollup status\" lists the rollups.");
			return false;
		}
		if (opt->name)
			summary = rel.oid;
		else
			source = rel.oid;
		relinfo_free(&rel);
	}
	if (!rollup_load(pc, source, summary, list, n, err))
		return false;
	if (*n == 0 && (opt->name || opt->table))
	{
		err_set(err, EXIT_USAGE, "\"%s\" has no rollup%s", opt->name ? opt->name : opt->table,
				opt->name ? " (it is not a rollup's summary table)" : "s");
		err_hint(err, "Define one with \"pgpart rollup add TABLE --name NAME ...\".");
		return false;
	}
	return true;
}

typedef bool (*RollupStep)(PgConn *pc, const RollupOptions *opt, Rollup *r, RollupReport *rep,
						   PgpError *err);

/* step for each rollup the options select, in order, until one fails */
static bool
each_selected(PgConn *pc, const RollupOptions *opt, RollupStep step, RollupReport *rep,
			  PgpError *err)
{
	Rollup *list = NULL;
	int n = 0, i;
	bool ok;

	ok = select_rollups(pc, opt, &list, &n, err);
	for (i = 0; ok && i < n; i++)
		ok = step(pc, opt, &list[i], rep, err);
	rollup_list_free(list, n);
	return ok;
}

/* what it did is reported also when it fails part way */
static bool
refresh_step(PgConn *pc, const RollupOptions *opt, Rollup *r, RollupReport *rep, PgpError *err)
{
	NameList notes = {0};
	bool ok = refresh_one(pc, r, &opt->lock, &notes, err);
	int i;

	for (i = 0; i < notes.n; i++)
		report(rep, "refreshed", "%s", notes.items[i]);
	namelist_free(&notes);
	return ok;
}

bool
ops_rollup_refresh(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err)
{
	memset(r, 0, sizeof(*r));
	return each_selected(pc, opt, refresh_step, r, err);
}

/* ---- add ---- */

typedef struct AddCtx
{
	Rollup *r;
	const char *where; /* as typed; NULL: none */
} AddCtx;

static bool
add_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	AddCtx *c = arg;
	Rollup *r = c->r;
	bool ok;

	/* in --dry-run the summary table is only printed: there is nothing to record */
	ok = (r->dist_column == NULL || citus_begin_ddl(pc, err)) &&
		 rollup_create_summary(pc, r, err) && (pc->dry_run || rollup_insert(pc, r, err)) &&
		 (r->dist_column == NULL || rollup_place_on_citus(pc, r, err));
	if (ok && c->where)
	{
		RollupFilter f;

		/* checked again here: the function is made from what this transaction sees */
		ok = rollup_filter_check(pc, r->source, c->where, &f, err) &&
			 rollup_create_filter_function(pc, r, &f, err);
		if (ok)
		{
			int i;

			r->filter_compiled = true;
			namelist_free(&r->filter_args);
			for (i = 0; i < f.columns.n; i++)
				namelist_add(&r->filter_args, f.columns.items[i]);
		}
		rollupfilter_free(&f);
	}
	return ok && rollup_create_functions(pc, r, err) && triggers_body(pc, r, stats, err);
}

/* --grain, --measures and --group-by, before anything is asked of the server */
static bool
parse_definition(const RollupOptions *opt, Rollup *r, NameList *groups, PgpError *err)
{
	char *why = NULL;

	if (strcmp(opt->grain, "day") != 0 && strcmp(opt->grain, "month") != 0)
	{
		err_set(err, EXIT_USAGE, "invalid --grain \"%s\"", opt->grain);
		err_hint(err, "Use day or month.");
		return false;
	}
	if (!measures_parse(opt->measures, &r->measures, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --measures \"%s\": %s", opt->measures, why);
		err_hint(err, "For example: --measures 'sum(amount), count(*)'.");
		free(why);
		return false;
	}
	if (!collist_parse(opt->group_by, groups, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --group-by \"%s\": %s", opt->group_by, why);
		err_hint(err, "For example: --group-by 'org_id, status'.");
		free(why);
		return false;
	}
	return true;
}

/* every column the rollup names exists in the source; r->key_type from its partition column */
static bool
check_columns(PgConn *pc, const PartConfig *cfg, const NameList *groups, Rollup *r,
			  PgpError *err)
{
	ColumnInfo col;
	bool found;
	int i;

	for (i = 0; i < groups->n + r->measures.n; i++)
	{
		const char *name = i < groups->n ? groups->items[i] : r->measures.items[i - groups->n].column;

		if (name == NULL)
			continue;
		if (!catalog_column(pc, cfg->parent, name, &col, &found, err))
			return false;
		columninfo_free(&col);
		if (!found)
		{
			err_set(err, EXIT_USAGE, "column \"%s\" does not exist in %s.%s", name,
					cfg->parent_schema, cfg->parent_name);
			return false;
		}
	}
	if (!catalog_column(pc, cfg->parent, cfg->column, &col, &found, err))
		return false;
	r->key_type = col.key_type;
	columninfo_free(&col);
	return true;
}

/*
 * --distinct COL: an integer column (its bitmaps are indexed by value), not
 * one of the group columns (those are counted by the groups themselves),
 * and no column of the summary may already be called as the bitmap's.
 */
static bool
check_distinct(PgConn *pc, const PartConfig *cfg, const NameList *groups, const Rollup *r,
			   const char *column, PgpError *err)
{
	static const char *const integers[] = {"smallint", "integer", "bigint", NULL};
	ColumnInfo col;
	bool found, integral = false;
	int i;

	if (!catalog_column(pc, cfg->parent, column, &col, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "column \"%s\" does not exist in %s.%s", column,
				cfg->parent_schema, cfg->parent_name);
		return false;
	}
	for (i = 0; integers[i]; i++)
		integral = integral || strcmp(col.type_name, integers[i]) == 0;
	if (!integral)
	{
		err_set(err, EXIT_USAGE, "--distinct needs an integer column; %s is %s", column,
				col.type_name);
		err_hint(err, "Exact distinct counts are kept as bitmaps indexed by the value "
					  "(smallint, integer or bigint). For another type, group by the column "
					  "and count its groups.");
		columninfo_free(&col);
		return false;
	}
	columninfo_free(&col);
	for (i = 0; i < groups->n; i++)
		if (strcmp(groups->items[i], column) == 0)
		{
			err_set(err, EXIT_USAGE, "--distinct %s: the rollup is already grouped by %s",
					column, column);
			err_hint(err, "Its groups count its values already; leave %s out of --group-by "
						  "to count it across groups.",
					 column);
			return false;
		}
	for (i = 0; i < groups->n + r->measures.n; i++)
	{
		const char *name = i < groups->n ? groups->items[i] : r->measures.items[i - groups->n].name;

		if (strcmp(name, "distinct_chunk") == 0 || strcmp(name, "distinct_bits") == 0)
		{
			err_set(err, EXIT_USAGE, "with --distinct, the summary has its own column %s", name);
			err_hint(err, "Rename the source's column, or leave out --distinct.");
			return false;
		}
	}
	return true;
}

/* the summary table's schema and name (beside the source unless qualified); it must not exist */
static bool
place_summary(PgConn *pc, const char *name, const PartConfig *cfg, Rollup *r, PgpError *err)
{
	char *q;
	RelInfo other;
	bool found, ok;

	if (strchr(name, '.') || name[0] == '"')
	{
		if (!catalog_split_name(pc, name, &r->summary_schema, &r->summary_name, err))
			return false;
	}
	else
	{
		r->summary_schema = pg_xstrdup(cfg->parent_schema);
		r->summary_name = pg_xstrdup(name);
	}
	q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	ok = catalog_resolve_table(pc, q, &other, &found, err);
	free(q);
	if (ok && found)
	{
		relinfo_free(&other);
		err_set(err, EXIT_USAGE, "table %s.%s already exists", r->summary_schema, r->summary_name);
		err_hint(err, "Choose another --name, or \"pgpart rollup drop\" the old rollup.");
		return false;
	}
	return ok;
}

bool
ops_rollup_add(PgConn *pc, const RollupOptions *opt, RollupReport *rep, PgpError *err)
{
	Rollup r;
	PartConfig cfg;
	NameList groups = {0};
	bool ok = false;
	int i;
	AddCtx c;

	memset(rep, 0, sizeof(*rep));
	memset(&r, 0, sizeof(r));
	memset(&cfg, 0, sizeof(cfg));
	memset(&c, 0, sizeof(c));
	if (!parse_definition(opt, &r, &groups, err) ||
		/* the table must exist and be managed by pgpart: rollups follow its partitions */
		!config_load_one_managed(pc, opt->table, &cfg, err) ||
		/* on Citus, its marks and summary go beside the shards (docs/scale-out.md) */
		!citus_rollup_column(pc, cfg.parent, &r.dist_column, err))
		goto out;
	if (strcmp(opt->grain, "month") == 0 &&
		(sched_uses(&cfg.sched, CAL_DAY) || sched_uses(&cfg.sched, CAL_WEEK)))
	{
		err_set(err, EXIT_USAGE, "a month rollup needs partitions of a month or longer; %s.%s "
								 "has shorter ones",
				cfg.parent_schema, cfg.parent_name);
		err_hint(err, "Use --grain day: a day bucket never spans two partitions.");
		goto out;
	}
	if (!check_columns(pc, &cfg, &groups, &r, err) ||
		(opt->distinct && !check_distinct(pc, &cfg, &groups, &r, opt->distinct, err)))
		goto out;
	if (opt->distinct)
		r.distinct_column = pg_xstrdup(opt->distinct);
	r.source = cfg.parent;
	r.source_schema = pg_xstrdup(cfg.parent_schema);
	r.source_name = pg_xstrdup(cfg.parent_name);
	if (!place_summary(pc, opt->name, &cfg, &r, err))
		goto out;
	r.grain = pg_xstrdup(opt->grain);
	for (i = 0; i < groups.n; i++)
		namelist_add(&r.group_by, groups.items[i]);
	r.measures_text = pg_xstrdup(opt->measures);
	if (opt->where && opt->where[0])
	{
		RollupFilter f;

		/* before anything is made: a refused expression leaves nothing behind */
		if (!rollup_filter_check(pc, cfg.parent, opt->where, &f, err))
			goto out;
		r.filter = pg_xstrdup(f.canonical);
		rollupfilter_free(&f);
		c.where = opt->where;
	}
	r.column = pg_xstrdup(cfg.column);
	r.time_zone = pg_xstrdup(cfg.time_zone);
	c.r = &r;
	if (!lock_run_txn(pc, &opt->lock, add_body, &c, NULL, err))
		goto out;
	report(rep, "rollup", "%s.%s (%s buckets of %s.%s by %s: %s%s%s%s%s)", r.summary_schema,
		   r.summary_name, r.grain, r.source_schema, r.source_name, opt->group_by, opt->measures,
		   r.distinct_column ? ", distinct " : "", r.distinct_column ? r.distinct_column : "",
		   r.filter ? " where " : "", r.filter ? r.filter : "");
	if (!opt->no_refresh && !pc->dry_run)
	{
		NameList notes = {0};

		ok = refresh_one(pc, &r, &opt->lock, &notes, err);
		for (i = 0; i < notes.n; i++)
			report(rep, "refreshed", "%s", notes.items[i]);
		namelist_free(&notes);
		if (!ok)
			goto out;
	}
	ok = true;
out:
	namelist_free(&groups);
	rollup_free(&r);
	partconfig_free(&cfg);
	return ok;
}

/* ---- upgrade ---- */

/* a --where an older pgpart stored as text: checked, and kept as its function when accepted */
static bool
upgrade_filter(PgConn *pc, Rollup *r, NameList *done, NameList *problems, PgpError *err)
{
	RollupFilter f;
	PgpError e;
	bool ok;

	err_init(&e);
	if (!rollup_filter_check(pc, r->source, r->filter, &f, &e))
	{
		if (e.exit_code != EXIT_USAGE)
		{
			*err = e;
			return false;
		}
		namelist_addf(problems,
					  "rollup %s.%s: its --where (%s) is refused: %s; it is not refreshed any more "
					  "(drop it and add it again)",
					  r->summary_schema, r->summary_name, r->filter, e.message);
		err_clear(&e);
		return true;
	}
	ok = rollup_create_filter_function(pc, r, &f, err) &&
		 rollup_store_filter(pc, r, f.canonical, err);
	if (ok)
		namelist_addf(done, "rollup %s.%s: --where checked and kept as a function: %s",
					  r->summary_schema, r->summary_name, f.canonical);
	rollupfilter_free(&f);
	return ok;
}

/* one rollup, in the caller's subtransaction; false with err when it failed */
static bool
upgrade_one(PgConn *pc, Rollup *r, bool rebuild_functions, NameList *done, NameList *problems,
			PgpError *err)
{
	if (r->filter && !r->filter_compiled && !upgrade_filter(pc, r, done, problems, err))
		return false;
	if (rebuild_functions)
	{
		char *prefix = pg_xasprintf("rollup_%d_", r->id);
		int guarded = 0;
		bool ok = priv_count_guarded(pc, prefix, &guarded, err);

		free(prefix);
		if (!ok)
			return false;
		if (guarded == 4)
			return true;
		if (!rollup_create_functions(pc, r, err))
			return false;
		namelist_addf(done,
					  "rollup %s.%s: trigger functions rebuilt (they run only for %s.%s and its "
					  "partitions)",
					  r->summary_schema, r->summary_name, r->source_schema, r->source_name);
	}
	return true;
}

bool
ops_rollup_upgrade(PgConn *pc, bool rebuild_functions, NameList *done, NameList *problems,
				   PgpError *err)
{
	Rollup *list = NULL;
	int n = 0, i;
	bool ok;

	ok = rollup_load(pc, 0, 0, &list, &n, err);
	for (i = 0; ok && i < n; i++)
	{
		PgpError e;

		/* one rollup that cannot be upgraded must not keep the others as they were */
		if (!stmt_savepoint(pc, SAVEPOINT_SET, ROLLUP_UPGRADE_SAVEPOINT, err))
		{
			ok = false;
			break;
		}
		err_init(&e);
		if (!upgrade_one(pc, &list[i], rebuild_functions, done, problems, &e))
		{
			namelist_addf(problems, "rollup %s.%s: not upgraded: %s", list[i].summary_schema,
						  list[i].summary_name, e.message ? e.message : "failed");
			err_clear(&e);
			err_init(&e);
			/* a failure here fails the RELEASE below, which reports it */
			(void) stmt_savepoint(pc, SAVEPOINT_ROLLBACK, ROLLUP_UPGRADE_SAVEPOINT, &e);
		}
		err_clear(&e);
		ok = stmt_savepoint(pc, SAVEPOINT_RELEASE, ROLLUP_UPGRADE_SAVEPOINT, err);
	}
	rollup_list_free(list, n);
	return ok;
}

/* ---- status and drop ---- */

static bool
status_one(PgConn *pc, const RollupOptions *opt, Rollup *r, RollupReport *rep, PgpError *err)
{
	RollupFacts f;
	RollupPiece *pieces = NULL;
	int np = 0, j, uncovered = 0;
	char *by;

	(void) opt; /* a RollupStep: status needs only the rollup */
	if (!rollup_facts(pc, r, &f, err))
		return false;
	if (!rollup_load_pieces(pc, r, &pieces, &np, err))
	{
		rollupfacts_free(&f);
		return false;
	}
	for (j = 0; j < np; j++)
		uncovered += !pieces[j].covered;
	rollup_pieces_free(pieces, np);
	report(rep, "rollup", "%s.%s", r->summary_schema, r->summary_name);
	by = namelist_join(&r->group_by, ", ");
	report(rep, "source", "%s.%s, %s buckets, by %s: %s%s%s%s%s", r->source_schema,
		   r->source_name, r->grain, by, r->measures_text,
		   r->distinct_column ? ", distinct " : "", r->distinct_column ? r->distinct_column : "",
		   r->filter ? " where " : "", r->filter ? r->filter : "");
	free(by);
	report(rep, "covers", "%s partition%s (%s)%s", f.partitions,
		   strcmp(f.partitions, "1") == 0 ? "" : "s", f.range ? f.range : "nothing yet",
		   uncovered ? "; some partitions are not summarised yet: run refresh" : "");
	/* a report reads the marked buckets from the detail rows until the next refresh */
	report(rep, "changed since refresh", "%s bucket%s%s%s%s%s", f.changed,
		   strcmp(f.changed, "1") == 0 ? "" : "s", f.truncated ? " and a TRUNCATE" : "",
		   f.oldest_mark ? ", oldest marked " : "", f.oldest_mark ? f.oldest_mark : "",
		   f.oldest_mark ? " s ago (reports read them from the detail rows)" : "");
	report(rep, "refreshed at", "%s", f.refreshed_at);
	report(rep, "size", "%s", f.size);
	if (r->distinct_column)
		report(rep, "distinct values", "%s counted exactly: %s bitmap%s of %d values, %s %% of "
									   "their bits set",
			   r->distinct_column, f.bitmaps, strcmp(f.bitmaps, "1") == 0 ? "" : "s",
			   1 << ROLLUP_CHUNK_BITS, f.bits_set);
	report(rep, "uncovered partitions", "%d", uncovered);
	rollupfacts_free(&f);
	return true;
}

bool
ops_rollup_status_lines(PgConn *pc, RelOid source, NameList *lines, PgpError *err)
{
	Rollup *list = NULL;
	int n = 0, i;
	bool ok;

	ok = rollup_load(pc, source, 0, &list, &n, err);
	for (i = 0; ok && i < n; i++)
	{
		RollupFacts f;
		char *name = NULL;

		if (!(ok = rollup_facts(pc, &list[i], &f, err)))
			break;
		ok = catalog_regclass_text(pc, list[i].summary, &name, err);
		if (ok)
			namelist_addf(lines,
						  "%s (%s): %s partitions summarised, %s buckets changed since the last "
						  "refresh (%s)",
						  name, list[i].grain, f.partitions, f.changed, f.refreshed_at);
		free(name);
		rollupfacts_free(&f);
	}
	rollup_list_free(list, n);
	return ok;
}

bool
ops_rollup_status(PgConn *pc, const RollupOptions *opt, RollupReport *rep, PgpError *err)
{
	memset(rep, 0, sizeof(*rep));
	return each_selected(pc, opt, status_one, rep, err);
}

static bool
drop_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	const Rollup *r = arg;

	lock_txn_mark_locked(stats);
	return (r->dist_column == NULL || citus_begin_ddl(pc, err)) && rollup_drop(pc, r, err);
}

static bool
drop_step(PgConn *pc, const RollupOptions *opt, Rollup *r, RollupReport *rep, PgpError *err)
{
	if (!lock_run_txn(pc, &opt->lock, drop_body, r, NULL, err))
		return false;
	report(rep, "dropped", "%s.%s, its triggers and records", r->summary_schema, r->summary_name);
	return true;
}

bool
ops_rollup_drop(PgConn *pc, const RollupOptions *opt, RollupReport *rep, PgpError *err)
{
	memset(rep, 0, sizeof(*rep));
	if (opt->name == NULL)
	{
		err_set(err, EXIT_USAGE, "give the rollup to drop with --name");
		return false;
	}
	return each_selected(pc, opt, drop_step, rep, err);
}
