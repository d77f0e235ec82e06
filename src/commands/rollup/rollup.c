#include "commands/rollup/rollup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/collist.h"
#include "core/measures.h"
#include "pg/config.h"
#include "pg/textarray.h"
#include "pg/privilege.h"
#include "commands/rollup/rollup_sql.h"
#include "pg/schema.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strbuf.h"

void
rollupreport_free(RollupReport *r)
{
	namelist_free(&r->labels);
	namelist_free(&r->values);
}

static void report(RollupReport *r, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
report(RollupReport *r, const char *label, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = pg_xvasprintf(fmt, ap);
	va_end(ap);
	namelist_add(&r->labels, label);
	namelist_add(&r->values, v);
	free(v);
}

/* the table must exist and be managed by pgpart: rollups follow its partitions */
static bool
resolve_managed(PgConn *pc, const char *user_name, RelInfo *rel, PartConfig *cfg, PgpError *err)
{
	bool found;
	PartConfig *list = NULL;
	int n = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (!catalog_resolve_table(pc, user_name, rel, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", user_name);
		err_hint(err, "Check the name; \"pgpart status\" lists the tables pgpart manages.");
		return false;
	}
	if (!config_load(pc, rel->oid, &list, &n, err))
	{
		relinfo_free(rel);
		return false;
	}
	if (n == 0)
	{
		err_set(err, EXIT_USAGE, "%s.%s is not managed by pgpart", rel->schema, rel->name);
		err_hint(err, "Partition it first with \"pgpart create\" or \"pgpart migrate\".");
		relinfo_free(rel);
		partconfig_list_free(list, n);
		return false;
	}
	*cfg = list[0];
	memset(&list[0], 0, sizeof(list[0]));
	partconfig_list_free(list, n);
	return true;
}

/* ---- the local-date range of a partition ---- */

typedef struct Piece
{
	char *qualified; /* the source partition, quoted */
	char *name;
	char *lo; /* local dates, [lo, hi) */
	char *hi;
	bool aligned; /* bounds on bucket boundaries */
	bool covered;
} Piece;

static void
pieces_free(Piece *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
	{
		free(p[i].qualified);
		free(p[i].name);
		free(p[i].lo);
		free(p[i].hi);
	}
	free(p);
}

/* the source's bounded partitions with their buckets, and whether the rollup covers each */
static bool
load_pieces(PgConn *pc, const Rollup *r, Piece **out, int *nout, PgpError *err)
{
	PartitionList parts;
	Piece *p;
	int i, n = 0;
	bool tz = r->key_type == KEY_TIMESTAMPTZ;
	const char *lo_sql = tz ? "pg_catalog.timezone($3, $1::pg_catalog.timestamptz)"
							: "$1::pg_catalog.timestamp";
	const char *hi_sql = tz ? "pg_catalog.timezone($3, $2::pg_catalog.timestamptz)"
							: "$2::pg_catalog.timestamp";
	char *sql = pg_xasprintf(
		"WITH b AS (SELECT %s AS lo, %s AS hi) "
		"SELECT b.lo::pg_catalog.date::text, b.hi::pg_catalog.date::text, "
		"  b.lo = pg_catalog.date_trunc($4, b.lo) AND b.hi = pg_catalog.date_trunc($4, b.hi), "
		"  EXISTS (SELECT FROM pgpart.rollup_coverage c WHERE c.rollup_id = $5::integer "
		"    AND c.lo = b.lo::pg_catalog.date AND c.hi = b.hi::pg_catalog.date) "
		"FROM b",
		lo_sql, hi_sql);
	char id[16];
	bool ok = true;

	*out = NULL;
	*nout = 0;
	if (!catalog_partitions(pc, r->source, &parts, err))
	{
		free(sql);
		return false;
	}
	snprintf(id, sizeof(id), "%d", r->id);
	p = pg_xcalloc((size_t) (parts.n > 0 ? parts.n : 1), sizeof(Piece));
	for (i = 0; ok && i < parts.n; i++)
	{
		const PartitionInfo *pi = &parts.items[i];
		const char *params[5] = {pi->lo_text, pi->hi_text, r->time_zone, r->grain, id};
		PGresult *res;

		if (pi->is_default || !pi->bounds_known || pi->lo_unbounded || pi->hi_unbounded)
			continue;
		res = pgc_query(pc, sql, 5, params, err);
		if (res == NULL)
		{
			ok = false;
			break;
		}
		p[n].qualified = pgc_quote_qualified(pc, pi->schema, pi->name);
		p[n].name = pg_xstrdup(pi->name);
		p[n].lo = pg_xstrdup(PQgetvalue(res, 0, 0));
		p[n].hi = pg_xstrdup(PQgetvalue(res, 0, 1));
		p[n].aligned = PQgetvalue(res, 0, 2)[0] == 't';
		p[n].covered = PQgetvalue(res, 0, 3)[0] == 't';
		n++;
		PQclear(res);
	}
	partitionlist_free(&parts);
	free(sql);
	if (!ok)
	{
		pieces_free(p, n);
		return false;
	}
	*out = p;
	*nout = n;
	return true;
}

/* ---- summarising ---- */

static bool
advisory_lock(PgConn *pc, const Rollup *r, PgpError *err)
{
	char id[16];
	const char *params[1] = {id};

	/* one refresh per rollup at a time, on any host */
	snprintf(id, sizeof(id), "%d", r->id);
	return pgc_exec(pc,
					"SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pgpart.rollup'), "
					"$1::integer)",
					1, params, err);
}

typedef struct BuildCtx
{
	const Rollup *r;
	const Piece *piece;
	long long groups;
} BuildCtx;

static bool
build_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	BuildCtx *c = arg;
	const Rollup *r = c->r;
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	char *agg = rollup_aggregate_sql(pc, r, c->piece->qualified, NULL);
	char id[16];
	const char *params[3] = {id, c->piece->lo, c->piece->hi};
	char *sql;
	PGresult *res;
	bool ok;

	snprintf(id, sizeof(id), "%d", r->id);
	ok = advisory_lock(pc, r, err) &&
		 rollup_ensure_summary_partition(pc, r, c->piece->lo, c->piece->hi, err);
	lock_txn_mark_locked(stats);
	/* the marks of this range are consumed: the aggregate below sees their changes */
	ok = ok && pgc_change(pc,
						  "DELETE FROM pgpart.rollup_dirty WHERE rollup_id = $1::integer "
						  "AND bucket >= $2::pg_catalog.date AND bucket < $3::pg_catalog.date",
						  3, params, err);
	sql = pg_xasprintf("DELETE FROM %s WHERE bucket >= $1::pg_catalog.date AND bucket < "
					   "$2::pg_catalog.date",
					   summary_q);
	ok = ok && pgc_change(pc, sql, 2, params + 1, err);
	free(sql);
	sql = pg_xasprintf("INSERT INTO %s %s", summary_q, agg);
	if (ok && !pc->dry_run)
	{
		res = pgc_query(pc, sql, 0, NULL, err);
		ok = res != NULL;
		if (ok)
		{
			c->groups = atoll(PQcmdTuples(res));
			PQclear(res);
		}
	}
	else if (ok)
		ok = pgc_change(pc, sql, 0, NULL, err);
	free(sql);
	if (ok)
	{
		char groups[32];
		const char *p5[5] = {id, c->piece->lo, c->piece->hi, c->piece->name, groups};

		snprintf(groups, sizeof(groups), "%lld", c->groups);
		ok = pgc_change(pc,
						"INSERT INTO pgpart.rollup_coverage (rollup_id, lo, hi, partition_name, "
						"summary_rows) VALUES ($1::integer, $2::pg_catalog.date, "
						"$3::pg_catalog.date, $4, $5::bigint) ON CONFLICT (rollup_id, lo) DO UPDATE "
						"SET hi = EXCLUDED.hi, partition_name = EXCLUDED.partition_name, "
						"summary_rows = EXCLUDED.summary_rows, built_at = pg_catalog.now()",
						5, p5, err);
	}
	free(agg);
	free(summary_q);
	return ok;
}

typedef struct DirtyCtx
{
	const Rollup *r;
	const Piece *pieces;
	int npieces;
	long buckets;	 /* dirty buckets recomputed */
	long discarded;	 /* marks outside what the rollup covers */
	bool everything; /* a TRUNCATE mark */
} DirtyCtx;

static bool
recompute(PgConn *pc, const Rollup *r, const Piece *piece, const char *buckets_literal,
		  PgpError *err)
{
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	char *bucket = rollup_bucket_sql(pc, r, "s");
	char *lo = rollup_bucket_start_sql(
		pc, r, "(SELECT pg_catalog.min(x) FROM pg_catalog.unnest($1::pg_catalog.date[]) x)");
	char *hi = rollup_bucket_start_sql(
		pc, r,
		strcmp(r->grain, "month") == 0
			? "(SELECT pg_catalog.max(x) FROM pg_catalog.unnest($1::pg_catalog.date[]) x) + "
			  "interval '1 month'"
			: "(SELECT pg_catalog.max(x) FROM pg_catalog.unnest($1::pg_catalog.date[]) x) + 1");
	StrBuf extra;
	char *agg, *sql;
	const char *params[1] = {buckets_literal};
	bool ok;

	/* the time range lets PostgreSQL use the partition column's indexes */
	sb_init(&extra);
	sb_appendf(&extra, "%s = ANY($1::pg_catalog.date[]) AND s.", bucket);
	pgc_append_ident(pc, &extra, r->column);
	sb_appendf(&extra, " >= %s AND s.", lo);
	pgc_append_ident(pc, &extra, r->column);
	sb_appendf(&extra, " < %s", hi);
	agg = rollup_aggregate_sql(pc, r, piece->qualified, extra.data);
	sql = pg_xasprintf("DELETE FROM %s WHERE bucket = ANY($1::pg_catalog.date[])", summary_q);
	ok = pgc_change(pc, sql, 1, params, err);
	free(sql);
	sql = pg_xasprintf("INSERT INTO %s %s", summary_q, agg);
	ok = ok && pgc_change(pc, sql, 1, params, err);
	free(sql);
	free(agg);
	sb_free(&extra);
	free(lo);
	free(hi);
	free(bucket);
	free(summary_q);
	return ok;
}

static bool
dirty_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	DirtyCtx *c = arg;
	const Rollup *r = c->r;
	char id[16];
	const char *params[1] = {id};
	PGresult *res;
	NameList buckets = {0};
	int i, j;
	bool ok = true;

	c->buckets = c->discarded = 0;
	c->everything = false;
	snprintf(id, sizeof(id), "%d", r->id);
	if (!advisory_lock(pc, r, err))
		return false;
	lock_txn_mark_locked(stats);
	if (pc->dry_run)
		return true;
	/*
	 * Only committed marks are visible, and each was committed with its
	 * change: every change whose mark is consumed here is in the aggregates
	 * computed below (later statements, later snapshots).
	 */
	res = pgc_query(pc,
					"WITH d AS (DELETE FROM pgpart.rollup_dirty WHERE rollup_id = $1::integer "
					"RETURNING bucket) SELECT DISTINCT d.bucket::text FROM d ORDER BY 1 NULLS FIRST",
					1, params, err);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
	{
		if (PQgetisnull(res, i, 0))
			c->everything = true;
		else
			namelist_add(&buckets, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	for (j = 0; ok && j < c->npieces; j++)
	{
		const Piece *piece = &c->pieces[j];
		StrBuf lit;
		int n = 0;

		if (!piece->covered)
			continue;
		sb_init(&lit);
		sb_append(&lit, "{");
		if (c->everything)
		{
			/* a TRUNCATE: every bucket of the partition */
			char *all = NULL;
			const char *p3[3] = {piece->lo, piece->hi, r->grain};

			ok = pgc_query_value(pc,
								 "SELECT pg_catalog.string_agg(g::pg_catalog.date::text, ',') FROM "
								 "pg_catalog.generate_series($1::pg_catalog.date, "
								 "$2::pg_catalog.date - 1, ('1 ' || $3)::interval) g",
								 3, p3, &all, err);
			if (all)
			{
				sb_append(&lit, all);
				n = 1;
			}
			free(all);
		}
		else
			for (i = 0; i < buckets.n; i++)
				if (strcmp(buckets.items[i], piece->lo) >= 0 &&
					strcmp(buckets.items[i], piece->hi) < 0)
				{
					sb_appendf(&lit, "%s%s", n ? "," : "", buckets.items[i]);
					n++;
				}
		sb_append(&lit, "}");
		if (ok && n > 0)
		{
			ok = recompute(pc, r, piece, lit.data, err);
			c->buckets += c->everything ? 1 : n;
		}
		sb_free(&lit);
	}
	if (!c->everything)
		c->discarded = buckets.n - c->buckets;
	namelist_free(&buckets);
	return ok && pgc_change(pc, "UPDATE pgpart.rollup SET refreshed_at = pg_catalog.now() WHERE id = $1::integer",
							1, params, err);
}

static bool
triggers_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	const Rollup *r = arg;
	PartitionList parts;
	int i;
	bool ok;

	lock_txn_mark_locked(stats);
	ok = rollup_ensure_triggers(pc, r, r->source_schema, r->source_name, err) &&
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
	Piece *pieces = NULL;
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
		 load_pieces(pc, r, &pieces, &npieces, err);
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
		char *line = pg_xasprintf(
			"rollup %s.%s: %d partition%s summarised (%lld rows), %s%ld changed bucket%s "
			"recomputed%s, %.0f ms",
			r->summary_schema, r->summary_name, built, built == 1 ? "" : "s", groups,
			dc.everything ? "after a TRUNCATE " : "", dc.buckets, dc.buckets == 1 ? "" : "s",
			skipped ? ", partitions whose bounds are not on bucket boundaries skipped" : "",
			clock_ms() - t0);

		namelist_add(notes, line);
		free(line);
	}
	pieces_free(pieces, npieces);
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

bool
ops_rollup_refresh(PgConn *pc, const RollupOptions *opt, RollupReport *r, PgpError *err)
{
	Rollup *list = NULL;
	int n = 0, i;
	NameList notes = {0};
	bool ok;

	memset(r, 0, sizeof(*r));
	ok = select_rollups(pc, opt, &list, &n, err);
	for (i = 0; ok && i < n; i++)
		ok = refresh_one(pc, &list[i], &opt->lock, &notes, err);
	for (i = 0; i < notes.n; i++)
		report(r, "refreshed", "%s", notes.items[i]);
	namelist_free(&notes);
	rollup_list_free(list, n);
	return ok;
}

/* ---- add ---- */

typedef struct AddCtx
{
	Rollup *r;
	const RollupOptions *opt;
	char *group_literal;
	const char *where; /* as typed; NULL: none */
} AddCtx;

static bool
add_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	AddCtx *c = arg;
	Rollup *r = c->r;
	char *summary_q = pgc_quote_qualified(pc, r->summary_schema, r->summary_name);
	char *source_q = pgc_quote_qualified(pc, r->source_schema, r->source_name);
	const char *params[6] = {source_q, summary_q, r->grain, c->group_literal, r->measures_text,
							 r->filter};
	char *id = NULL;
	bool ok;

	ok = rollup_create_summary(pc, r, err);
	if (ok && !pc->dry_run)
	{
		ok = pgc_query_value(pc,
							 "INSERT INTO pgpart.rollup (source, summary, grain, group_by, measures, "
							 "filter) VALUES ($1::pg_catalog.regclass, $2::pg_catalog.regclass, $3, "
							 "$4::name[], $5, $6) RETURNING id::text",
							 6, params, &id, err);
		if (ok)
		{
			r->id = atoi(id);
			free(id);
			id = NULL;
			ok = pgc_query_value(pc, "SELECT $1::pg_catalog.regclass::pg_catalog.oid::text", 1,
								 (const char *[]){summary_q}, &id, err);
			if (ok && id)
				r->summary = (RelOid) strtoul(id, NULL, 10);
		}
	}
	free(id);
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
	ok = ok && rollup_create_functions(pc, r, err) && triggers_body(pc, r, stats, err);
	free(summary_q);
	free(source_q);
	return ok;
}

