/*
 * policy.c - pgpart policy (stored in pgpart.tier_policy) and the tier step
 * of maintain: warm moves (ops_tier_move), archives (ops_archive), and
 * retention drops of closed partitions, as core/tierplan decides for each
 * partition; the statements are in policy_sql.c.
 */
#include "commands/policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/archive/archive.h"
#include "commands/move/move.h"
#include "commands/policy/policy_sql.h"
#include "commands/remote/remote.h"
#include "core/tierplan.h"
#include "pg/companion.h"
#include "util/mem.h"

void
tierpolicyrow_free(TierPolicyRow *p)
{
	FREE_ALL(p->warm_after, p->warm_tablespace, p->archive_after, p->archive_to, p->drop_after,
			 p->remote_after, p->remote_server);
	memset(p, 0, sizeof(*p));
}

static bool
check_age(const char *opt, const char *text, char **normal, PgpError *err)
{
	Age a;

	*normal = NULL;
	if (text == NULL)
		return true;
	if (!age_parse(text, &a))
	{
		err_set(err, EXIT_USAGE, "invalid %s \"%s\"", opt, text);
		err_hint(err, "Give an age such as \"1 quarter\", \"1 year\" or \"7 years\".");
		return false;
	}
	*normal = age_format(a);
	return true;
}

bool
ops_policy(PgConn *pc, const PolicyOptions *opt, TierPolicyRow *out, bool *has, PgpError *err)
{
	PartConfig cfg;
	KeyType kt;
	TierPolicyRow row;
	bool ok = false, ts_exists;
	bool setting = opt->warm_after || opt->warm_tablespace || opt->archive_after ||
				   opt->archive_to || opt->drop_after || opt->drop_unarchived ||
				   opt->allow_insecure_endpoint || opt->remote_after || opt->remote_server;

	memset(out, 0, sizeof(*out));
	*has = false;
	memset(&row, 0, sizeof(row));
	if (!archive_load_config(pc, opt->table, &cfg, &kt, err))
		return false;
	if (opt->clear)
	{
		ok = policy_sql_clear(pc, cfg.parent, err);
		goto done;
	}
	if (!setting)
	{
		ok = policy_load(pc, cfg.parent, out, has, err);
		goto done;
	}
	if (!check_age("--warm-after", opt->warm_after, &row.warm_after, err) ||
		!check_age("--archive-after", opt->archive_after, &row.archive_after, err) ||
		!check_age("--drop-after", opt->drop_after, &row.drop_after, err) ||
		!check_age("--remote-after", opt->remote_after, &row.remote_after, err))
		goto done;
	if ((opt->remote_after == NULL) != (opt->remote_server == NULL))
	{
		err_set(err, EXIT_USAGE, "--remote-after and --remote-server go together");
		goto done;
	}
	if (opt->remote_server && !remote_name_valid(opt->remote_server))
	{
		err_set(err, EXIT_USAGE, "invalid remote name \"%s\"", opt->remote_server);
		err_hint(err, "\"pgpart remote list\" lists the remotes.");
		goto done;
	}
	if ((opt->warm_after == NULL) != (opt->warm_tablespace == NULL))
	{
		err_set(err, EXIT_USAGE, "--warm-after and --warm-tablespace go together");
		goto done;
	}
	if (opt->archive_after && opt->archive_to == NULL)
	{
		err_set(err, EXIT_USAGE, "--archive-after needs --archive-to");
		goto done;
	}
	if (opt->drop_after && !opt->drop_unarchived && opt->archive_to == NULL)
	{
		err_set(err, EXIT_USAGE, "--drop-after archives a partition before dropping it, and "
								 "no --archive-to is given");
		err_hint(err, "Add --archive-to URL, or --drop-unarchived to drop without an archive.");
		goto done;
	}
	if (opt->archive_to)
	{
		ArchUrl u;
		char *why = NULL;
		bool s3;

		if (!archurl_parse(opt->archive_to, &u, &why))
		{
			err_set(err, EXIT_USAGE, "invalid archive location \"%s\"", opt->archive_to);
			err_detail(err, "%s", why);
			err_hint(err, "Use file:///DIR or s3://BUCKET/PREFIX.");
			free(why);
			goto done;
		}
		s3 = u.scheme == ARCH_S3;
		archurl_free(&u);
		if (opt->allow_insecure_endpoint && !s3)
		{
			err_set(err, EXIT_USAGE, "--allow-insecure-endpoint is for an s3:// --archive-to");
			goto done;
		}
	}
	else if (opt->allow_insecure_endpoint)
	{
		err_set(err, EXIT_USAGE, "--allow-insecure-endpoint needs an s3:// --archive-to");
		goto done;
	}
	if (opt->warm_tablespace)
	{
		if (!policy_sql_tablespace_exists(pc, opt->warm_tablespace, &ts_exists, err))
			goto done;
		if (!ts_exists)
		{
			err_set(err, EXIT_USAGE, "tablespace \"%s\" does not exist", opt->warm_tablespace);
			err_hint(err, "Create it first (CREATE TABLESPACE), or pick one from pg_tablespace.");
			goto done;
		}
	}
	row.warm_tablespace = opt->warm_tablespace ? pg_xstrdup(opt->warm_tablespace) : NULL;
	row.archive_to = opt->archive_to ? pg_xstrdup(opt->archive_to) : NULL;
	row.remote_server = opt->remote_server ? pg_xstrdup(opt->remote_server) : NULL;
	row.drop_unarchived = opt->drop_unarchived;
	row.allow_insecure_endpoint = opt->allow_insecure_endpoint;
	/* the policy is replaced whole: consent to http lasts only while given again */
	if (!policy_sql_store(pc, cfg.parent, &row, err))
		goto done;
	*out = row;
	memset(&row, 0, sizeof(row));
	*has = true;
	ok = true;
done:
	tierpolicyrow_free(&row);
	partconfig_free(&cfg);
	return ok;
}

