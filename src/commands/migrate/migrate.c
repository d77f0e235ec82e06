/*
 * migrate.c - the steps of an online migration (migrate.h): what each
 * subcommand checks, in which transaction it works and what it reports.
 * Which step may run in which phase is core/migration_phase.c's table; the
 * statements are in this folder's *_sql.c files: shadow_sql.c (what plan
 * and start read, the shadow's DDL), mirror_sql.c (triggers, batches,
 * repair), switch_sql.c (switch, rollback and finish transactions),
 * migration_sql.c (pgpart.migration); the comparison of table and copy is
 * shared with "move" in pg/compare.c.  Nothing here prints.
 */
#include "commands/migrate/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/migrate/mirror_sql.h"
#include "commands/migrate/shadow_sql.h"
#include "commands/migrate/switch_sql.h"
#include "core/batchsize.h"
#include "core/naming.h"
#include "core/plan.h"
#include "pg/target.h"
#include "pg/bounds.h"
#include "pg/citus.h"
#include "pg/clone.h"
#include "pg/config.h"
#include "pg/health.h"
#include "pg/partition.h"
#include "pg/privilege.h"
#include "pg/schema.h"
#include "pg/stmt.h"
#include "pg/worklock.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/progress.h"

void
migratereport_free(MigrateReport *r)
{
	NAMELIST_FREE_ALL(&r->labels, &r->values, &r->blockers, &r->warnings);
	memset(r, 0, sizeof(*r));
}

/* one fact of the plan or of a step's outcome: label, then the formatted value */
#define report_fact(r, label, ...)                                                         \
	namelist_add_fact(&(r)->labels, &(r)->values, (label), __VA_ARGS__)

/* ---- what a migration needs to know before it changes anything ---- */

typedef struct Prepared
{
	RelInfo rel;
	char *source_q;
	ColumnInfo col;
	NameList key, key_types;
	NameList stmts;	  /* for the shadow, after CREATE TABLE ... LIKE */
	NameList changes; /* how keys change */
	char *shadow_name, *old_name;
	Period *periods;
	int nperiods;
	ResolvedBound *bounds;
	char *min_text, *max_text;
} Prepared;

static void
prepared_free(Prepared *p)
{
	relinfo_free(&p->rel);
	free(p->source_q);
	columninfo_free(&p->col);
	NAMELIST_FREE_ALL(&p->key, &p->key_types, &p->stmts, &p->changes);
	FREE_ALL(p->shadow_name, p->old_name);
	if (p->bounds)
		bounds_free(p->bounds, p->nperiods * 2);
	FREE_ALL(p->bounds, p->periods, p->min_text, p->max_text);
	memset(p, 0, sizeof(*p));
}

static bool
no_migration_yet(PgConn *pc, const RelInfo *rel, PgpError *err)
{
	Migration m;
	bool found;
	PartConfig *cfg;
	int n;

	if (!migration_load_active(pc, rel->schema, rel->name, false, &m, &found, err))
		return false;
	if (found)
	{
		err_set(err, EXIT_USAGE, "a migration of %s.%s is already in progress (phase %s)",
				rel->schema, rel->name, migration_phase_name(m.phase));
		err_hint(err, "See \"pgpart migrate status %s.%s\".", rel->schema, rel->name);
		migration_free(&m);
		return false;
	}
	if (!config_load(pc, rel->oid, &cfg, &n, err))
		return false;
	partconfig_list_free(cfg, n);
	if (n > 0)
	{
		err_set(err, EXIT_USAGE, "%s.%s is already partitioned and managed by pgpart",
				rel->schema, rel->name);
		return false;
	}
	return true;
}

static bool
plan_periods_from_data(PgConn *pc, const MigrateOptions *opt, Prepared *p, PgpError *err)
{
	CivilDate first;
	bool has_first;

	/* the data's range, as civil dates in the table's time zone */
	if (!shadow_data_range(pc, p->source_q, p->col.name, p->col.key_type == KEY_TIMESTAMPTZ,
						   opt->part.time_zone, &p->min_text, &p->max_text, err))
		return false;

	/* from the oldest row's period; a date outside 1..9999 goes to the default partition */
	has_first = opt->part.has_start || (p->min_text && cal_date_parse(p->min_text, &first));
	if (opt->part.has_start)
		first = opt->part.start;
	return target_plan_periods(pc, opt->part.time_zone, opt->part.unit, has_first ? &first : NULL,
							   opt->part.premake, &p->periods, &p->nperiods, err) &&
		   target_resolve_bounds(pc, p->col.key_type, opt->part.time_zone, p->periods, p->nperiods,
								 &p->bounds, err);
}

