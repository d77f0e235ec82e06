/*
 * switch_sql.c - every statement of the transactions that swap a table and
 * its partitioned copy (switch, rollback after switch) or end the migration
 * (finish, rollback before switch), in the order they run (switch_sql.h).
 * All of them run under the ACCESS EXCLUSIVE locks of switch_lock_both.
 */
#include "commands/migrate/switch_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/migrate/mirror_sql.h"
#include "core/naming.h"
#include "util/mem.h"

static void
oid_text(RelOid oid, char *buf, size_t size)
{
	snprintf(buf, size, "%u", oid);
}

/* most statements here take the two tables' OIDs as $1 and $2 */
typedef struct OidPair
{
	char a[16], b[16];
	const char *params[2];
} OidPair;

static const char *const *
oid_pair(OidPair *p, RelOid first, RelOid second)
{
	oid_text(first, p->a, sizeof(p->a));
	oid_text(second, p->b, sizeof(p->b));
	p->params[0] = p->a;
	p->params[1] = p->b;
	return p->params;
}

/* sql with the OIDs of from and to as $1 and $2 */
static PGresult *
query_pair(PgConn *pc, const char *sql, RelOid from, RelOid to, PgpError *err)
{
	OidPair p;

	return pgc_query(pc, sql, 2, oid_pair(&p, from, to), err);
}

/* ALTER kind target_q RENAME TO new_name (target_q qualified and quoted) */
static bool
rename_to(PgConn *pc, const char *kind, const char *target_q, const char *new_name, PgpError *err)
{
	StrBuf sql;
	bool ok;

	sb_init(&sql);
	sb_appendf(&sql, "ALTER %s %s RENAME TO ", kind, target_q);
	pgc_append_ident(pc, &sql, new_name);
	ok = pgc_change(pc, sql.data, 0, NULL, err);
	sb_free(&sql);
	return ok;
}

/* x (schema.name) becomes parked, then y_q takes x's name */
static bool
trade_names(PgConn *pc, const char *kind, const char *schema, const char *name,
			const char *parked, const char *y_q, PgpError *err)
{
	char *x_q = pgc_quote_qualified(pc, schema, name);
	bool ok = rename_to(pc, kind, x_q, parked, err) && rename_to(pc, kind, y_q, name, err);

	free(x_q);
	return ok;
}

/*
 * to's counterpart of the object in row i of a name query (swap_names), qualified
 * and quoted, in *other_q; NULL when to has none
 */
typedef bool (*Counterpart)(PgConn *pc, const PGresult *res, int i, RelOid to,
							const char *suffix_to, char **other_q, PgpError *err);

/*
 * The objects sql ($1 from, $2 to) lists as schema and name trade names with
 * their counterparts in to: from's X becomes X_<suffix_from>, to's takes X.
 */
static bool
swap_names(PgConn *pc, const char *kind, const char *sql, Counterpart counterpart, RelOid from,
		   RelOid to, const char *suffix_from, const char *suffix_to, PgpError *err)
{
	PGresult *res = query_pair(pc, sql, from, to, err);
	int i;
	bool ok = res != NULL;

	for (i = 0; ok && i < PQntuples(res); i++)
	{
		const char *schema = PQgetvalue(res, i, 0);
		const char *name = PQgetvalue(res, i, 1);
		char *other_q = NULL;

		ok = counterpart(pc, res, i, to, suffix_to, &other_q, err);
		if (ok && other_q)
		{
			char *parked = naming_derive(name, suffix_from);

			ok = trade_names(pc, kind, schema, name, parked, other_q, err);
			free(parked);
		}
		free(other_q);
	}
	PQclear(res);
	return ok;
}

/* the index of to in the same schema named like row i's with suffix_to for its suffix */
static bool
index_sibling(PgConn *pc, const PGresult *res, int i, RelOid to, const char *suffix_to,
			  char **sibling_q, PgpError *err)
{
	const char *schema = PQgetvalue(res, i, 0);
	char *sibling = naming_derive(PQgetvalue(res, i, 1), suffix_to);
	char b[16];
	const char *p2[3] = {b, sibling, schema};
	char *exists = NULL;
	bool ok;

	oid_text(to, b, sizeof(b));
	ok = pgc_query_value(pc,
						 "SELECT 1 FROM pg_catalog.pg_index i "
						 "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
						 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						 "WHERE i.indrelid = $1::pg_catalog.oid AND c.relname = $2 "
						 "AND n.nspname = $3",
						 3, p2, &exists, err);
	if (ok && exists)
		*sibling_q = pgc_quote_qualified(pc, schema, sibling);
	free(exists);
	free(sibling);
	return ok;
}

/*
 * Swaps index names between the table that holds the original names (from)
 * and the one whose indexes carry suffix_to (to): from's X becomes
 * X_<suffix_from>, to's X_<suffix_to> becomes X.
 */