typedef struct DropCtx
{
	const PartConfig *cfg;
	const PartitionInfo *p;
	bool foreign; /* a file_fdw partition reading its archive */
} DropCtx;

static bool
retention_drop_body(PgConn *pc, void *arg, LockStats *stats, PgpError *err)
{
	DropCtx *d = arg;
	bool ok = policy_sql_drop_partition(pc, d->p, d->foreign, err);

	lock_txn_mark_locked(stats);
	return ok && policy_sql_log_drop(pc, d->cfg, d->p, err);
}

/* what the tier step of one table works with */
typedef struct TierStep
{
	PgConn *pc;
	const LockPolicy *lock;
	const TierPolicyRow *pol;
	const PartConfig *cfg;
	const char *parent_q;
	NameList *notes;
} TierStep;

/* the instants the policy's ages stand for today (an age that does not parse is no step) */
static bool
tier_cutoffs(PgConn *pc, const TierPolicyRow *pol, const PartConfig *cfg, TierCutoffs *cut,
			 PgpError *err)
{
	struct
	{
		const char *text;
		bool *has;
		int64_t *us;
	} steps[4] = {{pol->warm_after, &cut->has_warm, &cut->warm_us},
				  {pol->archive_after, &cut->has_archive, &cut->archive_us},
				  {pol->drop_after, &cut->has_drop, &cut->drop_us},
				  {pol->remote_after, &cut->has_remote, &cut->remote_us}};
	ColumnInfo col;
	bool found, ok = true;
	int i;

	if (!catalog_column(pc, cfg->parent, cfg->column, &col, &found, err))
		return false;
	for (i = 0; i < 4 && ok; i++)
	{
		Age a;

		if (steps[i].text == NULL || !age_parse(steps[i].text, &a))
			continue;
		ok = archive_age_cutoff(pc, cfg, col.key_type, &a, steps[i].us, err);
		*steps[i].has = ok;
	}
	columninfo_free(&col);
	return ok && archive_now_us(pc, &cut->now_us, err);
}

/* the retention_log row of a remote partition, in the transaction that drops its foreign table */
static bool
log_remote_drop(PgConn *pc, void *arg, const char *rows, PgpError *err)
{
	DropCtx *d = arg;

	return policy_sql_log_remote_drop(pc, d->cfg, d->p, rows, err);
}