/* the table and column as asked, or the usage error that says why not */
static bool
resolve_source(PgConn *pc, const MigrateOptions *opt, Prepared *p, PgpError *err)
{
	bool found;

	if (!schema_require(pc, err) || !catalog_resolve_table(pc, opt->table, &p->rel, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		return false;
	}
	if (p->rel.relkind == 'p')
	{
		err_set(err, EXIT_USAGE, "%s.%s is already partitioned", p->rel.schema, p->rel.name);
		err_hint(err, "\"pgpart create %s.%s --column %s\" takes it over without copying.",
				 p->rel.schema, p->rel.name, opt->part.column);
		return false;
	}
	if (p->rel.relkind != 'r' || p->rel.is_partition)
	{
		err_set(err, EXIT_USAGE, "%s.%s is not a plain table", p->rel.schema, p->rel.name);
		return false;
	}
	if (!no_migration_yet(pc, &p->rel, err))
		return false;
	p->source_q = pgc_quote_qualified(pc, p->rel.schema, p->rel.name);
	if (!catalog_column(pc, p->rel.oid, opt->part.column, &p->col, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "column \"%s\" does not exist in %s.%s", opt->part.column,
				p->rel.schema, p->rel.name);
		return false;
	}
	if (!p->col.key_type_ok || p->col.generated)
	{
		err_set(err, EXIT_USAGE, "column \"%s\" of %s.%s cannot be the partition key (%s%s)",
				opt->part.column, p->rel.schema, p->rel.name, p->col.type_name,
				p->col.generated ? ", generated" : "");
		err_hint(err, "pgpart partitions by a timestamptz, timestamp or date column.");
		return false;
	}
	return true;
}

/* what would make the migration unsafe, as blockers in r; and the shadow's statements */
static bool
find_blockers(PgConn *pc, const MigrateOptions *opt, Prepared *p, MigrateReport *r,
			  PgpError *err)
{
	bool found;
	CloneScript cs;
	NameList problems = {0};
	int i;

	if (!shadow_find_key(pc, p->rel.oid, &p->key, &p->key_types, err))
		return false;
	if (p->key.n == 0)
		namelist_add(&r->blockers, "it has no primary key and no unique key on NOT NULL columns: "
								   "rows cannot be told apart, so changes cannot be mirrored "
								   "exactly (add a primary key first)");

	p->shadow_name = naming_derive(p->rel.name, "pgpart_new");
	p->old_name = naming_derive(p->rel.name, "pgpart_old");
	for (i = 0; i < 2; i++)
	{
		RelInfo other;
		char *q = pgc_quote_qualified(pc, p->rel.schema, i == 0 ? p->shadow_name : p->old_name);

		if (!catalog_resolve_table(pc, q, &other, &found, err))
		{
			free(q);
			return false;
		}
		relinfo_free(&other);
		if (found)
		{
			char *msg = pg_xasprintf("a table %s already exists (left over from an earlier "
									 "migration?)",
									 q);

			namelist_add(&r->blockers, msg);
			free(msg);
		}
		free(q);
	}

	if (!clone_capture(pc, p->rel.oid, p->rel.schema, p->shadow_name, &cs, err))
		return false;
	for (i = 0; i < cs.blockers.n; i++)
		namelist_add(&r->blockers, cs.blockers.items[i]);
	for (i = 0; i < cs.warnings.n; i++)
		/* migrate gives the source's storage parameters to every partition (start_body) */
		if (strncmp(cs.warnings.items[i], "storage parameters", 18) != 0)
			namelist_add(&r->warnings, cs.warnings.items[i]);
	clonescript_free(&cs);

	if (!shadow_statements(pc, p->rel.oid, p->rel.schema, p->shadow_name, opt->part.column,
						   opt->extend_keys, &p->stmts, &problems, &p->changes, err))
		return false;
	for (i = 0; i < problems.n; i++)
		namelist_add(&r->blockers, problems.items[i]);
	namelist_free(&problems);
	return true;
}

/* everything that can be checked without changing anything; blockers go to r */
static bool
prepare(PgConn *pc, const MigrateOptions *opt, Prepared *p, MigrateReport *r, PgpError *err)
{
	memset(p, 0, sizeof(*p));
	return resolve_source(pc, opt, p, err) && find_blockers(pc, opt, p, r, err) &&
		   plan_periods_from_data(pc, opt, p, err);
}

static void
refuse(const Prepared *p, const MigrateReport *r, PgpError *err)
{
	char *list = namelist_join(&r->blockers, "; ");

	err_set(err, EXIT_USAGE, "cannot migrate %s.%s online: %s", p->rel.schema, p->rel.name, list);
	err_hint(err, "Nothing was changed.  \"pgpart migrate plan\" lists what it found.");
	free(list);
}

/* what plan reports: facts (res: shadow_plan_facts) in the order a reader needs them */
static void
plan_report(const Prepared *p, const MigrateOptions *opt, const PGresult *res, double est,
			MigrateReport *r)
{
	int i;

	report_fact(r, "table", "%s.%s", p->rel.schema, p->rel.name);
	report_fact(r, "size", "%s", PQgetvalue(res, 0, 1));
	report_fact(r, "rows (estimate)", "%.0f", est);
	report_fact(r, "partition column", "%s (%s)", p->col.name, p->col.type_name);
	report_fact(r, "data range", "%s .. %s", p->min_text ? p->min_text : "(no rows)",
		   p->max_text ? p->max_text : "(no rows)");
	if (p->key.n > 0)
	{
		char *k = namelist_join(&p->key, ", ");

		report_fact(r, "copy key", "(%s): rows are copied in this order, in batches", k);
		free(k);
	}
	for (i = 0; i < p->changes.n; i++)
		report_fact(r, "key change", "%s", p->changes.items[i]);
	if (!PQgetisnull(res, 0, 2))
		report_fact(r, "special columns", "%s", PQgetvalue(res, 0, 2));
	if (!PQgetisnull(res, 0, 3))
		report_fact(r, "foreign keys", "%s (recreated on the new table; checked for every copied row)",
			   PQgetvalue(res, 0, 3));
	if (p->nperiods > 0)
	{
		char *first = naming_derive(p->rel.name, p->periods[0].suffix);
		char *last = naming_derive(p->rel.name, p->periods[p->nperiods - 1].suffix);

		report_fact(r, "partitions", "%d of one %s: %s .. %s, plus %s_default", p->nperiods,
			   cal_unit_name(opt->part.unit), first, last, p->rel.name);
		FREE_ALL(first, last);
	}
	report_fact(r, "shadow table", "%s.%s (becomes %s.%s at switch; the old table is renamed %s)",
		   p->rel.schema, p->shadow_name, p->rel.schema, p->rel.name, p->old_name);
	if (opt->rate > 0)
		report_fact(r, "backfill time", "about %.0f s at --rate %.0f rows/s", est / opt->rate,
			   opt->rate);
	else
		report_fact(r, "backfill time", "unthrottled; about %.0f s at 10000 rows/s (set --rate)",
			   est / 10000.0);
}

bool
ops_migrate_plan(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Prepared p;
	PGresult *res;
	double est;

	memset(r, 0, sizeof(*r));
	if (!citus_refuse_migrate(pc, opt->table, err))
		return false;
	if (!prepare(pc, opt, &p, r, err))
	{
		prepared_free(&p);
		return false;
	}
	res = shadow_plan_facts(pc, p.rel.oid, err);
	if (res == NULL)
	{
		prepared_free(&p);
		return false;
	}
	if (!catalog_estimate_rows(pc, p.rel.oid, &est, err))
	{
		PQclear(res);
		prepared_free(&p);
		return false;
	}
	plan_report(&p, opt, res, est, r);
	PQclear(res);
	report_fact(r, "next step", "%s", r->blockers.n > 0 ? "none: resolve the blockers first"
												   : "pgpart migrate start (same options)");
	if (r->blockers.n > 0)
		refuse(&p, r, err);
	prepared_free(&p);
	return r->blockers.n == 0;
}

/*
 * The trigger functions of one migration made again when an older version
 * made them; a line for done or problems.  e: why it could not be done (the
 * caller rolls back to its savepoint).
 */
static void
rebuild_one(PgConn *pc, const char *schema, const char *name, NameList *done,
			NameList *problems, PgpError *e)
{
	Migration m;
	TableCopy spec;
	bool found = false;
	char *now = NULL, *shadow_q = NULL, *prefix = NULL, *msg;
	int guarded = 0; /* of its four trigger functions, made by this version */

	memset(&spec, 0, sizeof(spec));
	if (migration_load_active(pc, schema, name, false, &m, &found, e) && found &&
		(prefix = pg_xasprintf("migration_%s_", m.id)) &&
		priv_count_guarded(pc, prefix, &guarded, e) && guarded < 4 &&
		table_fingerprint(pc, m.source, &now, e))
	{
		if (now == NULL || strcmp(now, m.fingerprint) != 0)
		{
			/* its definition changed: the migration must be rolled back anyway */
			msg = pg_xasprintf("migration of %s.%s: trigger functions not rebuilt, the table "
							   "changed since it started (roll it back)",
							   schema, name);
			namelist_add(problems, msg);
			free(msg);
		}
		else
		{
			shadow_q = pgc_quote_qualified(pc, m.schema, m.shadow_name);
			if (tablecopy_load(pc, m.source, shadow_q, &m.key, m.column, &spec, e) &&
				mirror_create_functions(pc, &m, &spec, e))
			{
				msg = pg_xasprintf("migration of %s.%s: trigger functions rebuilt (they run "
								   "only for its two tables)",
								   schema, name);
				namelist_add(done, msg);
				free(msg);
			}
		}
	}
	FREE_ALL(now, shadow_q, prefix);
	tablecopy_free(&spec);
	migration_free(&m);
}

bool
ops_migrate_rebuild_functions(PgConn *pc, NameList *done, NameList *problems, PgpError *err)
{
	PGresult *res;
	int i;
	bool ok = true;

	res = migration_active_tables(pc, err);
	if (res == NULL)
		return false;
	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *schema = PQgetvalue(res, i, 0), *name = PQgetvalue(res, i, 1);
		PgpError e;

		/* one migration that cannot be rebuilt must not keep the others as they were */
		if (!stmt_savepoint(pc, SAVEPOINT_SET, MIGRATION_SAVEPOINT, err))
		{
			ok = false;
			break;
		}
		err_init(&e);
		rebuild_one(pc, schema, name, done, problems, &e);
		if (err_is_set(&e))
		{
			PgpError ignored;
			char *msg = pg_xasprintf("migration of %s.%s: trigger functions not rebuilt: %s",
									 schema, name, e.message);

			namelist_add(problems, msg);
			free(msg);
			err_init(&ignored);
			stmt_savepoint(pc, SAVEPOINT_ROLLBACK, MIGRATION_SAVEPOINT, &ignored);
			err_clear(&ignored);
		}
		ok = stmt_savepoint(pc, SAVEPOINT_RELEASE, MIGRATION_SAVEPOINT, err);
		err_clear(&e);
	}
	PQclear(res);
	return ok;
}

/* ---- start ---- */

typedef struct StartCtx
{
	const MigrateOptions *opt;
	Prepared *p;
	Migration m;
} StartCtx;

/* the shadow's partitions, the default one last */
static bool
create_partitions(PgConn *pc, const Prepared *p, PgpError *err)
{
	int i;
	bool ok = true;

	/* nobody uses the shadow yet: PARTITION OF is safe; names are the final ones */
	for (i = 0; ok && i <= p->nperiods; i++)
	{
		NewPartition np;
		char *name = naming_derive(p->rel.name, i < p->nperiods ? p->periods[i].suffix : "default");

		memset(&np, 0, sizeof(np));
		np.parent_schema = p->rel.schema;
		np.parent_name = p->shadow_name;
		np.column = p->col.name;
		np.name = name;
		np.lo_literal = i < p->nperiods ? p->bounds[2 * i].literal : NULL;
		np.hi_literal = i < p->nperiods ? p->bounds[2 * i + 1].literal : NULL;
		ok = partition_create_of(pc, &np, err);
		free(name);
	}
	return ok;
}

