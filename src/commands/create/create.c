/*
 * create.c - "pgpart create": the checks that come before any change, then
 * one of three ways.  CREATE_FROM_LIKE and CREATE_CONVERT are one
 * transaction (the new parent and its partitions are invisible until it
 * commits, so PARTITION OF is safe; converting replaces an empty table under
 * its ACCESS EXCLUSIVE lock, carrying over indexes, grants and the rest as
 * pg/clone.c captured them).  CREATE_ADOPT takes a table partitioned by hand
 * and gives it its missing partitions online, as maintain does.
 */
#include "commands/create/create.h"
#include <stdlib.h>
#include <string.h>

#include "commands/create/create_sql.h"
#include "core/naming.h"
#include "pg/target.h"
#include "pg/bounds.h"
#include "pg/citus.h"
#include "pg/clone.h"
#include "pg/config.h"
#include "pg/partition.h"
#include "pg/schema.h"
#include "pg/stmt.h"
#include "util/mem.h"

void
createresult_free(CreateResult *r)
{
	FREE_ALL(r->schema, r->name);
	NAMELIST_FREE_ALL(&r->partitions_created, &r->warnings);
	memset(r, 0, sizeof(*r));
}

/* everything ops_create() learned before it changes anything */
typedef struct CreatePlan
{
	const CreateOptions *opt;
	CreateMode mode;
	RelInfo source; /* --like template, or the table to convert */
	char *schema;
	char *name;
	char *tmp_name; /* CONVERT: the new table's name until the swap */
	Period *periods;
	int nperiods;
	ResolvedBound *bounds; /* 2 per period: start, end */
	CreateResult *res;
} CreatePlan;

static void
createplan_free(CreatePlan *p)
{
	relinfo_free(&p->source);
	FREE_ALL(p->schema, p->name, p->tmp_name);
	if (p->bounds)
		bounds_free(p->bounds, p->nperiods * 2);
	FREE_ALL(p->bounds, p->periods);
}

static bool
check_key_column(PgConn *pc, const RelInfo *rel, const char *column, PgpError *err)
{
	ColumnInfo col;
	bool found;
	NameList keys = {0};
	bool ok = false;

	if (!catalog_column(pc, rel->oid, column, &col, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "column \"%s\" does not exist in %s.%s", column, rel->schema,
				rel->name);
		err_hint(err, "Give the name of the date or timestamp column to partition by with "
					  "--column (names are case-sensitive, as in quoted SQL identifiers).");
		goto done;
	}
	if (!col.key_type_ok)
	{
		err_set(err, EXIT_USAGE, "column \"%s\" of %s.%s has type %s", column, rel->schema,
				rel->name, col.type_name);
		err_hint(err, "pgpart partitions by a timestamptz, timestamp or date column.");
		goto done;
	}
	if (col.generated)
	{
		err_set(err, EXIT_USAGE, "column \"%s\" of %s.%s is a generated column", column,
				rel->schema, rel->name);
		err_hint(err, "PostgreSQL cannot partition by a generated column.");
		goto done;
	}
	if (!catalog_unique_keys_without(pc, rel->oid, column, &keys, err))
		goto done;
	if (keys.n > 0)
	{
		char *list = namelist_join(&keys, "; ");

		err_set(err, EXIT_USAGE, "%s.%s has a unique key without the partition column \"%s\": %s",
				rel->schema, rel->name, column, list);
		err_detail(err, "PostgreSQL enforces uniqueness in each partition separately, so on a "
						"partitioned table every primary key, unique or exclusion constraint "
						"must contain the partition column.");
		err_hint(err, "Add \"%s\" to the key (for example PRIMARY KEY (id, %s)) before "
					  "partitioning; uniqueness of the other columns alone can then no longer "
					  "be enforced by the database.",
				 column, column);
		free(list);
		goto done;
	}
	ok = true;
done:
	columninfo_free(&col);
	namelist_free(&keys);
	return ok;
}