/* a retention drop of p in its own short transaction under lock_timeout */
static bool
tier_drop(TierStep *t, const PartitionInfo *p, bool foreign, PgpError *err)
{
	DropCtx d = {t->cfg, p, foreign};
	bool remote = false;

	/* a partition on a remote server: its remote table goes too, after the local commit */
	if (foreign && !remote_retention_drop(t->pc, t->cfg->parent, t->cfg->column, p, t->lock,
										  log_remote_drop, &d, &remote, err))
		return false;
	if (remote)
	{
		namelist_addf(t->notes, "%s %s.%s and its table on the remote (retention)",
					  t->pc->dry_run ? "would drop" : "dropped", p->schema, p->name);
		return true;
	}

	if (!lock_run_txn(t->pc, t->lock, retention_drop_body, &d, NULL, err))
		return false;
	if (foreign)
		namelist_addf(t->notes, "%s %s.%s (retention; its archive stays)",
					  t->pc->dry_run ? "would drop the foreign partition"
									 : "dropped the foreign partition",
					  p->schema, p->name);
	else
		namelist_addf(t->notes, "%s %s.%s (retention, not archived)",
					  t->pc->dry_run ? "would drop" : "dropped", p->schema, p->name);
	return true;
}

/* p (quoted: pq) to the remote server of the policy */
static bool
tier_remote(TierStep *t, const PartitionInfo *p, const char *pq, PgpError *err)
{
	RemoteOptions ro;
	RemoteResult rr;
	PgpError rerr;
	bool ok = true;

	memset(&ro, 0, sizeof(ro));
	ro.name = t->pol->remote_server;
	ro.table = t->parent_q;
	ro.partition = pq;
	ro.lock = *t->lock;
	err_init(&rerr);
	if (ops_remote_send(t->pc, &ro, &rr, &rerr))
		namelist_addf(t->notes, "%s %s.%s to remote %s%s",
					  t->pc->dry_run ? "would send" : "sent", p->schema, p->name,
					  t->pol->remote_server, rr.already ? " (there already)" : "");
	else if (t->pc->dry_run)
		namelist_addf(t->notes, "would send %s.%s to remote %s (the send says: %s)", p->schema,
					  p->name, t->pol->remote_server, rerr.message ? rerr.message : "?");
	else
	{
		err_set(err, rerr.exit_code, "remote send of %s.%s failed: %s", p->schema, p->name,
				rerr.message ? rerr.message : "?");
		err->kind = rerr.kind;
		ok = false;
	}
	remoteresult_free(&rr);
	err_clear(&rerr);
	return ok;
}

/* p (quoted: pq) to the warm tablespace; in --dry-run a move that would fail is only noted */
static bool
tier_warm(TierStep *t, const PartitionInfo *p, const char *pq, PgpError *err)
{
	PgConn *pc = t->pc;
	TierMoveOptions mo;
	TierMoveResult mr;
	PgpError merr;
	bool ok = true;

	memset(&mo, 0, sizeof(mo));
	mo.table = t->parent_q;
	mo.partition = pq;
	mo.tablespace = t->pol->warm_tablespace;
	mo.lock = *t->lock;
	mo.dry_run = pc->dry_run;
	memset(&mr, 0, sizeof(mr));
	err_init(&merr);
	if (ops_tier_move(pc, &mo, &mr, &merr))
		namelist_addf(t->notes, "%s %s.%s to tablespace %s", pc->dry_run ? "would move" : "moved",
					  p->schema, p->name, t->pol->warm_tablespace);
	else if (pc->dry_run)
		namelist_addf(t->notes, "would move %s.%s to tablespace %s (the move says: %s)",
					  p->schema, p->name, t->pol->warm_tablespace,
					  merr.message ? merr.message : "?");
	else
	{
		err_set(err, merr.exit_code, "warm move of %s.%s failed: %s", p->schema, p->name,
				merr.message ? merr.message : "?");
		err->kind = merr.kind; /* busy stays busy: maintain skips the table */
		ok = false;
	}
	tiermoveresult_free(&mr);
	err_clear(&merr);
	return ok;
}

/* p archived (for retention: archived, which drops it, and the drop logged) */
static bool
tier_archive(TierStep *t, const PartitionInfo *p, const char *pq, bool retention,
			 PgpError *err)
{
	PgConn *pc = t->pc;
	ArchiveOptions ao;
	ArchiveResult ar;
	bool ok;

	memset(&ao, 0, sizeof(ao));
	ao.table = t->parent_q;
	ao.partition = pq;
	ao.to = t->pol->archive_to;
	ao.storage.allow_insecure_endpoint = t->pol->allow_insecure_endpoint;
	ao.lock = *t->lock;
	/* past --drop-after the rows leave the database: no foreign partition reads them in place */
	ao.no_foreign_table = retention;
	ok = ops_archive(pc, &ao, &ar, err);
	if (ok)
		namelist_addf(t->notes, "%s %s.%s to %s%s", pc->dry_run ? "would archive" : "archived",
					  p->schema, p->name, t->pol->archive_to,
					  retention ? " (retention: past --drop-after)" : "");
	if (ok && retention && !pc->dry_run)
		ok = policy_sql_log_archived_drop(pc, t->cfg, p, err);
	if (!ok)
		err_prefix(err, "archive of %s.%s", p->schema, p->name);
	archiveresult_free(&ar);
	return ok;
}