/* the record of the migration that start begins, from what prepare found */
static void
migration_from_prepared(const Prepared *p, const MigrateOptions *opt, Migration *m)
{
	int i;

	/* what a retried transaction (lock_run_txn) recorded before is dropped */
	migration_free(m);
	m->source = p->rel.oid;
	m->schema = pg_xstrdup(p->rel.schema);
	m->name = pg_xstrdup(p->rel.name);
	m->shadow_name = pg_xstrdup(p->shadow_name);
	m->old_name = pg_xstrdup(p->old_name);
	m->column = pg_xstrdup(p->col.name);
	m->unit = opt->part.unit;
	m->start = p->nperiods > 0 ? p->periods[0].start : opt->part.start;
	m->premake = opt->part.premake;
	m->time_zone = pg_xstrdup(opt->part.time_zone);
	for (i = 0; i < p->key.n; i++)
	{
		namelist_add(&m->key, p->key.items[i]);
		namelist_add(&m->key_types, p->key_types.items[i]);
	}
}

static bool
start_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	StartCtx *c = arg;
	Prepared *p = c->p;
	const MigrateOptions *opt = c->opt;
	Migration *m = &c->m;
	char *shadow_q = pgc_quote_qualified(pc, p->rel.schema, p->shadow_name);
	TableCopy spec;
	int i;
	bool ok = false;

	memset(&spec, 0, sizeof(spec));
	if (!shadow_create_table(pc, shadow_q, p->source_q, p->col.name, p->rel.tablespace, err))
		goto done;
	for (i = 0; i < p->stmts.n; i++)
		if (!pgc_change(pc, p->stmts.items[i], 0, NULL, err))
			goto done;
	if (!create_partitions(pc, p, err))
		goto done;
	/* a partitioned table takes no storage parameters: its partitions get the source's */
	if (!shadow_partition_storage(pc, p->rel.oid, shadow_q, err))
		goto done;

	/* from here on writers wait: keep it short */
	if (!mirror_lock_writers(pc, p->source_q, "SHARE ROW EXCLUSIVE", err))
		goto done;
	lock_txn_mark_locked(stats);

	migration_from_prepared(p, opt, m);
	if (!table_fingerprint(pc, p->rel.oid, &m->fingerprint, err))
		goto done;
	if (!pc->dry_run && !shadow_oid(pc, shadow_q, &m->shadow, err))
		goto done;
	if (!tablecopy_load(pc, p->rel.oid, shadow_q, &p->key, p->col.name, &spec, err))
		goto done;
	/* the highest key now: every row above it will have been written through the trigger */
	if (!mirror_highest_key(pc, &spec, &m->upper_key, err))
		goto done;
	if (!migration_insert(pc, m, err) || !mirror_create_functions(pc, m, &spec, err) ||
		!mirror_create_triggers(pc, m, p->source_q, "forward", err))
		goto done;
	if (m->upper_key.n == 0 &&
		!migration_advance(pc, m, MIGRATION_STEP_COPIED, err))
		goto done;
	ok = true;
done:
	tablecopy_free(&spec);
	free(shadow_q);
	return ok;
}

static bool start(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err);

/* two starts of one table at once: the second is told, not failed on a duplicate shadow */
bool
ops_migrate_start(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	WorkLock wl = {0};
	RelInfo rel;
	bool found = false, ok;

	memset(r, 0, sizeof(*r));
	memset(&rel, 0, sizeof(rel));
	if (!catalog_resolve_table(pc, opt->table, &rel, &found, err))
		return false;
	/* an unknown table: start says so itself */
	ok = !found || worklock_take(pc, &wl, "migrate start", &rel.oid, 1, err);
	if (found)
		relinfo_free(&rel);
	ok = ok && start(pc, opt, r, err);
	worklock_release(pc, &wl);
	return ok;
}

static bool
start(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Prepared p;
	StartCtx c;
	LockStats st;
	bool ok = false;

	if (!citus_refuse_migrate(pc, opt->table, err))
		return false;
	memset(&c, 0, sizeof(c));
	if (!prepare(pc, opt, &p, r, err))
		goto done;
	if (r->blockers.n > 0)
	{
		refuse(&p, r, err);
		goto done;
	}
	c.opt = opt;
	c.p = &p;
	if (!lock_run_txn(pc, &opt->lock, start_body, &c, &st, err))
		goto done;
	r->lock_held_ms = st.held_ms;
	r->lock_attempts = st.attempts;
	report_fact(r, "table", "%s.%s", p.rel.schema, p.rel.name);
	report_fact(r, "shadow table", "%s.%s", p.rel.schema, p.shadow_name);
	report_fact(r, "partitions", "%d + default", p.nperiods);
	report_fact(r, "migration id", "%s", c.m.id ? c.m.id : "?");
	report_fact(r, "phase", "%s", c.m.upper_key.n == 0 ? "backfilled (the table was empty)"
												   : "backfilling");
	report_fact(r, "next step", "pgpart migrate backfill %s.%s", p.rel.schema, p.rel.name);
	ok = true;
done:
	migration_free(&c.m);
	prepared_free(&p);
	return ok;
}

/* ---- the steps after start share this ---- */

typedef struct Active
{
	Migration m;
	TableCopy spec; /* source (old) -> shadow (new), whatever their names now */
} Active;

static void
active_free(Active *a)
{
	migration_free(&a->m);
	tablecopy_free(&a->spec);
}

/*
 * schema and name of the table a migration is recorded under: the table the
 * user names if it exists (it may be either side after a switch), else the
 * name as typed (the table may be gone after finish).
 */
static bool
migration_table_name(PgConn *pc, const char *user_name, char **schema, char **name,
					 PgpError *err)
{
	RelInfo rel;
	bool found;

	if (!catalog_resolve_table(pc, user_name, &rel, &found, err))
		return false;
	if (!found)
		return catalog_split_name(pc, user_name, schema, name, err);
	*schema = pg_xstrdup(rel.schema);
	*name = pg_xstrdup(rel.name);
	relinfo_free(&rel);
	return true;
}

static bool
load_active(PgConn *pc, const MigrateOptions *opt, Active *a, PgpError *err)
{
	char *schema = NULL, *name = NULL;
	bool found;
	bool ok = false;

	memset(a, 0, sizeof(*a));
	if (!schema_require(pc, err))
		return false;
	if (!migration_table_name(pc, opt->table, &schema, &name, err))
		return false;
	if (!migration_load_active(pc, schema, name, false, &a->m, &found, err))
		goto done;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "no migration of %s.%s is in progress", schema, name);
		err_hint(err, "Start one with \"pgpart migrate start %s.%s --column COL\".", schema, name);
		goto done;
	}
	if (a->m.shadow != 0)
	{
		char *shadow_q = NULL;

		if (!shadow_name_of(pc, a->m.shadow, &shadow_q, err))
			goto done;
		ok = tablecopy_load(pc, a->m.source, shadow_q, &a->m.key, a->m.column, &a->spec, err);
		free(shadow_q);
	}
	else
		ok = true;
done:
	FREE_ALL(schema, name);
	return ok;
}

/*
 * The work lock (pg/worklock.h) on both tables of the migration of
 * opt->table (they swap names at switch; their OIDs stay), taken before the
 * step reads the migration's state so that no other step changes it
 * meanwhile.  No migration in progress: nothing to take, and the step itself
 * says so.
 */
static bool
guard_migration(PgConn *pc, const MigrateOptions *opt, const char *command, WorkLock *wl,
				PgpError *err)
{
	Migration m;
	char *schema = NULL, *name = NULL;
	bool found = false, ok;

	memset(&m, 0, sizeof(m));
	ok = schema_require(pc, err) && migration_table_name(pc, opt->table, &schema, &name, err) &&
		 migration_load_active(pc, schema, name, false, &m, &found, err);
	if (ok && found)
	{
		RelOid tables[2] = {m.source, m.shadow};

		ok = worklock_take(pc, wl, command, tables, 2, err);
	}
	migration_free(&m);
	FREE_ALL(schema, name);
	return ok;
}

static const char *
next_step(const Migration *m)
{
	return migration_next_step(m->phase, m->verified_since_switch && m->verify_ok);
}