static bool
check_not_configured(PgConn *pc, RelOid oid, const char *schema, const char *name, PgpError *err)
{
	PartConfig *cfg;
	int n;

	if (!config_load(pc, oid, &cfg, &n, err))
		return false;
	partconfig_list_free(cfg, n);
	if (n > 0)
	{
		err_set(err, EXIT_USAGE, "%s.%s is already managed by pgpart", schema, name);
		err_hint(err, "See \"pgpart status %s.%s\"; \"pgpart maintain\" keeps it partitioned.",
				 schema, name);
		return false;
	}
	return true;
}

/* resolves names and checks every precondition; changes nothing */
static bool
prepare(PgConn *pc, CreatePlan *p, PgpError *err)
{
	const CreateOptions *opt = p->opt;
	bool found;

	if (opt->like)
	{
		RelInfo existing;

		p->mode = CREATE_FROM_LIKE;
		if (!catalog_split_name(pc, opt->table, &p->schema, &p->name, err))
			return false;
		if (!catalog_resolve_table(pc, opt->table, &existing, &found, err))
			return false;
		relinfo_free(&existing);
		if (found)
		{
			err_set(err, EXIT_USAGE, "table %s.%s already exists", p->schema, p->name);
			err_hint(err, "Leave out --like to partition an existing empty table.");
			return false;
		}
		if (!catalog_resolve_table(pc, opt->like, &p->source, &found, err))
			return false;
		if (!found)
		{
			err_set(err, EXIT_USAGE, "template table \"%s\" given with --like does not exist",
					opt->like);
			return false;
		}
		return check_key_column(pc, &p->source, opt->part.column, err);
	}

	if (!catalog_resolve_table(pc, opt->table, &p->source, &found, err))
		return false;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		err_hint(err, "Create it first, or give --like TEMPLATE to create it with the columns "
					  "of TEMPLATE.");
		return false;
	}
	p->schema = pg_xstrdup(p->source.schema);
	p->name = pg_xstrdup(p->source.name);
	if (!check_not_configured(pc, p->source.oid, p->schema, p->name, err))
		return false;
	if (p->source.relkind == 'p')
	{
		char *keycol = NULL;

		p->mode = CREATE_ADOPT;
		if (!catalog_range_key_column(pc, p->source.oid, &keycol, err))
			return false;
		if (keycol == NULL || strcmp(keycol, opt->part.column) != 0)
		{
			err_set(err, EXIT_USAGE,
					"%s.%s is already partitioned, but not by RANGE (%s) alone", p->schema,
					p->name, opt->part.column);
			err_hint(err, "pgpart can take over only a table partitioned by RANGE on the "
						  "given column.");
			free(keycol);
			return false;
		}
		free(keycol);
		return check_key_column(pc, &p->source, opt->part.column, err);
	}
	if (p->source.relkind != 'r')
	{
		err_set(err, EXIT_USAGE, "%s.%s is not a table", p->schema, p->name);
		return false;
	}
	if (p->source.is_partition)
	{
		err_set(err, EXIT_USAGE, "%s.%s is itself a partition of another table", p->schema,
				p->name);
		return false;
	}
	p->mode = CREATE_CONVERT;
	if (!citus_refuse_convert(pc, p->source.oid, err) ||
		!check_key_column(pc, &p->source, opt->part.column, err))
		return false;
	{
		bool has_rows;

		if (!catalog_table_has_rows(pc, p->source.oid, &has_rows, err))
			return false;
		if (has_rows)
		{
			err_set(err, EXIT_USAGE, "table %s.%s is not empty", p->schema, p->name);
			err_detail(err, "\"pgpart create\" replaces only an empty table; copying rows "
							"would block the application for as long as the copy takes.");
			err_hint(err, "Use online migration instead: \"pgpart migrate plan %s.%s --column "
						  "%s\".",
					 p->schema, p->name, opt->part.column);
			return false;
		}
	}
	p->tmp_name = naming_derive(p->name, "pgpart_new");
	return true;
}