/* what the policy says for p today, done (or planned) */
static bool
tier_partition(TierStep *t, const TierCutoffs *cut, const PartitionInfo *p, PgpError *err)
{
	const TierPolicyRow *pol = t->pol;
	TierPartition tp = {p->is_default, p->bounds_known, p->hi_unbounded, p->hi_us,
						pol->warm_tablespace && p->tablespace &&
							strcmp(p->tablespace, pol->warm_tablespace) == 0};
	TierAction act = tierplan_action(cut, &tp);
	char *pq;
	bool foreign = false, ok;

	if (act == TIER_NONE)
		return true;
	if (!archive_is_foreign(t->pc, p->oid, &foreign, err))
		return false;
	/* a foreign partition is an archive read in place: only retention touches it */
	if (foreign && act != TIER_DROP)
		return true;
	pq = pgc_quote_qualified(t->pc, p->schema, p->name);
	if (foreign)
		ok = tier_drop(t, p, true, err);
	else if (act == TIER_REMOTE)
		ok = tier_remote(t, p, pq, err);
	else if (act == TIER_WARM)
		ok = tier_warm(t, p, pq, err);
	else if (act == TIER_ARCHIVE || (act == TIER_DROP && !pol->drop_unarchived))
		ok = tier_archive(t, p, pq, act == TIER_DROP, err);
	else
		ok = tier_drop(t, p, false, err);
	free(pq);
	return ok;
}

/* the archived (and remote) partitions under the table's companion: only retention touches them */
static bool
tier_companion(TierStep *t, const TierCutoffs *cut, PgpError *err)
{
	ForeignHome home;
	PartitionList parts;
	int i;
	bool ok;

	if (!companion_find(t->pc, t->cfg->parent_schema, t->cfg->parent_name, &home, err))
		return false;
	ok = home.name == NULL || catalog_partitions(t->pc, home.oid, &parts, err);
	if (ok && home.name)
	{
		for (i = 0; i < parts.n && ok; i++)
			ok = tier_partition(t, cut, &parts.items[i], err);
		partitionlist_free(&parts);
	}
	foreign_home_free(&home);
	return ok;
}

bool
ops_apply_policy(PgConn *pc, RelOid parent, const LockPolicy *lock, NameList *notes,
				 PgpError *err)
{
	TierPolicyRow pol;
	bool has = false, ok = false;
	PartConfig *cfgs = NULL;
	int ncfg = 0, i;
	PartitionList parts;
	TierCutoffs cut;
	char *parent_q = NULL;

	memset(&parts, 0, sizeof(parts));
	memset(&cut, 0, sizeof(cut));
	if (!policy_load(pc, parent, &pol, &has, err))
		return false;
	if (!has)
		return true;
	if (!config_load(pc, parent, &cfgs, &ncfg, err))
		goto done;
	if (ncfg == 0)
	{
		ok = true;
		goto done;
	}
	if (!tier_cutoffs(pc, &pol, &cfgs[0], &cut, err) ||
		!catalog_partitions(pc, parent, &parts, err))
		goto done;
	parent_q = pgc_quote_qualified(pc, cfgs[0].parent_schema, cfgs[0].parent_name);
	/* a retention drop of a remote table that a crash interrupted */
	if (!remote_retention_resume(pc, parent, lock, notes, err))
		goto done;
	{
		TierStep t = {pc, lock, &pol, &cfgs[0], parent_q, notes};

		ok = true;
		for (i = 0; i < parts.n && ok; i++)
			ok = tier_partition(&t, &cut, &parts.items[i], err);
		ok = ok && tier_companion(&t, &cut, err);
	}
done:
	free(parent_q);
	partitionlist_free(&parts);
	partconfig_list_free(cfgs, ncfg);
	tierpolicyrow_free(&pol);
	return ok;
}