static bool
wrong_phase(const Migration *m, MigrationStep step, PgpError *err)
{
	err_set(err, EXIT_USAGE, "cannot %s the migration of %s.%s: it is in phase \"%s\"",
			migration_step_verb(step), m->schema, m->name, migration_phase_name(m->phase));
	err_hint(err, "The next step is: pgpart migrate %s %s.%s.", next_step(m), m->schema, m->name);
	return false;
}

/* the migration in progress of opt->table, when step may run in its phase */
static bool
load_for(PgConn *pc, const MigrateOptions *opt, MigrationStep step, Active *a, PgpError *err)
{
	return load_active(pc, opt, a, err) &&
		   (migration_step_allowed(a->m.phase, step, NULL) || wrong_phase(&a->m, step, err));
}

/*
 * ALTER TABLE ... DISABLE TRIGGER (ALL or by name) stops the mirror without
 * any error in the application: every write made meanwhile is missing from the
 * other table.  Checked before each batch, verify and switch; a disable and
 * re-enable between two checks is only caught by verify's comparison.
 */
static bool
check_mirror_triggers(PgConn *pc, const Migration *m, PgpError *err)
{
	bool switched = m->phase == MIGRATION_SWITCHED;
	char *prefix = pg_xasprintf("pgpart_migration_%s_%s", m->id, switched ? "reverse" : "forward");
	char *bad = NULL;
	bool ok;

	if (!mirror_inactive_triggers(pc, switched ? m->shadow : m->source, prefix, &bad, err))
	{
		free(prefix);
		return false;
	}
	free(prefix);
	ok = bad == NULL;
	if (!ok)
	{
		err_set(err, EXIT_CHECK, "the triggers that mirror writes of %s.%s are not active: %s",
				m->schema, m->name, bad);
		err_detail(err, "Writes made while they were off reached only one of the two tables.");
		err_hint(err,
				 "Enable them again with ALTER TABLE ... ENABLE ALWAYS TRIGGER, then run "
				 "\"pgpart migrate verify %s.%s --repair\"; or roll back.",
				 m->schema, m->name);
	}
	free(bad);
	return ok;
}

static bool
check_fingerprint(PgConn *pc, const Migration *m, PgpError *err)
{
	char *now = NULL;
	bool same;

	if (!check_mirror_triggers(pc, m, err))
		return false;

	if (!table_fingerprint(pc, m->source, &now, err))
		return false;
	same = now && strcmp(now, m->fingerprint) == 0;
	free(now);
	if (!same)
	{
		err_set(err, EXIT_RUNTIME,
				"the definition of %s.%s changed since the migration started (columns, "
				"indexes or triggers)",
				m->schema, m->name);
		err_detail(err, "The copy was made for the old definition; continuing could lose or "
						"corrupt data.");
		err_hint(err, "Roll back with \"pgpart migrate rollback %s.%s\" and start again.",
				 m->schema, m->name);
		return false;
	}
	return true;
}

/* ---- backfill ---- */

typedef struct BatchCtx
{
	Active *a;
	int batch_size;
	NameList next_key;
	int locked; /* rows the batch locked (the copy may have had some already) */
	long long copied;
	bool done;
} BatchCtx;

static char *
range_text(const KeyRange *r)
{
	char *lo = r->lower && r->lower->n ? namelist_join(r->lower, ", ") : pg_xstrdup("start");
	char *hi = r->upper && r->upper->n ? namelist_join(r->upper, ", ") : pg_xstrdup("end");
	char *t = pg_xasprintf("keys (%s] .. [%s]", lo, hi);

	FREE_ALL(lo, hi);
	return t;
}

typedef bool (*RangeComparer)(PgConn *pc, const TableCopy *t, const KeyRange *r,
							  TableComparison *c, PgpError *err);

/*
 * The range of table and copy compared by cmp: *mismatch is NULL when they
 * are equal, else where and how they differ (the caller frees it).
 */
static bool
compare_range_by(PgConn *pc, RangeComparer cmp, const TableCopy *spec, const KeyRange *range,
				 long long *rows, char **mismatch, PgpError *err)
{
	TableComparison c;

	if (!cmp(pc, spec, range, &c, err))
		return false;
	*rows = c.rows;
	*mismatch = NULL;
	if (!c.equal)
	{
		char *rt = range_text(range);

		*mismatch = pg_xasprintf("%s: source %s rows, copy %s rows%s", rt, c.from_rows, c.to_rows,
								 strcmp(c.from_rows, c.to_rows) == 0
									 ? " (same count, different contents)"
									 : "");
		free(rt);
	}
	tablecomparison_free(&c);
	return true;
}

/* verify's comparison (md5 of each row's text) */
static bool
compare_range(PgConn *pc, const TableCopy *spec, const KeyRange *range, long long *rows,
			  char **mismatch, PgpError *err)
{
	return compare_range_by(pc, tablecopy_compare, spec, range, rows, mismatch, err);
}

/* the batch's range of the copy is equal to the source's, or the batch fails */
static bool
check_batch(PgConn *pc, const Active *a, const KeyRange *range, PgpError *err)
{
	long long rows;
	char *mismatch;

	if (!compare_range_by(pc, mirror_batch_compare, &a->spec, range, &rows, &mismatch, err))
		return false;
	if (mismatch == NULL)
		return true;
	err_set(err, EXIT_CHECK, "batch check failed for %s", mismatch);
	err_detail(err, "The copy differs from the source in this range; the batch was rolled "
					"back.  Something wrote to one table without the other.");
	err_hint(err, "Run \"pgpart migrate verify %s.%s --repair\", then backfill again.",
			 a->m.schema, a->m.name);
	free(mismatch);
	return false;
}

static bool
batch_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	BatchCtx *c = arg;
	Active *a = c->a;
	KeyRange r1 = {&a->m.last_key, &a->m.upper_key};
	KeyRange r2;
	bool found;

	namelist_free(&c->next_key);
	c->copied = 0;
	c->locked = 0;
	c->done = false;
	/*
	 * rows are locked FOR SHARE: a writer's UPDATE or DELETE of them waits for
	 * this batch, until its COMMIT after the compare; so the batch sizer times
	 * the whole transaction, compare included, against --batch-time
	 */
	if (!mirror_lock_batch(pc, &a->spec, &r1, c->batch_size, &c->next_key, &c->locked, &found,
						   err))
		return false;
	lock_txn_mark_locked(stats);
	if (!found)
	{
		c->done = true;
		return migration_advance(pc, &a->m, MIGRATION_STEP_COPIED, err);
	}

	/* a new statement, a new snapshot: every writer of the locked rows has committed */
	r2.lower = &a->m.last_key;
	r2.upper = &c->next_key;
	if (pc->dry_run)
	{
		const char *params[130];
		int np = keyrange_params(&r2, params);
		char *sql = mirror_copy_missing_sql(pc, &a->spec, &r2);
		bool ok = pgc_change(pc, sql, np, params, err);

		free(sql);
		c->done = true;
		return ok;
	}
	return mirror_copy_missing(pc, &a->spec, &r2, &c->copied, err) && check_batch(pc, a, &r2, err) &&
		   migration_record_batch(pc, &a->m, &c->next_key, c->copied, err);
}

#ifdef PGPART_TEST_HOOKS
/*
 * PGPART_TEST_CORRUPT=KIND:BATCH[:COLUMN] damages the copy of that batch
 * (counted from 1 in this run) after it committed, where only verify can see
 * it.  Test builds only: the release binary has no such code.
 */
static bool
test_corrupt_copy(PgConn *pc, Active *a, const NameList *upper, int batch, PgpError *err)
{
	const char *env = getenv("PGPART_TEST_CORRUPT");
	char *spec, *kind, *num, *column;
	KeyRange range = {&a->m.last_key, upper};
	const char *params[130];
	bool ok = true;

	if (env == NULL || pc->dry_run)
		return true;
	spec = pg_xstrdup(env);
	kind = strtok(spec, ":");
	num = strtok(NULL, ":");
	column = strtok(NULL, ":");
	if (kind && num && atoi(num) == batch)
	{
		char *sql = mirror_test_corrupt_sql(pc, &a->spec, &range, kind, column);
		int np = keyrange_params(&range, params);

		log_info("test hook: corrupting the copy of batch %d (%s)", batch, kind);
		/* the copy's unique constraints would refuse the duplicate */
		if (strcmp(kind, "dup") == 0)
			ok = mirror_test_drop_unique(pc, a->m.shadow, err);
		ok = ok && sql && pgc_change(pc, sql, np, params, err);
		if (sql == NULL && ok)
			err_set(err, EXIT_USAGE, "PGPART_TEST_CORRUPT: unknown kind \"%s\"", kind);
		ok = ok && sql;
		free(sql);
	}
	free(spec);
	return ok;
}
#endif

