/*
 * index.c - "pgpart index add": checks the table and the column list, makes
 * the parent index ON ONLY the parent, then builds and attaches each
 * partition's index in turn, skipping the ones already attached and
 * replacing invalid leftovers of an earlier interrupted run, so that a
 * re-run finishes what a failed one began.  The statements are index_sql.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "core/sqlscreen.h"
#include "commands/index/index.h"
#include "commands/index/index_sql.h"
#include "util/log.h"
#include "util/mem.h"

void
indexresult_free(IndexResult *r)
{
	FREE_ALL(r->schema, r->table, r->name);
	memset(r, 0, sizeof(*r));
}

/*
 * Child index name: the parent index name plus what distinguishes the
 * partition ("idx_revenues_org" + "2025_q1"), so names are stable across
 * re-runs: that is how a re-run finds its own invalid leftovers.
 */
static char *
child_index_name(const char *index, const char *table, const char *partition)
{
	size_t n = strlen(table);
	const char *suffix = partition;

	if (strncmp(partition, table, n) == 0 && partition[n] == '_' && partition[n + 1])
		suffix = partition + n + 1;
	return naming_derive(index, suffix);
}

static bool
check_columns(PgConn *pc, const RelInfo *rel, const NameList *cols, PgpError *err)
{
	int i;

	for (i = 0; i < cols->n; i++)
	{
		ColumnInfo ci;
		bool found;

		if (!catalog_column(pc, rel->oid, cols->items[i], &ci, &found, err))
			return false;
		columninfo_free(&ci);
		if (!found)
		{
			err_set(err, EXIT_USAGE, "column \"%s\" does not exist in %s.%s", cols->items[i],
					rel->schema, rel->name);
			err_hint(err, "Unquoted names are folded to lower case; quote a name that has "
						  "capitals (\"Name\").");
			return false;
		}
	}
	return true;
}

static bool
index_partition(PgConn *pc, const IndexOptions *opt, const IndexSpec *spec, RelOid parent_index,
				const RelInfo *rel, const PartitionInfo *part, IndexResult *res, PgpError *err)
{
	char *child = NULL;
	IndexLookup existing;
	bool attached;
	bool ok = false;
	LockStats ls;

	if (!indexes_child_for(pc, parent_index, part->oid, &attached, err))
		return false;
	if (attached)
	{
		res->already++;
		return true;
	}
	child = child_index_name(opt->name, rel->name, part->name);
	if (child == NULL)
	{
		err_set(err, EXIT_RUNTIME, "cannot derive an index name for partition %s", part->name);
		return false;
	}
	if (!indexes_lookup(pc, part->schema, child, &existing, err))
		goto done;
	if (existing.exists && (existing.relkind != 'i' || existing.table != part->oid))
	{
		err_set(err, EXIT_USAGE, "%s.%s already exists and is not an index of %s", part->schema,
				child, part->name);
		err_hint(err, "Rename that object or choose another index name.");
		goto done;
	}
	if (existing.exists && !existing.valid)
	{
		/* the leftover of an interrupted CREATE INDEX CONCURRENTLY */
		log_info("dropping invalid index %s.%s left by an interrupted build", part->schema, child);
		if (!indexes_drop_concurrently(pc, part->schema, child, err))
			goto done;
		existing.exists = false;
		res->rebuilt++;
	}
	if (!existing.exists)
	{
		log_info("building %s.%s", part->schema, child);
		if (!indexes_create_concurrently(pc, spec, part->schema, part->name, child, err))
			goto done;
		res->built++;
	}
	ok = indexes_attach(pc, &opt->lock, rel->schema, opt->name, part->schema, child, &ls, err);
	lock_felt_note(&res->felt, &ls);
	if (!ok)
		goto done;
	if (ls.held_ms > res->max_lock_held_ms)
		res->max_lock_held_ms = ls.held_ms;
	ok = true;
done:
	if (!ok)
		err_prefix(err, "partition %s.%s", part->schema, part->name);
	free(child);
	return ok;
}