static bool
swap_index_names(PgConn *pc, RelOid from, RelOid to, const char *suffix_from,
				 const char *suffix_to, PgpError *err)
{
	return swap_names(pc, "INDEX",
					  "SELECT n.nspname, c.relname FROM pg_catalog.pg_index i "
					  "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
					  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					  "WHERE i.indrelid = $1::pg_catalog.oid AND $2::text IS NOT NULL ORDER BY 2",
					  index_sibling, from, to, suffix_from, suffix_to, err);
}

/* identity columns of to continue where from's sequences are */
static bool
copy_identity_positions(PgConn *pc, RelOid from, RelOid to, PgpError *err)
{
	OidPair p;

	return pgc_change(
		pc,
		"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence("
		"         $2::pg_catalog.oid::pg_catalog.regclass::text, a.attname), "
		"       COALESCE(s.last_value, s.start_value), s.last_value IS NOT NULL) "
		"FROM pg_catalog.pg_attribute a "
		"JOIN pg_catalog.pg_sequences s ON pg_catalog.format('%I.%I', s.schemaname, s.sequencename) "
		"  = pg_catalog.pg_get_serial_sequence($1::pg_catalog.oid::pg_catalog.regclass::text, a.attname) "
		"WHERE a.attrelid = $1::pg_catalog.oid AND a.attidentity <> '' AND NOT a.attisdropped",
		2, oid_pair(&p, from, to), err);
}

/* sequences owned by from's columns (serial) become owned by to's (or a DROP takes them) */
static bool
move_owned_sequences(PgConn *pc, RelOid from, RelOid to, PgpError *err)
{
	OidPair p;

	return pgc_change_each(pc,
						   "SELECT 'ALTER SEQUENCE ' || d.objid::pg_catalog.regclass::text || ' OWNED BY ' "
						   "       || $2::pg_catalog.oid::pg_catalog.regclass::text || '.' "
						   "       || pg_catalog.quote_ident(a.attname) "
						   "FROM pg_catalog.pg_depend d "
						   "JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
						   "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid "
						   "  AND a.attnum = d.refobjsubid "
						   "WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
						   "  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
						   "  AND d.refobjid = $1::pg_catalog.oid AND d.deptype = 'a'",
						   2, oid_pair(&p, from, to), err);
}

/* the identity sequence of to's same column, which the name query of row i found */
static bool
sequence_of_same_column(PgConn *pc, const PGresult *res, int i, RelOid to,
						const char *suffix_to, char **seq_q, PgpError *err)
{
	(void) pc;
	(void) to;
	(void) suffix_to;
	(void) err;
	if (!PQgetisnull(res, i, 2))
		*seq_q = pg_xstrdup(PQgetvalue(res, i, 2));
	return true;
}

/*
 * The identity sequences trade names like the indexes: from's X becomes
 * X_<suffix_from>, to's takes X (run after the tables were renamed or not:
 * it works by column).
 */
static bool
swap_identity_sequence_names(PgConn *pc, RelOid from, RelOid to, const char *suffix_from,
							 PgpError *err)
{
	/* identity sequences, by column: from's (the name to keep) and to's */
	return swap_names(pc, "SEQUENCE",
					  "SELECT n.nspname, fs.relname, pg_catalog.pg_get_serial_sequence("
					  "         $2::pg_catalog.oid::pg_catalog.regclass::text, a.attname) "
					  "FROM pg_catalog.pg_attribute a "
					  "JOIN pg_catalog.pg_class fs ON fs.oid = pg_catalog.pg_get_serial_sequence("
					  "       $1::pg_catalog.oid::pg_catalog.regclass::text, a.attname)::pg_catalog.regclass "
					  "JOIN pg_catalog.pg_namespace n ON n.oid = fs.relnamespace "
					  "WHERE a.attrelid = $1::pg_catalog.oid AND a.attidentity <> '' AND NOT a.attisdropped",
					  sequence_of_same_column, from, to, suffix_from, NULL, err);
}

bool
switch_lock_both(PgConn *pc, const char *first_q, const char *second_q, PgpError *err)
{
	char *sql = second_q ? pg_xasprintf("LOCK TABLE %s, %s IN ACCESS EXCLUSIVE MODE", first_q, second_q)
						 : pg_xasprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", first_q);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	free(sql);
	return ok;
}

static bool
rename_table(PgConn *pc, const char *from_q, const char *to_name, PgpError *err)
{
	return rename_to(pc, "TABLE", from_q, to_name, err);
}