/*
 * The health limits and --rate of the command line; pgpart.throttle_limit
 * overrides them while the backfill runs (pg/health.c).
 */
static bool
open_throttle(PgConn *pc, const MigrateOptions *opt, const Active *a, Throttle *th, PgpError *err)
{
	char *label = pg_xasprintf("backfill of %s.%s", a->m.schema, a->m.name);
	bool ok = throttle_open_for(th, pc, a->m.source, label, &opt->health, opt->rate, err);

	free(label);
	return ok;
}

/* how big and how long the batches were: the evidence that --batch-time held */
static void
report_batches(MigrateReport *r, const BatchSizer *sz)
{
	if (sz->batches == 0)
		return;
	r->batches = sz->batches;
	r->batches_over_budget = sz->over_budget;
	r->batch_rows_min = sz->smallest;
	r->batch_rows_max = sz->largest;
	r->batch_ms_mean = sz->total_ms / sz->batches;
	r->batch_ms_max = sz->max_ms;
	report_fact(r, "batches", "%d, %d..%d rows each", sz->batches, sz->smallest, sz->largest);
	if (sz->budget_ms > 0)
		report_fact(r, "batch time", "mean %.1f ms, max %.1f ms (%d rows); budget %.0f ms, "
					"exceeded by %d",
					r->batch_ms_mean, sz->max_ms, sz->max_ms_rows, sz->budget_ms, sz->over_budget);
	else
		report_fact(r, "batch time", "mean %.1f ms, max %.1f ms (%d rows); no budget",
					r->batch_ms_mean, sz->max_ms, sz->max_ms_rows);
	if (r->batch_waiters > 0)
		report_fact(r, "writers waited", "%lld time%s for a batch's row locks; the longest "
					"ended %.1f ms after its batch's COMMIT",
					r->batch_waiters, r->batch_waiters == 1 ? "" : "s", r->batch_after_ms_max);
	r->batches_starved = batchsizer_starved(sz);
	if (r->batches_starved)
	{
		/* said instead of "too busy": a quiet server would not help */
		char *w = batchsizer_starved_text(sz);

		namelist_add(&r->warnings, w);
		free(w);
	}
	/* a few over it are how the sizer learns; many mean it cannot be held */
	else if (sz->budget_ms > 0 && sz->over_budget >= 3 && sz->over_budget * 10 > sz->batches)
	{
		char *w = pg_xasprintf("%d of %d batches took longer than --batch-time %.0f ms: the "
							   "server is too busy for that budget (raise it, or copy at a "
							   "quieter time)",
							   sz->over_budget, sz->batches, sz->budget_ms);

		namelist_add(&r->warnings, w);
		free(w);
	}
}

static bool
backfill(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	BatchCtx c;
	BatchSizer sz;
	Progress prog;
	Throttle th;
	double t0 = clock_ms(), last_log = t0;
	long long copied = 0;
	bool ok = false;
#ifdef PGPART_TEST_HOOKS
	int batches = 0;
#endif

	memset(&c, 0, sizeof(c));
	memset(&th, 0, sizeof(th));
	if (!load_active(pc, opt, &a, err))
		goto out;
	if (migration_phase_copied(a.m.phase))
	{
		r->done = true;
		report_fact(r, "backfill", "already complete (%lld rows copied)", a.m.rows_copied);
		report_fact(r, "next step", "%s", next_step(&a.m));
		ok = true;
		goto out;
	}
	if (!migration_step_allowed(a.m.phase, MIGRATION_STEP_BATCH, NULL))
	{
		wrong_phase(&a.m, MIGRATION_STEP_BATCH, err);
		goto out;
	}
	if (!open_throttle(pc, opt, &a, &th, err))
		goto out;
	c.a = &a;
	batchsizer_init(&sz, opt->batch_time_ms, opt->batch_size);
	if (a.m.est_rows < 0 && !catalog_estimate_rows(pc, a.m.source, &a.m.est_rows, err))
		goto out;
	progress_start(&prog, "rows", a.m.est_rows > 0 ? (int64_t) a.m.est_rows : 0,
				   opt->show_progress);
	th.progress = &prog; /* a pause is shown on the bar */
	th.progress_done = &a.m.rows_copied;
	/*
	 * A batch's COMMIT need not wait for its WAL to reach the disk: on a busy
	 * server that flush alone took longer than the whole --batch-time budget,
	 * with the batch's row locks held.  A crash loses at most the last
	 * batches, each together with its recorded position (one transaction), so
	 * the next run copies them again; and a writer that waited for a batch's
	 * row locks flushes the batch's commit with its own (WAL is flushed in
	 * order).
	 */
	if (!mirror_session_async_commit(pc, err))
		goto out_progress;
	for (;;)
	{
		LockStats st;

		/* DDL on the source since start would make the copy wrong: stop before the batch */
		if (!check_fingerprint(pc, &a.m, err))
			break;
		/* c.copied: the previous batch's rows (0 before the first) */
		if (!throttle_between_batches(&th, pc, c.copied, err))
			break;
		c.batch_size = sz.next;
		if (!lock_run_txn(pc, &opt->lock, batch_body, &c, &st, err))
			break;
		/*
		 * request sent -> COMMIT done, every attempt: what a writer of its
		 * rows could wait; its own rest after the COMMIT is not the batch's
		 */
		batchsizer_observe(&sz, c.locked, st.felt_ms - st.after_ms);
		r->batch_waiters += st.after_waiters;
		if (st.after_ms > r->batch_after_ms_max)
			r->batch_after_ms_max = st.after_ms;
		if (c.done)
		{
			r->done = !pc->dry_run;
			ok = true;
			break;
		}
#ifdef PGPART_TEST_HOOKS
		if (!test_corrupt_copy(pc, &a, &c.next_key, ++batches, err))
			break;
#endif
		copied += c.copied;
		a.m.rows_copied += c.copied;
		namelist_free(&a.m.last_key);
		a.m.last_key = c.next_key;
		memset(&c.next_key, 0, sizeof(c.next_key));
		progress_update(&prog, a.m.rows_copied, NULL);
		if (opt->max_rows > 0 && copied >= opt->max_rows)
		{
			ok = true; /* a planned stop: the next run continues from here */
			break;
		}
		if (!opt->show_progress && clock_ms() - last_log > 10000)
		{
			char *k = namelist_join(&a.m.last_key, ", ");

			log_info("backfill of %s.%s: %lld rows copied in this run (%.0f rows/s), up to key (%s)",
					 a.m.schema, a.m.name, copied, copied / ((clock_ms() - t0) / 1000.0), k);
			free(k);
			last_log = clock_ms();
		}
	}
out_progress:
	progress_finish(&prog);
	r->rows = copied;
	{
		double secs = (clock_ms() - t0) / 1000.0;

		report_fact(r, "rows copied", "%lld in this run (%lld in all)", copied, a.m.rows_copied);
		report_fact(r, "rate", "%.0f rows/s", secs > 0 ? copied / secs : 0);
		report_batches(r, &sz);
		report_fact(r, "backfill", "%s", r->done ? "complete" : "not complete");
		{
			char *pauses = throttle_summary(&th);

			report_fact(r, "pauses", "%s", pauses);
			free(pauses);
		}
		if (r->done)
			report_fact(r, "next step", "pgpart migrate verify %s.%s", a.m.schema, a.m.name);
	}
out:
	throttle_close(&th, pc);
	namelist_free(&c.next_key);
	active_free(&a);
	return ok;
}

