/*
 * init.c - "pgpart init": installs or upgrades pgpart's schema (pg/schema.c)
 * and, in the same transaction, remakes the functions earlier versions made
 * and audits every pgpart function's privileges, so that an upgrade leaves
 * nothing behind that this version's least-privilege rules forbid.
 */
#include "commands/init/init.h"

#include <string.h>

#include "commands/migrate/migrate.h"
#include "commands/rollup/rollup.h"
#include "pg/privilege.h"
#include "pg/schema.h"

void
initreport_free(InitReport *r)
{
	NAMELIST_FREE_ALL(&r->done, &r->problems);
	memset(r, 0, sizeof(*r));
}

static bool
upgrade_hook(PgConn *pc, int from_version, void *arg, PgpError *err)
{
	InitReport *r = arg;
	PrivAudit audit;
	bool ok = true;
	int i;

	if (from_version == 0)
		return true;
	if (pc->dry_run)
	{
		/* the upgrade's statements were only printed: nothing to look at yet */
		if (from_version < PGPART_SCHEMA_VERSION)
		{
			namelist_add(&r->done, "(functions made by earlier versions are checked when the "
								   "upgrade runs: run without --dry-run)");
			return true;
		}
	}
	else
	{
		/*
		 * Made again before the audit, which then sees only what is left; on
		 * every run, not only on the version change, so that a run that could
		 * not do it all (a function of another owner) is finished by the next.
		 */
		ok = ops_rollup_upgrade(pc, true, &r->done, &r->problems, err) &&
			 ops_migrate_rebuild_functions(pc, &r->done, &r->problems, err);
	}
	memset(&audit, 0, sizeof(audit));
	ok = ok && priv_audit_functions(pc, &audit, err);
	for (i = 0; i < audit.done.n; i++)
		namelist_add(&r->done, audit.done.items[i]);
	for (i = 0; i < audit.problems.n; i++)
		namelist_add(&r->problems, audit.problems.items[i]);
	privaudit_free(&audit);
	return ok;
}

bool
ops_init(PgConn *pc, InitReport *r, PgpError *err)
{
	memset(r, 0, sizeof(*r));
	return schema_install(pc, upgrade_hook, r, &r->from_version, &r->to_version, err);
}
