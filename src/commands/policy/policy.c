/*
 * policy.c - pgpart policy (stored in pgpart.tier_policy) and the tier step
 * of maintain: warm moves (ops_tier_move), archives, and retention drops of
 * closed partitions, planned by core/tierplan.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tierplan.h"
#include "commands/archive/archive_int.h"
#include "commands/move/move.h"
#include "util/mem.h"

void
tierpolicyrow_free(TierPolicyRow *p)
{
	free(p->warm_after);
	free(p->warm_tablespace);
	free(p->archive_after);
	free(p->archive_to);
	free(p->drop_after);
	memset(p, 0, sizeof(*p));
}

static char *
dup_or_null(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : pg_xstrdup(PQgetvalue(res, 0, col));
}

bool
policy_load(PgConn *pc, RelOid parent, TierPolicyRow *out, bool *has, PgpError *err)
{
	char oid[16];
	const char *params[1] = {oid};
	PGresult *res;

	memset(out, 0, sizeof(*out));
	snprintf(oid, sizeof(oid), "%u", parent);
	res = pgc_query(pc,
					"SELECT warm_after, warm_tablespace, archive_after, archive_to, drop_after, "
					"drop_unarchived, allow_insecure_endpoint FROM pgpart.tier_policy "
					"WHERE parent_table = $1::pg_catalog.oid",
					1, params, err);
	if (res == NULL)
		return false;
	*has = PQntuples(res) > 0;
	if (*has)
	{
		out->warm_after = dup_or_null(res, 0);
		out->warm_tablespace = dup_or_null(res, 1);
		out->archive_after = dup_or_null(res, 2);
		out->archive_to = dup_or_null(res, 3);
		out->drop_after = dup_or_null(res, 4);
		out->drop_unarchived = PQgetvalue(res, 0, 5)[0] == 't';
		out->allow_insecure_endpoint = PQgetvalue(res, 0, 6)[0] == 't';
	}
	PQclear(res);
	return true;
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
	char *warm = NULL, *arch = NULL, *drop = NULL, *ts = NULL;
	char oid[16];
	bool ok = false;
	bool setting = opt->warm_after || opt->warm_tablespace || opt->archive_after ||
				   opt->archive_to || opt->drop_after || opt->drop_unarchived ||
				   opt->allow_insecure_endpoint;

	memset(out, 0, sizeof(*out));
	*has = false;
	if (!archive_load_config(pc, opt->table, &cfg, &kt, err))
		return false;
	snprintf(oid, sizeof(oid), "%u", cfg.parent);
	if (opt->clear)
	{
		const char *params[1] = {oid};

		ok = pgc_change(pc, "DELETE FROM pgpart.tier_policy WHERE parent_table = $1::pg_catalog.oid",
						1, params, err);
		goto done;
	}
	if (!setting)
	{
		ok = policy_load(pc, cfg.parent, out, has, err);
		goto done;
	}
	if (!check_age("--warm-after", opt->warm_after, &warm, err) ||
		!check_age("--archive-after", opt->archive_after, &arch, err) ||
		!check_age("--drop-after", opt->drop_after, &drop, err))
		goto done;
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
		const char *params[1] = {opt->warm_tablespace};

		if (!pgc_query_value(pc, "SELECT spcname FROM pg_catalog.pg_tablespace WHERE spcname = $1",
							 1, params, &ts, err))
			goto done;
		if (ts == NULL)
		{
			err_set(err, EXIT_USAGE, "tablespace \"%s\" does not exist", opt->warm_tablespace);
			err_hint(err, "Create it first (CREATE TABLESPACE), or pick one from pg_tablespace.");
			goto done;
		}
	}
	{
		const char *params[8] = {oid,
								 warm,
								 opt->warm_tablespace,
								 arch,
								 opt->archive_to,
								 drop,
								 opt->drop_unarchived ? "true" : "false",
								 opt->allow_insecure_endpoint ? "true" : "false"};

		/* the policy is replaced whole: consent to http lasts only while given again */
		if (!pgc_change(pc,
						"INSERT INTO pgpart.tier_policy (parent_table, warm_after, warm_tablespace, "
						"archive_after, archive_to, drop_after, drop_unarchived, "
						"allow_insecure_endpoint) "
						"VALUES ($1::pg_catalog.oid, $2, $3, $4, $5, $6, $7::boolean, $8::boolean) "
						"ON CONFLICT (parent_table) DO UPDATE SET warm_after = EXCLUDED.warm_after, "
						"warm_tablespace = EXCLUDED.warm_tablespace, "
						"archive_after = EXCLUDED.archive_after, archive_to = EXCLUDED.archive_to, "
						"drop_after = EXCLUDED.drop_after, "
						"drop_unarchived = EXCLUDED.drop_unarchived, "
						"allow_insecure_endpoint = EXCLUDED.allow_insecure_endpoint, "
						"updated_at = pg_catalog.now()",
						8, params, err))
			goto done;
	}
	out->warm_after = warm;
	out->warm_tablespace = opt->warm_tablespace ? pg_xstrdup(opt->warm_tablespace) : NULL;
	out->archive_after = arch;
	out->archive_to = opt->archive_to ? pg_xstrdup(opt->archive_to) : NULL;
	out->drop_after = drop;
	out->drop_unarchived = opt->drop_unarchived;
	out->allow_insecure_endpoint = opt->allow_insecure_endpoint;
	warm = arch = drop = NULL;
	*has = true;
	ok = true;