bool
ops_migrate_batch_sql(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	KeyRange range;
	char *sql;
	int k;

	memset(r, 0, sizeof(*r));
	if (!load_active(pc, opt, &a, err))
		return false;
	if (a.m.shadow == 0 || !migration_step_allowed(a.m.phase, MIGRATION_STEP_BATCH_SQL, NULL))
	{
		wrong_phase(&a.m, MIGRATION_STEP_BATCH_SQL, err);
		active_free(&a);
		return false;
	}
	/* only the number of key columns matters to the text */
	range.lower = &a.spec.key;
	range.upper = &a.spec.key;
	k = a.spec.key.n;
	report_fact(r, "parameters", "$1..$%d lower key (excluded), $%d..$%d upper key (included), "
		   "$%d batch size (lock only)", k, k + 1, 2 * k, 2 * k + 1);
	sql = mirror_lock_batch_sql(pc, &a.spec, &range);
	report_fact(r, "lock", "%s", sql);
	free(sql);
	sql = mirror_copy_missing_sql(pc, &a.spec, &range);
	report_fact(r, "copy", "%s", sql);
	free(sql);
	sql = mirror_batch_compare_sql(&a.spec, &range);
	report_fact(r, "compare", "%s", sql);
	free(sql);
	active_free(&a);
	return true;
}

/* ---- verify ---- */

typedef struct RepairCtx
{
	Active *a;
	const KeyRange *range;
	long long fixed;
} RepairCtx;

static bool
repair_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	RepairCtx *c = arg;
	long long rows;
	char *mismatch;

	/*
	 * Writers of the source wait (milliseconds, under lock_timeout) while the
	 * range is rewritten: with no write in flight, deleting the copy's rows of
	 * the range and copying them again cannot race with the trigger, and it
	 * also removes duplicates and rows that exist only in the copy.
	 */
	if (!mirror_lock_writers(pc, c->a->spec.from, "SHARE", err))
		return false;
	lock_txn_mark_locked(stats);
	if (!mirror_delete_range(pc, &c->a->spec, c->range, err) ||
		!mirror_copy_missing(pc, &c->a->spec, c->range, &c->fixed, err))
		return false;
	if (!compare_range(pc, &c->a->spec, c->range, &rows, &mismatch, err))
		return false;
	if (mismatch)
	{
		free(mismatch);
		err_set(err, EXIT_CHECK, "the repaired range still differs");
		return false;
	}
	return true;
}

/* without --repair, or --repair in a phase that allows it */
static bool
repair_allowed(const Active *a, const MigrateOptions *opt, PgpError *err)
{
	if (opt->repair && !migration_step_allowed(a->m.phase, MIGRATION_STEP_REPAIR, NULL))
	{
		/* the application writes the new table now: pgpart will not overwrite it from the old */
		err_set(err, EXIT_USAGE, "--repair is only possible before switch");
		err_detail(err, "After switch the partitioned table is the application's table; "
						"repairing would overwrite its rows with the old table's.");
		err_hint(err, "Run verify without --repair to see the differences; \"pgpart migrate "
					  "rollback %s.%s\" returns to the old table, which received every write.",
				 a->m.schema, a->m.name);
		return false;
	}
	return true;
}

/* one range of verify: compared, and with --repair copied again when it differs */
static bool
verify_range(PgConn *pc, const MigrateOptions *opt, Active *a, const KeyRange *range,
			 MigrateReport *r, NameList *bad, PgpError *err)
{
	bool ok = true;
	long long rows;
	char *mismatch;

	if (!compare_range(pc, &a->spec, range, &rows, &mismatch, err))
		return false;
	r->rows += rows;
	if (mismatch == NULL)
		return true;
	r->mismatches++;
	if (opt->repair && !pc->dry_run)
	{
		RepairCtx rc = {a, range, 0};
		LockStats st;

		ok = lock_run_txn(pc, &opt->lock, repair_body, &rc, &st, err);
		if (ok)
		{
			char *line = pg_xasprintf("%s; repaired (%lld rows rewritten)", mismatch, rc.fixed);

			r->repaired++;
			namelist_add(bad, line);
			free(line);
		}
	}
	else
		namelist_add(bad, mismatch);
	free(mismatch);
	return ok;
}

/* the verdict recorded in pgpart.migration, and what verify reports */
static bool
verify_conclude(PgConn *pc, const MigrateOptions *opt, const Active *a, long long ranges,
				long long checked, const NameList *bad, MigrateReport *r, PgpError *err)
{
	bool passed = r->mismatches == r->repaired && opt->sample >= 1.0;
	bool clean = r->mismatches == r->repaired;
	char *summary = pg_xasprintf("{\"ranges\": %lld, \"checked\": %lld, \"rows\": %lld, "
								 "\"mismatches\": %lld, \"repaired\": %lld, \"sample\": %g, "
								 "\"phase\": \"%s\"}",
								 ranges, checked, r->rows, r->mismatches, r->repaired, opt->sample,
								 migration_phase_name(a->m.phase));
	bool ok;
	int i;

	/* only a complete, clean pass of a finished copy lets switch and finish go on */
	ok = migration_record_verify(pc, &a->m, passed && a->m.phase != MIGRATION_BACKFILLING, summary,
								 err);
	free(summary);
	if (!ok)
		return false;
	report_fact(r, "ranges", "%lld (%lld checked)", ranges, checked);
	report_fact(r, "rows compared", "%lld", r->rows);
	report_fact(r, "mismatching ranges", "%lld", r->mismatches);
	for (i = 0; i < bad->n; i++)
		report_fact(r, "mismatch", "%s", bad->items[i]);
	if (r->mismatches > 0 && !opt->repair)
	{
		err_set(err, EXIT_CHECK, "%lld key range%s of %s.%s differ between the table and its copy",
				r->mismatches, r->mismatches == 1 ? "" : "s", a->m.schema, a->m.name);
		err_detail(err, "%s", bad->items[0]);
		err_hint(err, "Run \"pgpart migrate verify %s.%s --repair\" to copy them again.",
				 a->m.schema, a->m.name);
		return false;
	}
	report_fact(r, "result", "%s", clean ? (passed ? "equal" : "equal in the ranges checked")
										 : "differences remain");
	if (passed && a->m.phase == MIGRATION_BACKFILLED)
	{
		/* before it becomes the application's table: statistics, and no autovacuum pass pending */
		PgpError verr;
		double t0 = clock_ms();

		err_init(&verr);
		if (mirror_vacuum_analyze(pc, &a->spec, &verr))
			report_fact(r, "statistics", "the copy vacuumed and analyzed in %.1f s",
						(clock_ms() - t0) / 1000.0);
		else
			report_fact(r, "statistics", "the copy could not be vacuumed and analyzed: %s",
						verr.message ? verr.message : "?");
		err_clear(&verr);
	}
	report_fact(r, "next step", "%s", next_step(&a->m));
	return true;
}

static bool
verify(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Active a;
	NameList cur = {0}, end = {0};
	const NameList *limit;
	long long ranges = 0, checked = 0;
	NameList bad = {0};
	bool ok = false;
	bool last = false;

	if (!load_for(pc, opt, MIGRATION_STEP_VERIFY, &a, err) || !repair_allowed(&a, opt, err) ||
		!check_fingerprint(pc, &a.m, err))
		goto out;
	/* during backfill only the part already copied can be compared */
	limit = a.m.phase == MIGRATION_BACKFILLING ? &a.m.last_key : NULL;
	if (limit && limit->n == 0)
		last = true;
	while (!last)
	{
		KeyRange probe = {&cur, limit};
		KeyRange range;
		bool found;

		namelist_free(&end);
		if (!mirror_chunk_end(pc, &a.spec, &probe, opt->batch_size, &end, &found, err))
			goto out;
		/* none: the rest, up to the limit (or everything after cur) */
		last = !found;
		range.lower = &cur;
		range.upper = last ? limit : &end;
		ranges++;
		if (opt->sample >= 1.0 || (double) rand() / RAND_MAX < opt->sample)
		{
			checked++;
			if (!verify_range(pc, opt, &a, &range, r, &bad, err))
				goto out;
		}
		namelist_free(&cur);
		cur = end;
		memset(&end, 0, sizeof(end));
	}
	ok = verify_conclude(pc, opt, &a, ranges, checked, &bad, r, err);
out:
	namelist_free(&cur);
	namelist_free(&end);
	namelist_free(&bad);
	active_free(&a);
	return ok;
}

/* ---- switch, rollback, finish ---- */

typedef struct SwapCtx
{
	const MigrateOptions *opt;
	Active *a;
	const char *step; /* "switch", "rollback", "finish" */
} SwapCtx;

