/*
 * privilege.h - who may run the functions pgpart creates, and who owns them.
 *
 * The model (docs/security.md): every function pgpart creates lives in schema
 * pgpart, is executable by its owner only (EXECUTE is revoked from PUBLIC in
 * the transaction that creates it, so that no other role can attach it to a
 * trigger of its own), and is owned by the owner of the table it serves.  A
 * trigger's firing does not check EXECUTE, so the application's writers need
 * nothing beyond their rights on the table.  Trigger functions are SECURITY
 * DEFINER and, as a second line, refuse to run for any relation but the one
 * they were made for (priv_append_trigger_guard).
 */
#ifndef PGPART_PG_PRIVILEGE_H
#define PGPART_PG_PRIVILEGE_H

#include "pg/catalog.h"

/* a right a function's owner needs for its body to work: checked and granted when missing */
typedef struct PrivNeed
{
	const char *kind; /* "schema" or "table" */
	const char *object; /* qualified: pgpart, pgpart.rollup_dirty */
	const char *privilege;
} PrivNeed;

/* what the trigger functions of a rollup and of a migration need */
extern const PrivNeed priv_rollup_needs[];
extern const int priv_rollup_nneeds;
extern const PrivNeed priv_migration_needs[];
extern const int priv_migration_nneeds;

/*
 * In the transaction that created the function (signature: qualified,
 * quoted, with its argument types): REVOKE ALL ... FROM PUBLIC, and when
 * pgpart runs as a superuser for a table owned by another role, ALTER ...
 * OWNER TO the table's owner, giving that role what the body needs (needs,
 * nneeds) if it lacks it.  table 0: a function of pgpart's own, owned then
 * by the owner of schema pgpart.  A non-superuser keeps the function it made:
 * it is not a superuser, and it owns or is a member of the table's owner.
 */
bool priv_secure_function(PgConn *pc, const char *signature, RelOid table, const PrivNeed *needs,
						  int nneeds, PgpError *err);

/*
 * Appends PL/pgSQL that raises insufficient_privilege unless the trigger
 * fires for relation expected or one of its partitions.  OIDs follow
 * renames; catalog_check is a SQL condition on pgpart's own catalog,
 * evaluated only when the OID does not match (after a dump and restore the
 * OIDs differ but pgpart's regclass columns are right), with the fired
 * relation's partition root available as "pgpart_root" (an oid).
 */
void priv_append_trigger_guard(StrBuf *body, RelOid expected, const char *catalog_check);

/*
 * How many trigger functions in schema pgpart named prefix... carry the
 * guard (those an earlier version made do not): "pgpart init" makes again
 * those of a rollup or migration with fewer than its four.
 */
bool priv_count_guarded(PgConn *pc, const char *prefix, int *guarded, PgpError *err);

/*
 * CREATE TRIGGER name AFTER events ON table_q [referencing] FOR EACH level
 * EXECUTE FUNCTION func(), then ENABLE ALWAYS: writers with
 * session_replication_role = replica change data too, and a trigger of
 * pgpart's must see every change.  referencing: NULL or "" for none.
 */
bool priv_create_trigger(PgConn *pc, const char *name, const char *events, const char *table_q,
						 const char *referencing, const char *level, const char *func,
						 PgpError *err);

/*
 * DROP FUNCTION IF EXISTS pgpart."<prefix><what>"() for each of the n names
 * in what: the trigger functions of one rollup or migration (prefix as for
 * priv_count_guarded).
 */
bool priv_drop_functions(PgConn *pc, const char *prefix, const char *const *what, int n,
						 PgpError *err);

/* what "pgpart init" did to the functions of earlier versions, and what it could not do */
typedef struct PrivAudit
{
	NameList done;
	NameList problems;
} PrivAudit;

void privaudit_free(PrivAudit *a);

/*
 * Every function in schema pgpart: EXECUTE revoked from PUBLIC where it is
 * still granted, and owners fixed (a function owned by a superuser that
 * serves a table whose owner is not one gets that owner) where this role is
 * allowed to.  What is left is listed in problems.
 */
bool priv_audit_functions(PgConn *pc, PrivAudit *a, PgpError *err);

#endif