done:
	free(warm);
	free(arch);
	free(drop);
	free(ts);
	partconfig_free(&cfg);
	return ok;
}

static void
note(NameList *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(NameList *notes, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = pg_xvasprintf(fmt, ap);
	va_end(ap);
	namelist_add(notes, s);
	free(s);
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
	char *q = pgc_quote_qualified(pc, d->p->schema, d->p->name);
	char *sql = pg_xasprintf("DROP %sTABLE %s", d->foreign ? "FOREIGN " : "", q);
	const char *params[6] = {d->cfg->parent_schema, d->cfg->parent_name, d->p->name,
							 d->p->lo_text, d->p->hi_text, d->p->schema};
	bool ok;

	ok = pgc_change(pc, sql, 0, NULL, err);
	lock_txn_mark_locked(stats);
	/* the archive job of a foreign partition says where its rows are */
	ok = ok && pgc_change(pc,
						  "INSERT INTO pgpart.retention_log (parent_schema, parent_name, "
						  "partition_name, lo, hi, rows, archive_job) "
						  "SELECT $1, $2, $3, $4, $5, j.rows, j.id FROM (SELECT 1) one "
						  "LEFT JOIN LATERAL (SELECT id, rows FROM pgpart.archive_job "
						  "  WHERE partition_schema = $6 AND partition_name = $3 "
						  "  AND phase = 'archived' AND foreign_table ORDER BY id DESC LIMIT 1) j "
						  "ON true",
						  6, params, err);
	free(sql);
	free(q);
	return ok;
}

static bool
log_archived_drop(PgConn *pc, const PartConfig *cfg, const PartitionInfo *p, PgpError *err)
{
	const char *params[5] = {cfg->parent_schema, cfg->parent_name, p->schema, p->name, NULL};

	return pgc_change(pc,
					  "INSERT INTO pgpart.retention_log (parent_schema, parent_name, partition_name, "
					  "lo, hi, rows, archive_job) "
					  "SELECT $1, $2, j.partition_name, j.lo, j.hi, j.rows, j.id "
					  "FROM pgpart.archive_job j WHERE j.partition_schema = $3 "
					  "AND j.partition_name = $4 AND j.phase = 'archived' "
					  "ORDER BY j.id DESC LIMIT 1",
					  4, params, err);
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
	ColumnInfo col;
	bool found;
	char *parent_text = NULL;

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
	if (!catalog_column(pc, parent, cfgs[0].column, &col, &found, err))
		goto done;
	{
		struct
		{
			const char *text;
			bool *has;
			int64_t *us;
		} steps[3] = {{pol.warm_after, &cut.has_warm, &cut.warm_us},
					  {pol.archive_after, &cut.has_archive, &cut.archive_us},
					  {pol.drop_after, &cut.has_drop, &cut.drop_us}};

		for (i = 0; i < 3; i++)
		{
			Age a;

			if (steps[i].text == NULL || !age_parse(steps[i].text, &a))
				continue;
			if (!archive_age_cutoff(pc, &cfgs[0], col.key_type, &a, steps[i].us, err))
			{
				columninfo_free(&col);
				goto done;
			}
			*steps[i].has = true;
		}
	}
	columninfo_free(&col);
	if (!archive_now_us(pc, &cut.now_us, err) || !catalog_partitions(pc, parent, &parts, err))
		goto done;
	parent_text = pgc_quote_qualified(pc, cfgs[0].parent_schema, cfgs[0].parent_name);
	ok = true;
	for (i = 0; i < parts.n && ok; i++)
	{
		const PartitionInfo *p = &parts.items[i];
		TierPartition tp = {p->is_default, p->bounds_known, p->hi_unbounded, p->hi_us,
							pol.warm_tablespace && p->tablespace &&
								strcmp(p->tablespace, pol.warm_tablespace) == 0};
		TierAction act = tierplan_action(&cut, &tp);
		char *pq;
		bool foreign = false;

		if (act == TIER_NONE)
			continue;
		if (!archive_is_foreign(pc, p->oid, &foreign, err))
		{
			ok = false;
			break;
		}
		/* a foreign partition is an archive read in place: only retention touches it */
		if (foreign && act != TIER_DROP)
			continue;
		pq = pgc_quote_qualified(pc, p->schema, p->name);
		if (foreign)
		{
			DropCtx d = {&cfgs[0], p, true};

			ok = lock_run_txn(pc, lock, retention_drop_body, &d, NULL, err);
			if (ok)
				note(notes, "%s %s.%s (retention; its archive stays)",
					 pc->dry_run ? "would drop the foreign partition" : "dropped the foreign partition",
					 p->schema, p->name);
		}
		else if (act == TIER_WARM)
		{
			TierMoveOptions mo;
			TierMoveResult mr;
			PgpError merr;

			memset(&mo, 0, sizeof(mo));
			mo.table = parent_text;
			mo.partition = pq;
			mo.tablespace = pol.warm_tablespace;
			mo.lock = *lock;
			mo.dry_run = pc->dry_run;
			memset(&mr, 0, sizeof(mr));
			err_init(&merr);
			if (ops_tier_move(pc, &mo, &mr, &merr))
				note(notes, "%s %s.%s to tablespace %s", pc->dry_run ? "would move" : "moved",
					 p->schema, p->name, pol.warm_tablespace);
			else if (pc->dry_run)
				note(notes, "would move %s.%s to tablespace %s (the move says: %s)", p->schema,
					 p->name, pol.warm_tablespace, merr.message ? merr.message : "?");
			else
			{
				err_set(err, merr.exit_code, "warm move of %s.%s failed: %s", p->schema, p->name,
						merr.message ? merr.message : "?");
				ok = false;
			}
			tiermoveresult_free(&mr);
			err_clear(&merr);
		}
		else if (act == TIER_ARCHIVE || (act == TIER_DROP && !pol.drop_unarchived))
		{
			ArchiveOptions ao;
			ArchiveResult ar;

			memset(&ao, 0, sizeof(ao));
			ao.table = parent_text;
			ao.partition = pq;
			ao.to = pol.archive_to;
			ao.storage.allow_insecure_endpoint = pol.allow_insecure_endpoint;
			ao.lock = *lock;
			ok = ops_archive(pc, &ao, &ar, err);
			if (ok)
				note(notes, "%s %s.%s to %s%s", pc->dry_run ? "would archive" : "archived",
					 p->schema, p->name, pol.archive_to,
					 act == TIER_DROP ? " (retention: past --drop-after)" : "");
			if (ok && act == TIER_DROP && !pc->dry_run)
				ok = log_archived_drop(pc, &cfgs[0], p, err);
			if (!ok)
				err_prefix(err, "archive of %s.%s", p->schema, p->name);
			archiveresult_free(&ar);
		}
		else
		{
			DropCtx d = {&cfgs[0], p, false};

			ok = lock_run_txn(pc, lock, retention_drop_body, &d, NULL, err);
			if (ok)
				note(notes, "%s %s.%s (retention, not archived)",
					 pc->dry_run ? "would drop" : "dropped", p->schema, p->name);
		}
		free(pq);
	}
done:
	free(parent_text);
	partitionlist_free(&parts);
	partconfig_list_free(cfgs, ncfg);
	tierpolicyrow_free(&pol);
	return ok;
}

bool
archive_status_lines(PgConn *pc, const char *schema, const char *name, NameList *lines,
					 PgpError *err)
{
	const char *params[2] = {schema, name};
	PGresult *res;
	int i;

	res = pgc_query(pc,
					"SELECT partition_name || ' [' || lo || ', ' || hi || '): ' || "
					"CASE phase WHEN 'archived' THEN 'archived, ' || rows || ' rows, ' || "
					"compressed_bytes || ' bytes in ' || location || '/' || manifest_key || "
					"CASE WHEN foreign_table THEN ' (queryable in place)' ELSE '' END "
					"ELSE 'archive in progress (' || phase || ') to ' || location END "
					"FROM pgpart.archive_job WHERE parent_schema = $1 AND parent_name = $2 "
					"AND phase IN ('started', 'detached', 'uploaded', 'verified', 'archived') "
					"ORDER BY lo, id",
					2, params, err);
	if (res == NULL)
		return false;
	for (i = 0; i < PQntuples(res); i++)
		namelist_add(lines, PQgetvalue(res, i, 0));
	PQclear(res);
	return true;
}