/* what a step does and reports after its locked transaction committed */
typedef bool (*SwapDone)(PgConn *pc, const MigrateOptions *opt, Active *a, MigrateReport *r,
						 PgpError *err);

static bool
lock_both(PgConn *pc, Active *a, LockStats *stats, PgpError *err)
{
	/* before switch writers write the source and their trigger the copy; after it the reverse */
	bool switched = a->m.phase == MIGRATION_SWITCHED;
	bool ok = switch_lock_both(pc, switched ? a->spec.to : a->spec.from,
							   switched ? a->spec.from : a->spec.to, err);

	if (ok)
		lock_txn_mark_locked(stats);
	return ok;
}

/* reloads the state under a row lock: another pgpart may have moved it on */
static bool
recheck_phase(PgConn *pc, Active *a, MigrationPhase want, PgpError *err)
{
	Migration now;
	bool found, ok;

	if (!migration_load_active(pc, a->m.schema, a->m.name, true, &now, &found, err))
		return false;
	ok = found && now.phase == want;
	if (!ok)
		err_set(err, EXIT_USAGE, "the migration of %s.%s changed phase meanwhile (now %s)",
				a->m.schema, a->m.name, found ? migration_phase_name(now.phase) : "ended");
	migration_free(&now);
	return ok;
}

static bool
switch_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	SwapCtx *c = arg;
	Active *a = c->a;
	Migration *m = &a->m;
	PartConfig cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.parent = m->shadow;
	cfg.column = m->column;
	cfg.unit = m->unit;
	cfg.start = m->start;
	cfg.premake = m->premake;
	cfg.time_zone = m->time_zone;
	return recheck_phase(pc, a, MIGRATION_BACKFILLED, err) && lock_both(pc, a, stats, err) &&
		   check_fingerprint(pc, m, err) &&
		   switch_swap_forward(pc, m, a->spec.from, a->spec.to, err) &&
		   config_insert(pc, &cfg, err) && migration_advance(pc, m, MIGRATION_STEP_SWITCH, err);
}

static bool
rollback_switched_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	SwapCtx *c = arg;
	Active *a = c->a;

	return recheck_phase(pc, a, MIGRATION_SWITCHED, err) && lock_both(pc, a, stats, err) &&
		   switch_swap_back(pc, &a->m, err) &&
		   migration_advance(pc, &a->m, MIGRATION_STEP_ROLLBACK, err);
}

static bool
rollback_unswitched_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	SwapCtx *c = arg;
	Active *a = c->a;

	if (!recheck_phase(pc, a, a->m.phase, err) || !switch_lock_both(pc, a->spec.from, NULL, err))
		return false;
	lock_txn_mark_locked(stats);
	return switch_drop_copy(pc, &a->m, a->spec.from, a->spec.to, err) &&
		   migration_advance(pc, &a->m, MIGRATION_STEP_ROLLBACK, err);
}

static bool
finish_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	SwapCtx *c = arg;
	Active *a = c->a;

	/* the old table is dropped afterwards, in its own transaction: see finish_done */
	return recheck_phase(pc, a, MIGRATION_SWITCHED, err) && lock_both(pc, a, stats, err) &&
		   switch_finish(pc, &a->m, err) && migration_advance(pc, &a->m, MIGRATION_STEP_FINISH, err);
}

static bool
drop_old_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	Active *a = arg;
	bool ok = switch_drop_old(pc, a->spec.from, err);

	lock_txn_mark_locked(stats);
	return ok;
}

static bool
run_swap(PgConn *pc, const MigrateOptions *opt, Active *a, LockedBody body, const char *step,
		 MigrateReport *r, PgpError *err)
{
	SwapCtx c = {opt, a, step};
	LockStats st;
	char felt[LOCK_FELT_TEXT_SIZE];
	/*
	 * Every body locks both tables (or drops the copy): skip while a long
	 * holder is there.  LOCK TABLE of the partitioned one locks each of its
	 * partitions too, and DROP TABLE their TOAST tables and indexes as well:
	 * an autovacuum of one partition makes the attempt wait exactly as one
	 * of the parent would.
	 */
	LockTarget both[2] = {
		{a->m.source, LOCK_ACCESS_EXCLUSIVE, LOCK_SCOPE_TREE},
		{a->m.shadow, LOCK_ACCESS_EXCLUSIVE,
		 body == rollback_unswitched_body ? LOCK_SCOPE_DROP : LOCK_SCOPE_TREE}};
	bool ok = lock_run_txn_on(pc, &opt->lock, both, 2, body, &c, &st, err);

	/* a failed attempt queued up to lock_timeout: writers felt that too */
	lock_felt_note(&r->felt, &st);
	lock_felt_text(&r->felt, felt, sizeof(felt));
	if (!ok)
	{
		if (err->kind == ERR_KIND_LOCKS_NOT_GRANTED)
		{
			char *holders = switch_lock_holders(pc, a->m.source, a->m.shadow);

			err_detail(err, "%s did not happen; the tables are as they were (%s).%s%s", step,
					   felt, holders ? "  Locks are held by: " : "", holders ? holders : "");
			free(holders);
		}
		return false;
	}
	r->lock_held_ms = st.held_ms;
	r->lock_attempts = st.attempts;
	report_fact(r, "locks held", "%.1f ms (%d attempt%s)", st.held_ms, st.attempts,
		   st.attempts == 1 ? "" : "s");
	report_fact(r, "writers' wait", "%s", felt);
	if (st.skipped > 0)
	{
		char holder[LOCK_HOLDER_TEXT_SIZE];

		report_fact(r, "skipped attempts", "%d, while %s", st.skipped,
					lock_holder_text(&st.holder, holder, sizeof(holder)));
	}
	return true;
}

/* switch needs a passing full verify of the copy; finish one since the switch */
static bool
verified_for(const Active *a, MigrationStep step, PgpError *err)
{
	if (step == MIGRATION_STEP_SWITCH && !(a->m.verified && a->m.verify_ok))
		err_set(err, EXIT_USAGE, "the copy of %s.%s has not passed a full verify yet",
				a->m.schema, a->m.name);
	else if (step == MIGRATION_STEP_FINISH && !(a->m.verified_since_switch && a->m.verify_ok))
	{
		err_set(err, EXIT_USAGE, "refusing to finish: no passing verify since the switch");
		err_detail(err, "finish drops the old table; that needs proof that nothing is missing.");
	}
	else
		return true;
	err_hint(err, "Run \"pgpart migrate verify %s.%s\" first.", a->m.schema, a->m.name);
	return false;
}

/* what switch reports after its transaction, and the lock time it records */
static bool
switch_done(PgConn *pc, const MigrateOptions *opt, Active *a, MigrateReport *r, PgpError *err)
{
	(void) opt;
	if (!pc->dry_run && !migration_record_switch_ms(pc, &a->m, r->lock_held_ms, err))
		return false;
	report_fact(r, "table", "%s.%s is now partitioned; the old table is %s.%s and still receives "
		   "every write", a->m.schema, a->m.name, a->m.schema, a->m.old_name);
	report_fact(r, "next step", "pgpart migrate verify %s.%s, then finish (or rollback)",
		   a->m.schema, a->m.name);
	return true;
}

/* a: as loaded before the rollback, so its phase is the one rolled back from */
static bool
rollback_done(PgConn *pc, const MigrateOptions *opt, Active *a, MigrateReport *r, PgpError *err)
{
	(void) pc;
	(void) opt;
	(void) err;
	if (a->m.phase == MIGRATION_SWITCHED)
	{
		report_fact(r, "table", "%s.%s is the original table again; the partitioned copy is %s.%s "
			   "and kept in sync", a->m.schema, a->m.name, a->m.schema, a->m.shadow_name);
		report_fact(r, "next step", "pgpart migrate switch again, or rollback again to drop the copy");
	}
	else
		report_fact(r, "table", "%s.%s is unchanged; the copy and the triggers are gone",
			   a->m.schema, a->m.name);
	return true;
}

/*
 * After finish nothing uses the old table any more, so dropping it (unlinking
 * gigabytes can take a while) holds no lock the application waits for.  The
 * migration is finished either way: a failed drop is reported, not an error.
 */
