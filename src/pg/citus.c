/*
 * citus.c - reads Citus's metadata on the coordinator (pg_dist_partition,
 * pg_dist_shard) to tell a distributed table from a plain one, and refuses
 * up front what cannot work on one.  Citus's catalogs exist only where the
 * extension is installed, so every read first asks pg_extension.
 */
#include "pg/citus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/stmt.h"
#include "util/strbuf.h"
#include "util/mem.h"

void
citustable_free(CitusTable *t)
{
	free(t->column);
	memset(t, 0, sizeof(*t));
}

bool
citus_installed(PgConn *pc, bool *yes, PgpError *err)
{
	return stmt_query_bool(pc,
						   "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension "
						   "               WHERE extname = 'citus')",
						   0, NULL, yes, err);
}

const char *
citus_kind_name(CitusKind kind)
{
	switch (kind)
	{
		case CITUS_DISTRIBUTED:
			return "a distributed table";
		case CITUS_REFERENCE:
			return "a reference table";
		case CITUS_LOCAL:
			return "a Citus local table";
		case CITUS_NONE:
			break;
	}
	return "a table Citus does not manage";
}

bool
citus_table(PgConn *pc, RelOid rel, CitusTable *t, PgpError *err)
{
	PGresult *res;
	bool installed;

	memset(t, 0, sizeof(*t));
	if (!citus_installed(pc, &installed, err))
		return false;
	if (!installed)
		return true;
	/*
	 * partmethod 'h' hash-distributed (also 'a'/'r', the old append and
	 * range methods), 'n' none: a reference table when replicated to every
	 * node (repmodel 't'), else a Citus local table.  A partition of a
	 * distributed table has a row of its own, colocated with its parent.
	 */
	res = catalog_oid_query(pc,
							"SELECT p.partmethod::text, p.repmodel::text, "
							"       CASE WHEN p.partmethod <> 'n' THEN "
							"         pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END, "
							"       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard s "
							"        WHERE s.logicalrelid = p.logicalrelid) "
							"FROM pg_catalog.pg_dist_partition p "
							"WHERE p.logicalrelid = $1::pg_catalog.oid",
							rel, err);
	if (res == NULL)
		return false;
	if (PQntuples(res) == 1)
	{
		const char *method = PQgetvalue(res, 0, 0);

		if (strcmp(method, "n") != 0)
		{
			t->kind = CITUS_DISTRIBUTED;
			if (!PQgetisnull(res, 0, 2))
				t->column = pg_xstrdup(PQgetvalue(res, 0, 2));
			t->shards = atoi(PQgetvalue(res, 0, 3));
		}
		else
			t->kind = strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? CITUS_REFERENCE : CITUS_LOCAL;
	}
	PQclear(res);
	return true;
}

bool
citus_is_managed(PgConn *pc, RelOid rel, bool *yes, PgpError *err)
{
	CitusTable t;

	*yes = false;
	if (!citus_table(pc, rel, &t, err))
		return false;
	*yes = t.kind != CITUS_NONE;
	citustable_free(&t);
	return true;
}

bool
citus_distribute_as_parent(PgConn *pc, const char *table_q, RelOid parent, PgpError *err)
{
	CitusTable pt;
	bool done = false;
	bool ok;
	char pbuf[16];
	const char *params[3];

	if (!citus_table(pc, parent, &pt, err))
		return false;
	snprintf(pbuf, sizeof(pbuf), "%u", parent);
	params[0] = table_q;
	params[1] = pt.column;
	params[2] = pbuf;
	ok = pt.kind != CITUS_DISTRIBUTED || pt.column == NULL ||
		 stmt_query_bool(pc,
						 "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition "
						 "               WHERE logicalrelid = pg_catalog.to_regclass($1))",
						 1, params, &done, err);
	if (ok && pt.kind == CITUS_DISTRIBUTED && pt.column != NULL && !done)
		/*
		 * create_distributed_table copies the rows to the shards and leaves
		 * them, invisible, on the coordinator: truncate_local_data_... frees
		 * that space
		 */
		ok = pgc_change(pc,
						"SELECT pg_catalog.create_distributed_table($1::pg_catalog.regclass, $2, "
						"colocate_with => $3::pg_catalog.oid::pg_catalog.regclass::text)",
						3, params, err) &&
			 pgc_change(pc,
						"SELECT pg_catalog.truncate_local_data_after_distributing_table("
						"$1::pg_catalog.regclass)",
						1, params, err);
	citustable_free(&pt);
	return ok;
}

/*
 * EXIT_USAGE "<rel> is <kind>: <refusal>" with detail and hint when rel is a
 * table Citus manages; true when it is not.  hint may name rel once (%s).
 */
static bool
refuse_managed(PgConn *pc, RelOid rel, const char *refusal, const char *detail,
			   const char *hint_fmt, PgpError *err)
{
	CitusTable t;
	char *name = NULL;

	if (!citus_table(pc, rel, &t, err))
		return false;
	if (t.kind == CITUS_NONE)
		return true;
	if (catalog_regclass_text(pc, rel, &name, err))
	{
		err_set(err, EXIT_USAGE, "%s is %s: %s", name, citus_kind_name(t.kind), refusal);
		if (detail)
			err_detail(err, "%s", detail);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		err_hint(err, hint_fmt, name);
#pragma GCC diagnostic pop
	}
	free(name);
	citustable_free(&t);
	return false;
}

