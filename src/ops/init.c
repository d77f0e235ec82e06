#include "ops/init.h"

#include <string.h>

#include "ops/migrate.h"
#include "ops/rollup.h"
#include "pg/privilege.h"
#include "pg/schema.h"

void
initreport_free(InitReport *r)
{
	namelist_free(&r->done);
	namelist_free(&r->problems);
	memset(r, 0, sizeof(*r));
}

/* the first version whose functions are guarded, revoked and owned as pg/privilege.h says */
#define FIRST_SECURE_VERSION 5

static bool
upgrade_hook(PgConn *pc, int from_version, void *arg, PgpError *err)
{
	InitReport *r = arg;
	PrivAudit audit;
	bool rebuild = from_version > 0 && from_version < FIRST_SECURE_VERSION;
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
		/* made again before the audit, which then sees only what is left */
		ok = ops_rollup_upgrade(pc, rebuild, &r->done, &r->problems, err) &&
			 (!rebuild || ops_migrate_rebuild_functions(pc, &r->done, &r->problems, err));
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