bool
ops_index_add(PgConn *pc, const IndexOptions *opt, IndexProgressFn progress, void *arg,
			  IndexResult *res, PgpError *err)
{
	RelInfo rel;
	NameList cols = {0};
	PartitionList parts;
	IndexLookup parent;
	IndexSpec spec;
	char *why = NULL;
	bool found;
	bool ok = false;
	int i;

	memset(res, 0, sizeof(*res));
	memset(&rel, 0, sizeof(rel));
	memset(&parts, 0, sizeof(parts));
	/*
	 * The predicate is PostgreSQL's to check (immutable, no subqueries); this
	 * keeps it inside its parentheses, so that it cannot add to the statement.
	 */
	if (opt->where && !sqlscreen_expression(opt->where, &why))
	{
		err_set(err, EXIT_USAGE, "invalid --where \"%s\": %s", opt->where, why);
		err_hint(err, "Give one condition, e.g. --where \"status = 'approved'\".");
		free(why);
		return false;
	}
	if (!collist_parse(opt->columns, &cols, &why))
	{
		err_set(err, EXIT_USAGE, "invalid column list \"%s\": %s", opt->columns, why);
		err_hint(err, "Give column names, e.g. \"(org_id, occurred_at)\".");
		free(why);
		return false;
	}
	if (!catalog_resolve_table(pc, opt->table, &rel, &found, err))
		goto done;
	if (!found)
	{
		err_set(err, EXIT_USAGE, "table \"%s\" does not exist", opt->table);
		goto done;
	}
	if (rel.relkind != 'p')
	{
		err_set(err, EXIT_USAGE, "%s.%s is not a partitioned table", rel.schema, rel.name);
		err_hint(err, "On a plain table use CREATE INDEX CONCURRENTLY directly.");
		goto done;
	}
	if (!check_columns(pc, &rel, &cols, err))
		goto done;
	res->schema = pg_xstrdup(rel.schema);
	res->table = pg_xstrdup(rel.name);
	res->name = pg_xstrdup(opt->name);

	memset(&spec, 0, sizeof(spec));
	spec.schema = rel.schema;
	spec.name = opt->name;
	spec.columns = &cols;
	spec.method = opt->method;
	spec.where = opt->where;
	spec.unique = opt->unique;

	if (!indexes_lookup(pc, rel.schema, opt->name, &parent, err))
		goto done;
	if (parent.exists && (parent.relkind != 'I' || parent.table != rel.oid))
	{
		err_set(err, EXIT_USAGE, "%s.%s already exists and is not an index of %s.%s", rel.schema,
				opt->name, rel.schema, rel.name);
		err_hint(err, "Choose another --name.");
		goto done;
	}
	if (!parent.exists)
	{
		LockStats ls;

		bool made = indexes_create_on_only(pc, &opt->lock, &spec, rel.name, &ls, err);

		lock_felt_note(&res->felt, &ls);
		if (!made)
			goto done;
		res->parent_created = true;
		res->max_lock_held_ms = ls.held_ms;
		if (pc->dry_run)
			parent.oid = 0;
		else if (!indexes_lookup(pc, rel.schema, opt->name, &parent, err))
			goto done;
	}
	else
		log_info("index %s.%s exists; resuming", rel.schema, opt->name);

	if (!catalog_partitions(pc, rel.oid, &parts, err))
		goto done;
	res->partitions = parts.n;
	for (i = 0; i < parts.n; i++)
	{
		if (!index_partition(pc, opt, &spec, parent.oid, &rel, &parts.items[i], res, err))
			goto done;
		if (progress)
			progress(arg, i + 1, parts.n, parts.items[i].name);
	}
	if (!pc->dry_run)
	{
		if (!indexes_lookup(pc, rel.schema, opt->name, &parent, err))
			goto done;
		res->valid = parent.valid;
	}
	ok = true;
done:
	namelist_free(&cols);
	partitionlist_free(&parts);
	relinfo_free(&rel);
	return ok;
}