bool
citus_rollup_column(PgConn *pc, RelOid rel, char **column, PgpError *err)
{
	CitusTable t;
	bool ok = true;

	*column = NULL;
	if (!citus_table(pc, rel, &t, err))
		return false;
	if (t.kind == CITUS_DISTRIBUTED && t.column)
	{
		*column = t.column;
		t.column = NULL;
	}
	else if (t.kind != CITUS_NONE)
		ok = refuse_managed(pc, rel, "pgpart keeps rollups of distributed tables only",
							"A rollup's marking triggers would fire on every copy of a reference "
							"table, or beside no shard of a Citus local table.",
							"Use \"pgpart report --source detail\" on %s.", err);
	citustable_free(&t);
	return ok;
}

char *
citus_shard_check_sql(PgConn *pc, const char *table_q, const char *relation)
{
	StrBuf sb;

	/*
	 * A shard is named after its table with "_<shardid>" at the end (its
	 * table's name shortened first when too long): the id found there must
	 * be a shard of table_q, and Citus's own name of that shard the
	 * relation's.  shard_name leaves out "public."; with an empty
	 * search_path regclass writes it.  Catalog functions only: Citus hides
	 * shards from queries of pg_class.
	 */
	sb_init(&sb);
	sb_appendf(&sb,
			   "EXISTS (SELECT FROM pg_catalog.pg_dist_shard s "
			   "WHERE s.logicalrelid = pg_catalog.to_regclass(");
	pgc_append_literal(pc, &sb, table_q);
	sb_appendf(&sb,
			   ") AND s.shardid = pg_catalog.substring(%s::pg_catalog.regclass::text, "
			   "'_([0-9]+)\"?$')::bigint AND %s::pg_catalog.regclass::text IN "
			   "(pg_catalog.shard_name(s.logicalrelid, s.shardid), "
			   "'public.' || pg_catalog.shard_name(s.logicalrelid, s.shardid)))",
			   relation, relation);
	return sb_steal(&sb);
}

bool
citus_begin_ddl(PgConn *pc, PgpError *err)
{
	/*
	 * Sequential: after a parallel operation (the shards of a new table),
	 * Citus refuses to propagate a function in the same transaction.  Unsafe
	 * triggers: see docs/scale-out.md ("Rollups") for why a rollup's are not.
	 */
	return pgc_change(pc, "SET LOCAL citus.multi_shard_modify_mode TO 'sequential'", 0, NULL, err) &&
		   pgc_change(pc, "SET LOCAL citus.enable_unsafe_triggers TO on", 0, NULL, err);
}

bool
citus_one_snapshot_per_worker(PgConn *pc, PgpError *err)
{
	return pgc_exec(pc, "SET LOCAL citus.max_adaptive_executor_pool_size TO 1", 0, NULL, err);
}

bool
citus_distribute_colocated(PgConn *pc, const char *table_q, const char *column,
						   const char *with_q, PgpError *err)
{
	const char *params[3] = {table_q, column, with_q};

	return pgc_change(pc,
					  "SELECT pg_catalog.create_distributed_table($1::pg_catalog.regclass, $2, "
					  "colocate_with => $3)",
					  3, params, err);
}

bool
citus_refuse_convert(PgConn *pc, RelOid rel, PgpError *err)
{
	return refuse_managed(pc, rel, "pgpart create would replace it by a table Citus does not manage",
						  NULL,
						  "Partition it first and distribute it then: \"SELECT "
						  "undistribute_table('%s')\", \"pgpart create\", then "
						  "create_distributed_table.  Or create it PARTITION BY RANGE, distribute "
						  "it, and \"pgpart create\" takes it over.",
						  err);
}

bool
citus_refuse_move(PgConn *pc, RelOid rel, PgpError *err)
{
	return refuse_managed(pc, rel, "pgpart moves none of its partitions to another tablespace",
						  "Its rows are in shards on the workers; a tablespace of the "
						  "coordinator would hold none of them.",
						  "Move the shards of %s with Citus (citus_move_shard_placement), or give "
						  "the workers' databases the tablespace; see docs/scale-out.md.",
						  err);
}

bool
citus_refuse_remote(PgConn *pc, RelOid rel, PgpError *err)
{
	return refuse_managed(pc, rel, "pgpart sends none of its partitions to a remote server",
						  "Its rows are in shards on the workers; the coordinator's partition "
						  "holds none of them.",
						  "Keep old shards of %s on cheaper workers with Citus "
						  "(citus_move_shard_placement); see docs/scale-out.md.",
						  err);
}

bool
citus_refuse_migrate(PgConn *pc, const char *table, PgpError *err)
{
	RelInfo rel;
	CitusTable t;
	bool found;
	bool ok;

	memset(&rel, 0, sizeof(rel));
	memset(&t, 0, sizeof(t));
	if (!catalog_resolve_table(pc, table, &rel, &found, err))
		return false;
	ok = !found || citus_table(pc, rel.oid, &t, err);
	if (ok && t.kind != CITUS_NONE)
	{
		err_set(err, EXIT_USAGE, "%s.%s is %s: pgpart cannot migrate it online", rel.schema,
				rel.name, citus_kind_name(t.kind));
		err_detail(err, "An online migration creates a shadow table with triggers that mirror "
						"every write and swaps the tables with renames; Citus does not run such "
						"triggers on the shards, and the shadow would have to be distributed and "
						"colocated first.");
		err_hint(err, "Migrate it before distributing it, or follow the manual path in "
					  "docs/scale-out.md (\"Migrating a distributed table\").");
		ok = false;
	}
	citustable_free(&t);
	relinfo_free(&rel);
	return ok;
}