static bool
finish_done(PgConn *pc, const MigrateOptions *opt, Active *a, MigrateReport *r, PgpError *err)
{
	LockStats st;
	PgpError derr;

	(void) err;
	if (opt->keep_old)
		report_fact(r, "old table", "%s.%s kept (no longer synchronised)", a->m.schema,
			   a->m.old_name);
	else
	{
		err_init(&derr);
		if (lock_run_txn(pc, &opt->lock, drop_old_body, a, &st, &derr))
			/*
			 * No writer waits for this lock, but the COMMIT removes the
			 * table's files, and bench/migrate saw the writers' commits slow
			 * down meanwhile (2M rows: a 163 ms COMMIT, writers up to 34 ms)
			 */
			report_fact(r, "old table",
						"%s.%s dropped in %.1f ms, in a transaction of its own that no writer "
						"waits for; removing its files can slow other commits meanwhile",
						a->m.schema, a->m.old_name, st.held_ms);
		else
			report_fact(r, "old table", "%s.%s NOT dropped (%s): the migration is finished; drop "
								   "it yourself",
				   a->m.schema, a->m.old_name, derr.message ? derr.message : "error");
		err_clear(&derr);
	}
	report_fact(r, "table", "%s.%s is partitioned and managed by pgpart (see pgpart status)",
		   a->m.schema, a->m.name);
	return true;
}

/*
 * switch, rollback and finish are one shape: the migration of opt->table
 * when step may run in its phase and has the verify it needs, the step's
 * locked transaction, then what the step does and reports afterwards.
 */
/*
 * The step's outcome and what writers could have felt, in pgpart.run_log
 * (read by "pgpart metrics"), under the table that carries the name now; a
 * failed attempt is recorded too, since writers queued behind it as well.
 * Failing to write the history must not hide the outcome.
 */
static void
log_swap(PgConn *pc, const Active *a, MigrationStep step, const char *name, bool ok,
		 const char *started, const MigrateReport *r)
{
	RelOid named;
	char *command = pg_xasprintf("migrate %s", name);
	char *summary;
	PgpError lerr;

	if (step == MIGRATION_STEP_SWITCH)
		named = ok ? a->m.shadow : a->m.source;
	else if (step == MIGRATION_STEP_FINISH)
		named = a->m.shadow;
	else if (a->m.phase == MIGRATION_SWITCHED)
		named = ok ? a->m.source : a->m.shadow;
	else
		named = a->m.source;
	summary = pg_xasprintf("{\"lock_attempts\": %d, \"lock_held_ms\": %.1f, "
						   "\"writers_wait_ms\": %.1f, \"lock_queued_ms\": %.1f, "
						   "\"lock_after_ms\": %.1f, \"lock_waiters\": %d, "
						   "\"skipped_attempts\": %d}",
						   r->lock_attempts, r->felt.held_ms, r->felt.writers_wait_ms,
						   r->felt.queued_ms, r->felt.after_ms, r->felt.after_waiters,
						   r->felt.skipped_attempts);
	err_init(&lerr);
	config_log_run(pc, named, command, started, ok, summary, &lerr);
	err_clear(&lerr);
	FREE_ALL(summary, command);
}

static bool
swap_step(PgConn *pc, const MigrateOptions *opt, MigrationStep step, MigrateReport *r,
		  PgpError *err)
{
	Active a;
	LockedBody body;
	SwapDone done;
	const char *name;
	bool ok;

	memset(r, 0, sizeof(*r));
	ok = load_for(pc, opt, step, &a, err) && verified_for(&a, step, err);
	if (step == MIGRATION_STEP_SWITCH)
	{
		body = switch_body;
		done = switch_done;
		name = "switch";
	}
	else if (step == MIGRATION_STEP_FINISH)
	{
		body = finish_body;
		done = finish_done;
		name = "finish";
	}
	else
	{
		/* every phase of a migration in progress allows rollback */
		body = a.m.phase == MIGRATION_SWITCHED ? rollback_switched_body : rollback_unswitched_body;
		done = rollback_done;
		name = "rollback";
	}
	if (ok)
	{
		char *started = NULL;
		PgpError lerr;
		bool swapped;

		err_init(&lerr);
		if (!pc->dry_run)
			config_run_started(pc, &started, &lerr);
		err_clear(&lerr);
		swapped = run_swap(pc, opt, &a, body, name, r, err);
		if (started)
			log_swap(pc, &a, step, name, swapped, started, r);
		free(started);
		ok = swapped && done(pc, opt, &a, r, err);
	}
	active_free(&a);
	return ok;
}

/*
 * A step that writes the migration's tables, under the work lock of both
 * (command NULL: a step that only reads, which may run beside anything)
 */
static bool
guarded_step(PgConn *pc, const MigrateOptions *opt, MigrationStep step, const char *command,
			 MigrateReport *r, PgpError *err)
{
	WorkLock wl = {0};
	bool ok;

	memset(r, 0, sizeof(*r));
	if (command && !guard_migration(pc, opt, command, &wl, err))
		return false;
	if (step == MIGRATION_STEP_BATCH)
		ok = backfill(pc, opt, r, err);
	else if (step == MIGRATION_STEP_VERIFY || step == MIGRATION_STEP_REPAIR)
		ok = verify(pc, opt, r, err);
	else
		ok = swap_step(pc, opt, step, r, err);
	worklock_release(pc, &wl);
	return ok;
}

bool
ops_migrate_backfill(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	return guarded_step(pc, opt, MIGRATION_STEP_BATCH, "migrate backfill", r, err);
}

/* only --repair writes the copy */
bool
ops_migrate_verify(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	return opt->repair ? guarded_step(pc, opt, MIGRATION_STEP_REPAIR, "migrate verify --repair", r, err)
					   : guarded_step(pc, opt, MIGRATION_STEP_VERIFY, NULL, r, err);
}

bool
ops_migrate_switch(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	return guarded_step(pc, opt, MIGRATION_STEP_SWITCH, "migrate switch", r, err);
}

bool
ops_migrate_rollback(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	return guarded_step(pc, opt, MIGRATION_STEP_ROLLBACK, "migrate rollback", r, err);
}

bool
ops_migrate_finish(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	return guarded_step(pc, opt, MIGRATION_STEP_FINISH, "migrate finish", r, err);
}

bool
ops_migrate_status(PgConn *pc, const MigrateOptions *opt, MigrateReport *r, PgpError *err)
{
	Migration m;
	bool found;
	char *schema = NULL, *name = NULL;
	bool ok = false;

	memset(r, 0, sizeof(*r));
	memset(&m, 0, sizeof(m));
	if (!schema_require(pc, err) || !migration_table_name(pc, opt->table, &schema, &name, err))
		return false;
	if (!migration_load_latest(pc, schema, name, &m, &found, err))
		goto out;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "%s has never been migrated by pgpart", opt->table);
		goto out;
	}
	report_fact(r, "table", "%s.%s", m.schema, m.name);
	report_fact(r, "phase", "%s", migration_phase_name(m.phase));
	report_fact(r, "rows copied", "%lld in %lld batches", m.rows_copied, m.batches);
	if (m.phase == MIGRATION_BACKFILLING)
	{
		double rate = m.backfill_seconds > 0 ? m.rows_copied / m.backfill_seconds : 0;

		if (m.est_rows > 0)
			report_fact(r, "progress", "%.0f%% of about %.0f rows",
				   100.0 * (double) m.rows_copied / m.est_rows, m.est_rows);
		report_fact(r, "rate", "%.0f rows/s", rate);
		if (rate > 0 && m.est_rows > m.rows_copied)
			report_fact(r, "eta", "%.0f s", (m.est_rows - (double) m.rows_copied) / rate);
	}
	if (m.last_key.n > 0)
	{
		char *k = namelist_join(&m.last_key, ", ");

		report_fact(r, "last key copied", "(%s)", k);
		free(k);
	}
	report_fact(r, "last verify", "%s", !m.verified ? "never" : m.verify_ok ? "passed" : "FAILED");
	if (m.verify_summary)
		report_fact(r, "verify summary", "%s", m.verify_summary);
	if (m.switch_lock_ms > 0)
		report_fact(r, "switch lock held", "%.1f ms", m.switch_lock_ms);
	report_fact(r, "next step", "%s", next_step(&m));
	ok = true;
out:
	migration_free(&m);
	FREE_ALL(schema, name);
	return ok;
}