bool
ops_rollup_add(PgConn *pc, const RollupOptions *opt, RollupReport *rep, PgpError *err)
{
	Rollup r;
	RelInfo rel = {0};
	PartConfig cfg;
	ColumnList groups = {0};
	ColumnInfo col;
	char *why = NULL;
	bool found, ok = false;
	int i;
	AddCtx c;

	memset(rep, 0, sizeof(*rep));
	memset(&r, 0, sizeof(r));
	memset(&cfg, 0, sizeof(cfg));
	memset(&c, 0, sizeof(c));
	if (strcmp(opt->grain, "day") != 0 && strcmp(opt->grain, "month") != 0)
	{
		err_set(err, EXIT_USAGE, "invalid --grain \"%s\"", opt->grain);
		err_hint(err, "Use day or month.");
		return false;
	}
	if (!measures_parse(opt->measures, &r.measures, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --measures \"%s\": %s", opt->measures, why);
		err_hint(err, "For example: --measures 'sum(amount), count(*)'.");
		free(why);
		return false;
	}
	if (!collist_parse(opt->group_by, &groups, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --group-by \"%s\": %s", opt->group_by, why);
		err_hint(err, "For example: --group-by 'org_id, status'.");
		free(why);
		goto out;
	}
	if (!schema_require(pc, err) || !resolve_managed(pc, opt->table, &rel, &cfg, err))
		goto out;
	if (strcmp(opt->grain, "month") == 0 && (cfg.unit == CAL_DAY || cfg.unit == CAL_WEEK))
	{
		err_set(err, EXIT_USAGE, "a month rollup needs partitions of a month or longer; %s.%s "
								 "has shorter ones",
				rel.schema, rel.name);
		err_hint(err, "Use --grain day: a day bucket never spans two partitions.");
		goto out;
	}
	/* every column named must exist in the source */
	for (i = 0; i < groups.n + r.measures.n; i++)
	{
		const char *name = i < groups.n ? groups.names[i] : r.measures.items[i - groups.n].column;

		if (name == NULL)
			continue;
		if (!catalog_column(pc, rel.oid, name, &col, &found, err))
			goto out;
		columninfo_free(&col);
		if (!found)
		{
			err_set(err, EXIT_USAGE, "column \"%s\" does not exist in %s.%s", name, rel.schema,
					rel.name);
			goto out;
		}
	}
	if (!catalog_column(pc, rel.oid, cfg.column, &col, &found, err))
		goto out;
	r.key_type = col.key_type;
	columninfo_free(&col);
	r.source = rel.oid;
	r.source_schema = pg_xstrdup(rel.schema);
	r.source_name = pg_xstrdup(rel.name);
	if (strchr(opt->name, '.') || opt->name[0] == '"')
	{
		if (!catalog_split_name(pc, opt->name, &r.summary_schema, &r.summary_name, err))
			goto out;
	}
	else
	{
		/* an unqualified name goes beside its source */
		r.summary_schema = pg_xstrdup(rel.schema);
		r.summary_name = pg_xstrdup(opt->name);
	}
	{
		char *q = pgc_quote_qualified(pc, r.summary_schema, r.summary_name);
		RelInfo other;

		ok = catalog_resolve_table(pc, q, &other, &found, err);
		free(q);
		if (!ok)
			goto out;
		ok = false;
		if (found)
		{
			relinfo_free(&other);
			err_set(err, EXIT_USAGE, "table %s.%s already exists", r.summary_schema,
					r.summary_name);
			err_hint(err, "Choose another --name, or \"pgpart rollup drop\" the old rollup.");
			goto out;
		}
	}
	r.grain = pg_xstrdup(opt->grain);
	for (i = 0; i < groups.n; i++)
		namelist_add(&r.group_by, groups.names[i]);
	r.measures_text = pg_xstrdup(opt->measures);
	if (opt->where && opt->where[0])
	{
		RollupFilter f;

		/* before anything is made: a refused expression leaves nothing behind */
		if (!rollup_filter_check(pc, rel.oid, opt->where, &f, err))
			goto out;
		r.filter = pg_xstrdup(f.canonical);
		rollupfilter_free(&f);
		c.where = opt->where;
	}
	r.column = pg_xstrdup(cfg.column);
	r.time_zone = pg_xstrdup(cfg.time_zone);
	c.r = &r;
	c.opt = opt;
	c.group_literal = text_array_literal(&r.group_by);
	if (!lock_run_txn(pc, &opt->lock, add_body, &c, NULL, err))
		goto out;
	report(rep, "rollup", "%s.%s (%s buckets of %s.%s by %s: %s%s%s)", r.summary_schema,
		   r.summary_name, r.grain, r.source_schema, r.source_name, opt->group_by, opt->measures,
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
	free(c.group_literal);
	collist_free(&groups);
	rollup_free(&r);
	partconfig_free(&cfg);
	if (rel.schema)
		relinfo_free(&rel);
	return ok;
}

/* ---- upgrade ---- */

static void
note(NameList *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(NameList *l, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = pg_xvasprintf(fmt, ap);
	va_end(ap);
	namelist_add(l, v);
	free(v);
}

/* one rollup, in the caller's subtransaction; false with err when it failed */
static bool
upgrade_one(PgConn *pc, Rollup *r, bool rebuild_functions, NameList *done, NameList *problems,
			PgpError *err)
{
	if (r->filter && !r->filter_compiled)
	{
		RollupFilter f;
		PgpError e;

		err_init(&e);
		if (!rollup_filter_check(pc, r->source, r->filter, &f, &e))
		{
			if (e.exit_code != EXIT_USAGE)
			{
				*err = e;
				return false;
			}
			note(problems,
				 "rollup %s.%s: its --where (%s) is refused: %s; it is not refreshed any more "
				 "(drop it and add it again)",
				 r->summary_schema, r->summary_name, r->filter, e.message);
			err_clear(&e);
		}
		else
		{
			char id[16];
			const char *params[2] = {f.canonical, id};
			bool ok;

			snprintf(id, sizeof(id), "%d", r->id);
			ok = rollup_create_filter_function(pc, r, &f, err) &&
				 pgc_change(pc, "UPDATE pgpart.rollup SET filter = $1 WHERE id = $2::integer", 2,
							params, err);
			if (ok)
				note(done, "rollup %s.%s: --where checked and kept as a function: %s",
					 r->summary_schema, r->summary_name, f.canonical);
			rollupfilter_free(&f);
			if (!ok)
				return false;
		}
	}
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
		note(done, "rollup %s.%s: trigger functions rebuilt (they run only for %s.%s and its "
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

		err_init(&e);
		/* one rollup that cannot be upgraded must not keep the others as they were */
		if (!pgc_exec(pc, "SAVEPOINT pgpart_rollup_upgrade", 0, NULL, err))
		{
			ok = false;
			break;
		}
		if (!upgrade_one(pc, &list[i], rebuild_functions, done, problems, &e))
		{
			PgpError ignored;

			note(problems, "rollup %s.%s: not upgraded: %s", list[i].summary_schema,
				 list[i].summary_name, e.message ? e.message : "failed");
			err_init(&ignored);
			pgc_exec(pc, "ROLLBACK TO SAVEPOINT pgpart_rollup_upgrade", 0, NULL, &ignored);
			err_clear(&ignored);
		}
		err_clear(&e);
		ok = pgc_exec(pc, "RELEASE SAVEPOINT pgpart_rollup_upgrade", 0, NULL, err);
	}
	rollup_list_free(list, n);
	return ok;
}

/* ---- status and drop ---- */

bool
ops_rollup_status(PgConn *pc, const RollupOptions *opt, RollupReport *rep, PgpError *err)
{
	Rollup *list = NULL;
	int n = 0, i, j;
	bool ok;

	memset(rep, 0, sizeof(*rep));
	ok = select_rollups(pc, opt, &list, &n, err);
	for (i = 0; ok && i < n; i++)
	{
		const Rollup *r = &list[i];
		char id[16];
		const char *params[1] = {id};
		PGresult *res;
		Piece *pieces = NULL;
		int np = 0, uncovered = 0;

		snprintf(id, sizeof(id), "%d", r->id);
		res = pgc_query(
			pc,
			"SELECT (SELECT pg_catalog.count(*) FROM pgpart.rollup_coverage c WHERE c.rollup_id = r.id), "
			"  (SELECT pg_catalog.min(c.lo)::text || ' .. ' || pg_catalog.max(c.hi)::text "
			"   FROM pgpart.rollup_coverage c WHERE c.rollup_id = r.id), "
			"  (SELECT pg_catalog.count(DISTINCT d.bucket) FROM pgpart.rollup_dirty d "
			"   WHERE d.rollup_id = r.id), "
			"  (SELECT pg_catalog.bool_or(d.bucket IS NULL) FROM pgpart.rollup_dirty d "
			"   WHERE d.rollup_id = r.id), "
			"  (SELECT pg_catalog.round(EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.min(d.marked_at))) "
			"   FROM pgpart.rollup_dirty d WHERE d.rollup_id = r.id)::text, "
			"  COALESCE(r.refreshed_at::text, 'never'), "
			"  pg_catalog.pg_size_pretty((SELECT pg_catalog.sum(pg_catalog.pg_total_relation_size(t.relid))::bigint FROM pg_catalog.pg_partition_tree(r.summary) t)) "
			"FROM pgpart.rollup r WHERE r.id = $1::integer",
			1, params, err);
		if (res == NULL)
		{
			ok = false;
			break;
		}
		ok = load_pieces(pc, r, &pieces, &np, err);
		for (j = 0; j < np; j++)
			uncovered += !pieces[j].covered;
		pieces_free(pieces, np);
		report(rep, "rollup", "%s.%s", r->summary_schema, r->summary_name);
		{
			char *by = namelist_join(&r->group_by, ", ");

			report(rep, "source", "%s.%s, %s buckets, by %s: %s%s%s", r->source_schema,
				   r->source_name, r->grain, by, r->measures_text, r->filter ? " where " : "",
				   r->filter ? r->filter : "");
			free(by);
		}
		report(rep, "covers", "%s partition%s (%s)%s", PQgetvalue(res, 0, 0),
			   strcmp(PQgetvalue(res, 0, 0), "1") == 0 ? "" : "s",
			   PQgetisnull(res, 0, 1) ? "nothing yet" : PQgetvalue(res, 0, 1),
			   uncovered ? "; some partitions are not summarised yet: run refresh" : "");
		report(rep, "changed since refresh", "%s bucket%s%s%s%s", PQgetvalue(res, 0, 2),
			   strcmp(PQgetvalue(res, 0, 2), "1") == 0 ? "" : "s",
			   PQgetvalue(res, 0, 3)[0] == 't' ? " and a TRUNCATE" : "",
			   PQgetisnull(res, 0, 4) ? "" : ", oldest marked ",
			   PQgetisnull(res, 0, 4) ? "" : PQgetvalue(res, 0, 4));
		if (!PQgetisnull(res, 0, 4))
		{
			/* the report reads these buckets from the detail rows until the next refresh */
			free(rep->values.items[rep->values.n - 1]);
			rep->values.items[rep->values.n - 1] =
				pg_xasprintf("%s bucket%s%s, oldest marked %s s ago (reports read them from "
							 "the detail rows)",
							 PQgetvalue(res, 0, 2), strcmp(PQgetvalue(res, 0, 2), "1") == 0 ? "" : "s",
							 PQgetvalue(res, 0, 3)[0] == 't' ? " and a TRUNCATE" : "",
							 PQgetvalue(res, 0, 4));
		}
		report(rep, "refreshed at", "%s", PQgetvalue(res, 0, 5));
		report(rep, "size", "%s", PQgetvalue(res, 0, 6));
		report(rep, "uncovered partitions", "%d", uncovered);
		PQclear(res);
	}
	rollup_list_free(list, n);
	return ok;
}

static bool
drop_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	lock_txn_mark_locked(stats);
	return rollup_drop(pc, arg, err);
}

bool
ops_rollup_drop(PgConn *pc, const RollupOptions *opt, RollupReport *rep, PgpError *err)
{
	Rollup *list = NULL;
	int n = 0, i;
	bool ok;

	memset(rep, 0, sizeof(*rep));
	if (opt->name == NULL)
	{
		err_set(err, EXIT_USAGE, "give the rollup to drop with --name");
		return false;
	}
	ok = select_rollups(pc, opt, &list, &n, err);
	for (i = 0; ok && i < n; i++)
	{
		ok = lock_run_txn(pc, &opt->lock, drop_body, &list[i], NULL, err);
		if (ok)
			report(rep, "dropped", "%s.%s, its triggers and records", list[i].summary_schema,
				   list[i].summary_name);
	}
	rollup_list_free(list, n);
	return ok;
}
