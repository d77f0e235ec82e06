/*
 * standby.c - asks the server whether it is a standby, and the one refusal
 * every changing command gives on one (standby.h).
 */
#include "pg/standby.h"

#include "pg/stmt.h"

bool
standby_in_recovery(PgConn *pc, bool *yes, PgpError *err)
{
	return stmt_query_bool(pc, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL, yes, err);
}

bool
standby_refuse(PgConn *pc, const char *command, PgpError *err)
{
	bool standby;

	if (!standby_in_recovery(pc, &standby, err))
		return false;
	if (!standby)
		return true;
	/*
	 * Said before the server refuses a first write ("cannot execute ... in a
	 * read-only transaction"), which could come after locks or a work lock
	 * were taken, and without saying what to do.
	 */
	err_set(err, EXIT_STANDBY,
			"this server is a standby (in recovery): \"pgpart %s\" changes things and runs only "
			"on the primary",
			command);
	err_detail(err, "Nothing was changed; the commands that only read (status, metrics, report, "
					"check, migrate status) work on a standby.");
	err_hint(err, "Run it against the primary, e.g. with target_session_attrs=read-write in the "
				  "connection string: -d 'host=db1,db2 dbname=app target_session_attrs=read-write'.");
	return false;
}