bool
switch_swap_forward(PgConn *pc, const Migration *m, const char *source_q, const char *shadow_q,
					PgpError *err)
{
	char *old_q = pgc_quote_qualified(pc, m->schema, m->old_name);
	char *new_q = pgc_quote_qualified(pc, m->schema, m->name);
	bool ok;

	ok = copy_identity_positions(pc, m->source, m->shadow, err) &&
		 move_owned_sequences(pc, m->source, m->shadow, err) &&
		 swap_index_names(pc, m->source, m->shadow, "pgpart_old", "pgpart_new", err) &&
		 swap_identity_sequence_names(pc, m->source, m->shadow, "pgpart_old", err) &&
		 rename_table(pc, source_q, m->old_name, err) && rename_table(pc, shadow_q, m->name, err) &&
		 mirror_drop_triggers(pc, m, old_q, "forward", err) &&
		 /* the old table keeps receiving every write: rollback loses nothing */
		 mirror_create_triggers(pc, m, new_q, "reverse", err);
	free(old_q);
	free(new_q);
	return ok;
}

bool
switch_swap_back(PgConn *pc, const Migration *m, PgpError *err)
{
	char *old_q = pgc_quote_qualified(pc, m->schema, m->old_name);
	char *new_q = pgc_quote_qualified(pc, m->schema, m->name);
	char oid[16];
	const char *params[1] = {oid};
	bool ok;

	oid_text(m->shadow, oid, sizeof(oid));
	ok = copy_identity_positions(pc, m->shadow, m->source, err) &&
		 move_owned_sequences(pc, m->shadow, m->source, err) &&
		 swap_index_names(pc, m->shadow, m->source, "pgpart_new", "pgpart_old", err) &&
		 swap_identity_sequence_names(pc, m->shadow, m->source, "pgpart_new", err) &&
		 mirror_drop_triggers(pc, m, new_q, "reverse", err) &&
		 rename_table(pc, new_q, m->shadow_name, err) && rename_table(pc, old_q, m->name, err) &&
		 /* new_q names the source again now */
		 mirror_create_triggers(pc, m, new_q, "forward", err) &&
		 pgc_change(pc, "DELETE FROM pgpart.part_config WHERE parent_table = $1::pg_catalog.oid",
					1, params, err);
	free(old_q);
	free(new_q);
	return ok;
}

bool
switch_drop_copy(PgConn *pc, const Migration *m, const char *source_q, const char *shadow_q,
				 PgpError *err)
{
	char *sql = pg_xasprintf("DROP TABLE %s", shadow_q);
	bool ok = mirror_drop_triggers(pc, m, source_q, "forward", err) &&
			  pgc_change(pc, sql, 0, NULL, err) && mirror_drop_functions(pc, m, err);

	free(sql);
	return ok;
}

bool
switch_finish(PgConn *pc, const Migration *m, PgpError *err)
{
	char *new_q = pgc_quote_qualified(pc, m->schema, m->name);
	bool ok = mirror_drop_triggers(pc, m, new_q, "reverse", err) && mirror_drop_functions(pc, m, err);

	free(new_q);
	return ok;
}

bool
switch_drop_old(PgConn *pc, const char *old_q, PgpError *err)
{
	char *sql = pg_xasprintf("DROP TABLE IF EXISTS %s", old_q);
	bool ok = pgc_change(pc, sql, 0, NULL, err);

	free(sql);
	return ok;
}

char *
switch_lock_holders(PgConn *pc, RelOid source, RelOid shadow)
{
	OidPair p;
	char *text = NULL;
	PgpError e;

	err_init(&e);
	if (!pgc_query_value(
			pc,
			"SELECT pg_catalog.string_agg(DISTINCT CASE WHEN l.pid IS NULL "
			"  THEN pg_catalog.format('prepared transaction %L (COMMIT PREPARED or ROLLBACK "
			"PREPARED it)', p.gid) "
			"  ELSE pg_catalog.format('pid %s (%s, %s lock, transaction open since %s)', l.pid, "
			"    s.state, l.mode, s.xact_start) END, '; ') "
			"FROM pg_catalog.pg_locks l "
			"LEFT JOIN pg_catalog.pg_stat_activity s ON s.pid = l.pid "
			/* a prepared transaction's locks have no pid; its xid is on its transactionid lock */
			"LEFT JOIN pg_catalog.pg_locks x ON l.pid IS NULL AND x.pid IS NULL "
			"  AND x.locktype = 'transactionid' AND x.virtualtransaction = l.virtualtransaction "
			"LEFT JOIN pg_catalog.pg_prepared_xacts p ON p.transaction = x.transactionid "
			"WHERE l.locktype = 'relation' AND l.granted "
			/* the partitions too: LOCK TABLE of the partitioned one waits for them as well */
			"  AND l.relation IN (SELECT $1::pg_catalog.oid UNION SELECT $2::pg_catalog.oid "
			"    UNION SELECT t.relid FROM pg_catalog.pg_partition_tree($1::pg_catalog.oid) t "
			"    UNION SELECT t.relid FROM pg_catalog.pg_partition_tree($2::pg_catalog.oid) t) "
			"  AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()",
			2, oid_pair(&p, source, shadow), &text, &e))
		err_clear(&e);
	return text;
}
