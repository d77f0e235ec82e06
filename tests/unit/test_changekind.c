/* unit tests of core/changekind.c: what the change log records */
#include "core/changekind.h"
#include "tap.h"

int
main(void)
{
	is_int(change_kind("ALTER TABLE", "ALTER TABLE public.t ATTACH PARTITION ..."), CHANGE_DDL,
		   "ATTACH is DDL");
	is_int(change_kind("CREATE INDEX", "CREATE INDEX CONCURRENTLY ..."), CHANGE_DDL, "an index");
	is_int(change_kind("DROP TABLE", "DROP TABLE public.t_2020_q1"), CHANGE_DDL, "a retention drop");
	is_int(change_kind("LOCK TABLE", "LOCK TABLE public.t IN ACCESS EXCLUSIVE MODE"), CHANGE_LOCK,
		   "a lock");
	is_int(change_kind("INSERT 0 5000", "INSERT INTO public.t_new SELECT ..."), CHANGE_ROWS,
		   "a backfill batch");
	is_int(change_kind("INSERT 0 1", "WITH moved AS (DELETE ...) INSERT INTO public.t ..."),
		   CHANGE_ROWS, "a default-partition move");
	is_int(change_kind("COPY 100", "COPY public.t_2020_q1 FROM STDIN"), CHANGE_ROWS, "a restore");
	is_int(change_kind("INSERT 0 1", "INSERT INTO pgpart.run_log (x) VALUES ($1)"), CHANGE_NONE,
		   "pgpart's own bookkeeping is not a change of the user's data");
	is_int(change_kind("UPDATE 1", "  UPDATE pgpart.migration SET phase = $1"), CHANGE_NONE,
		   "nor an update of it");
	is_int(change_kind("DELETE 3", "DELETE FROM ONLY pgpart.rollup_dirty WHERE"), CHANGE_NONE,
		   "nor a delete");
	is_int(change_kind("UPDATE 2", "UPDATE public.pgpart_like SET a = 1"), CHANGE_ROWS,
		   "a user's table whose name starts with pgpart is the user's");
	is_int(change_kind("BEGIN", "BEGIN"), CHANGE_NONE, "transaction control");
	is_int(change_kind("SELECT 1", "SELECT pg_catalog.set_config('lock_timeout', $1, true)"),
		   CHANGE_NONE, "a setting");
	is_int(change_kind("SET", "SET LOCAL citus.enable_unsafe_triggers TO on"), CHANGE_NONE, "SET");
	is_int(change_kind("ALTERED", "x"), CHANGE_NONE, "a tag is matched by whole words");
	is_int(change_kind(NULL, "x"), CHANGE_NONE, "no tag");
	is_str(change_kind_name(CHANGE_ROWS), "rows", "names as change_log.kind stores them");
	ok(change_kind_name(CHANGE_NONE) == NULL, "nothing recorded has no name");
	return done_testing();
}