static bool
plan_partitions(PgConn *pc, CreatePlan *p, PgpError *err)
{
	ColumnInfo col;
	bool found, ok;

	if (!target_plan_periods(pc, p->opt->part.time_zone, p->opt->part.unit,
							 p->opt->part.has_start ? &p->opt->part.start : NULL, p->opt->part.premake,
							 &p->periods, &p->nperiods, err))
		return false;
	if (!catalog_column(pc, p->source.oid, p->opt->part.column, &col, &found, err))
		return false;
	ok = target_resolve_bounds(pc, col.key_type, p->opt->part.time_zone, p->periods, p->nperiods,
							   &p->bounds, err);
	columninfo_free(&col);
	return ok;
}

/*
 * CONVERT, first in the transaction: the table's lock, then (under it) the
 * checks that it is still empty and that everything on it can be carried
 * over to the partitioned table
 */
static bool
convert_capture(PgConn *pc, CreatePlan *p, CloneScript *cs, LockStats *stats, PgpError *err)
{
	bool has_rows;
	int i;

	if (!create_lock_table(pc, p->schema, p->name, err))
		return false;
	lock_txn_mark_locked(stats);
	/* checked again under the lock: a row may have arrived since prepare() */
	if (!catalog_table_has_rows(pc, p->source.oid, &has_rows, err))
		return false;
	if (has_rows)
	{
		err_set(err, EXIT_USAGE, "table %s.%s is not empty", p->schema, p->name);
		err_hint(err, "Use online migration instead (\"pgpart migrate\").");
		return false;
	}
	if (!clone_capture(pc, p->source.oid, p->schema, p->tmp_name, cs, err))
		return false;
	if (cs->blockers.n > 0)
	{
		char *list = namelist_join(&cs->blockers, "; ");

		err_set(err, EXIT_USAGE, "cannot replace %s.%s with a partitioned table: %s", p->schema,
				p->name, list);
		err_hint(err, "pgpart does not recreate these objects; remove them, run create, "
					  "then recreate them on the partitioned table.");
		free(list);
		return false;
	}
	for (i = 0; i < cs->warnings.n; i++)
		namelist_add(&p->res->warnings, cs->warnings.items[i]);
	return true;
}

/* CONVERT: the empty table out, the partitioned one in under its name, with what it had */
static bool
convert_swap(PgConn *pc, const CreatePlan *p, const CloneScript *cs, PgpError *err)
{
	return stmt_change_list(pc, &cs->before_drop, err) && create_drop_table(pc, p->schema, p->name, err) &&
		   create_rename_table(pc, p->schema, p->tmp_name, p->name, err) &&
		   stmt_change_list(pc, &cs->after_rename, err);
}

/* the periods' partitions and the default one; nobody can see the new parent yet, so PARTITION OF */
static bool
create_partitions(PgConn *pc, CreatePlan *p, PgpError *err)
{
	NewPartition np;
	char *name;
	int i;
	bool ok;

	memset(&np, 0, sizeof(np));
	np.parent_schema = p->schema;
	np.parent_name = p->name;
	for (i = 0; i < p->nperiods; i++)
	{
		name = naming_derive(p->name, p->periods[i].suffix);
		np.column = p->opt->part.column;
		np.name = name;
		np.lo_literal = p->bounds[2 * i].literal;
		np.hi_literal = p->bounds[2 * i + 1].literal;
		ok = partition_create_of(pc, &np, err);
		if (ok)
			namelist_add(&p->res->partitions_created, name);
		free(name);
		if (!ok)
			return false;
	}
	memset(&np, 0, sizeof(np));
	np.parent_schema = p->schema;
	np.parent_name = p->name;
	name = naming_derive(p->name, "default");
	np.name = name;
	ok = partition_create_of(pc, &np, err);
	if (ok)
		namelist_add(&p->res->partitions_created, name);
	free(name);
	return ok;
}

/* the table's row in pgpart.part_config: from then on maintain keeps it partitioned */
static bool
insert_config(PgConn *pc, const CreatePlan *p, RelOid parent, PgpError *err)
{
	const CreateOptions *opt = p->opt;
	PartConfig cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.parent = parent;
	cfg.column = (char *) opt->part.column;
	cfg.unit = opt->part.unit;
	cfg.start = p->nperiods > 0 ? p->periods[0].start : opt->part.start;
	cfg.premake = opt->part.premake;
	cfg.time_zone = (char *) opt->part.time_zone;
	return config_insert(pc, &cfg, err);
}

/* the one transaction of CREATE_FROM_LIKE and CREATE_CONVERT */
static bool
create_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	CreatePlan *p = arg;
	bool convert = p->mode == CREATE_CONVERT;
	NewParent parent = {p->schema,
						convert ? p->tmp_name : p->name,
						convert ? p->schema : p->source.schema,
						convert ? p->name : p->source.name,
						convert,
						p->opt->part.column,
						p->source.tablespace};
	CloneScript cs;
	RelOid oid = 0;
	bool ok;

	memset(&cs, 0, sizeof(cs));
	namelist_free(&p->res->partitions_created);
	namelist_free(&p->res->warnings);
	if (convert)
	{
		if (!convert_capture(pc, p, &cs, stats, err))
		{
			clonescript_free(&cs);
			return false;
		}
	}
	else
		lock_txn_mark_locked(stats);
	/* in --dry-run the table does not exist: the INSERT is printed with OID 0 */
	ok = create_partitioned_parent(pc, &parent, err) && (!convert || convert_swap(pc, p, &cs, err)) &&
		 create_partitions(pc, p, err) && create_table_oid(pc, p->schema, p->name, &oid, err) &&
		 insert_config(pc, p, oid, err);
	clonescript_free(&cs);
	return ok;
}

static bool
adopt(PgConn *pc, CreatePlan *p, PgpError *err)
{
	const CreateOptions *opt = p->opt;
	Target t;
	NameList conflicts = {0};
	EnsureStats st;
	bool ok = false;

	memset(&st, 0, sizeof(st));
	if (!target_load(pc, p->source.oid, opt->part.column, opt->part.unit, opt->part.time_zone, &t, err))
		goto done;
	if (!target_find_conflicts(pc, &t, p->periods, p->nperiods, &conflicts, err))
		goto done;
	if (conflicts.n > 0)
	{
		char *list = namelist_join(&conflicts, "; ");

		err_set(err, EXIT_USAGE, "the existing partitions of %s.%s do not fit --interval %s",
				p->schema, p->name, cal_unit_name(opt->part.unit));
		err_detail(err, "%s", list);
		err_hint(err, "Use the interval the table is already partitioned by.");
		free(list);
		goto done;
	}
	/* partitions first: a failure half-way leaves nothing a re-run cannot finish */
	if (!target_ensure_periods(pc, &opt->lock, &t, p->periods, p->nperiods, &st, err) ||
		!target_ensure_default(pc, &opt->lock, &t, &st, err))
		goto done;
	if (!insert_config(pc, p, p->source.oid, err))
		goto done;
	{
		int i;

		for (i = 0; i < st.created.n; i++)
			namelist_add(&p->res->partitions_created, st.created.items[i]);
	}
	p->res->locks.attempts = st.lock_attempts;
	p->res->locks.held_ms = st.max_lock_held_ms;
	p->res->felt = st.felt;
	ok = true;
done:
	namelist_free(&conflicts);
	ensurestats_free(&st);
	target_free(&t);
	return ok;
}

bool
ops_create(PgConn *pc, const CreateOptions *opt, CreateResult *res, PgpError *err)
{
	CreatePlan p;
	bool ok = false;

	memset(&p, 0, sizeof(p));
	memset(res, 0, sizeof(*res));
	p.opt = opt;
	p.res = res;
	if (!schema_require(pc, err) || !prepare(pc, &p, err) || !plan_partitions(pc, &p, err))
		goto done;
	res->mode = p.mode;
	res->schema = pg_xstrdup(p.schema);
	res->name = pg_xstrdup(p.name);
	if (p.mode == CREATE_ADOPT)
		ok = adopt(pc, &p, err);
	else
	{
		ok = lock_run_txn(pc, &opt->lock, create_body, &p, &res->locks, err);
		lock_felt_note(&res->felt, &res->locks);
	}
done:
	createplan_free(&p);
	return ok;
}
