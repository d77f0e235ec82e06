/*
 * archive_cli.c - the command line of pgpart archive, archive list and
 * restore: their options, help texts and output (text or --json).  The
 * operations are archive.c, archive_list.c and restore.c; they print nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "commands/archive/archive.h"
#include "commands/archive/archive_list.h"
#include "commands/archive/restore.h"

static const char archive_help[] =
	"pgpart archive moves closed partitions of a table out of the database into an\n"
	"archive location: each partition is detached, its rows streamed with COPY\n"
	"through zstd into one object, a JSON manifest written beside it (columns, DDL,\n"
	"indexes, bounds, row count, sizes, SHA-256), both read back and verified, and\n"
	"only then the table dropped.  If the storage fails first, the partition is\n"
	"attached back and nothing is lost; running the same command again finishes an\n"
	"interrupted archive.\n\n"
	"Usage:\n"
	"  pgpart archive TABLE PARTITION --to URL [OPTION]...\n"
	"  pgpart archive TABLE --older-than AGE --to URL [OPTION]...\n"
	"  pgpart archive list URL [OPTION]...\n\n"
	"Options:\n"
	"      --to=URL             file:///DIR or s3://BUCKET/PREFIX\n"
	"      --older-than=AGE     every partition whose range ended at least AGE ago\n"
	"                           (\"1 year\", \"2 quarters\", \"90 days\")\n"
	"      --s3-endpoint=URL    an S3-compatible store (default: AWS_ENDPOINT_URL_S3,\n"
	"                           AWS_ENDPOINT_URL, or AWS itself); https:// only,\n"
	"                           unless:\n"
	"      --allow-insecure-endpoint\n"
	"                           accept an http:// endpoint (requests, session token\n"
	"                           and rows travel unencrypted: a trusted network only)\n"
	"      --part-size=BYTES    multipart upload part size (default 8 MiB; at least\n"
	"                           5 MiB on AWS S3)\n"
	"      --level=N            zstd compression level, 1-19 (default 3)\n"
	"      --no-foreign-table   file://: do not leave a read-only file_fdw partition\n"
	"                           reading the archive in place of the table\n\n"
	"S3 credentials and region come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
	"AWS_SESSION_TOKEN and AWS_REGION.  Only partitions whose whole range is in the\n"
	"past are archived.  Files are written private (0600, folders 0700).\n";

static const char restore_help[] =
	"pgpart restore brings an archived partition back: it reads the manifest and\n"
	"checks it against the archive job this database recorded (the manifest's\n"
	"SHA-256), checks that the table's columns match, loads the object into a new\n"
	"table LIKE the table while verifying its SHA-256, size and compressed stream\n"
	"(a corrupt, truncated or oversized object is refused and nothing is left\n"
	"behind), builds the table's own indexes on it and attaches it under\n"
	"--lock-timeout, as the partition pgpart names for its bounds, in the table's\n"
	"schema.  No SQL text from the manifest is ever run.\n\n"
	"Usage:\n"
	"  pgpart restore TABLE --from MANIFEST-URL [OPTION]...\n\n"
	"Options:\n"
	"      --from=URL           the manifest (\"pgpart archive list\" shows them)\n"
	"      --trust-manifest     restore a manifest this database has no archive job\n"
	"                           for (archived in another database, or by a pgpart\n"
	"                           that did not record manifest checksums): its column\n"
	"                           order, bounds, sizes and checksum are then believed\n"
	"                           as written, still checked against the table\n"
	"      --s3-endpoint=URL    an S3-compatible store (https:// only, unless:)\n"
	"      --allow-insecure-endpoint\n"
	"                           accept an http:// endpoint (a trusted network only)\n"
	"Before the load (one COPY, the whole partition to WAL), wait while the server\n"
	"is unwell:\n" CLI_HEALTH_HELP;

/* --s3-endpoint and --allow-insecure-endpoint: every command that opens a location */
#define STORAGE_OPTIONS(so)                                                    \
	CLI_STRING("s3-endpoint", 0, &(so)->s3_endpoint),                          \
		CLI_TRUE("allow-insecure-endpoint", 0, &(so)->allow_insecure_endpoint)

typedef struct ListArgs
{
	const char *url;
	StorageOptions storage;
} ListArgs;

static void
print_list(const ArchiveListResult *res, const char *url, bool json, int *rc)
{
	int i;

	if (json)
	{
		json_t *arr = json_array();

		for (i = 0; i < res->n; i++)
		{
			const ArchiveEntry *e = &res->items[i];

			if (e->problem)
			{
				json_array_append_new(arr, json_pack("{s:s, s:s}", "manifest", e->manifest_key,
													 "problem", e->problem));
				*rc = EXIT_CHECK;
				continue;
			}
			json_array_append_new(
				arr, json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:s?}", "manifest",
							   e->manifest_key, "table", e->table, "partition", e->partition,
							   "from", e->lo, "to", e->hi, "rows", (json_int_t) e->rows,
							   "raw_bytes", (json_int_t) e->raw_bytes, "compressed_bytes",
							   (json_int_t) e->compressed_bytes, "archived_at", e->archived_at));
		}
		cli_print_json(arr);
		return;
	}
	if (res->n == 0)
		printf("no archives in %s\n", url);
	for (i = 0; i < res->n; i++)
	{
		const ArchiveEntry *e = &res->items[i];

		if (e->problem)
		{
			printf("%s\n  UNREADABLE: %s\n", e->manifest_key, e->problem);
			*rc = EXIT_CHECK;
		}
		else
			printf("%s [%s, %s) of %s: %lld rows, %lld bytes compressed (%lld raw)\n  %s\n",
				   e->partition, e->lo, e->hi, e->table, e->rows, e->compressed_bytes,
				   e->raw_bytes, e->manifest_key);
	}
}

/* archive list reads storage only: no connection */
static int
archive_list(int argc, char **argv, GlobalOpts *g)
{
	ListArgs a;
	const CliOption options[] = {STORAGE_OPTIONS(&a.storage), CLI_END};
	const CliSpec spec = {"archive", archive_help, options, NULL, false};
	ArchiveListResult res;
	PgpError err;
	int first, rc;

	memset(&a, 0, sizeof(a));
	if ((rc = cli_parse_args(&spec, argc, argv, g, 1, "no location given", &first)) != CLI_PARSED)
		return rc;
	a.url = argv[first];
	rc = EXIT_OK;
	err_init(&err);
	if (!ops_archive_list(a.url, &a.storage, &res, &err))
		rc = cli_fail(&err);
	else
		print_list(&res, a.url, g->json, &rc);
	archivelistresult_free(&res);
	err_clear(&err);
	return rc;
}

/* BYTES, or with k or M (KiB, MiB), from 1 KiB to 4 GiB */
static bool
parse_size(const char *text, void *target)
{
	char *end;
	unsigned long long v = strtoull(text, &end, 10);

	if (end == text)
		return false;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end == 'B' || *end == 'i')
		end++;
	if (*end != '\0' || v < 1024 || v > (1ull << 32))
		return false;
	*(size_t *) target = (size_t) v;
	return true;
}

static void
print_archived(const ArchiveResult *res, bool ok, bool json, bool dry_run)
{
	int i;

	if (json)
	{
		json_t *arr = json_array(), *top;

		for (i = 0; i < res->n; i++)
		{
			const ArchivedPartition *a = &res->items[i];
			json_t *po;

			po = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:s?, s:b, "
							   "s:f, s:f, s:f, s:f}",
							   "partition", a->partition, "from", a->lo, "to", a->hi, "object",
							   a->object_url, "manifest", a->manifest_url, "rows",
							   (json_int_t) a->rows, "raw_bytes", (json_int_t) a->raw_bytes,
							   "compressed_bytes", (json_int_t) a->compressed_bytes,
							   "table_bytes", (json_int_t) a->table_bytes, "sha256", a->sha256,
							   "resumed", a->resumed, "copy_ms", a->copy_ms, "total_ms",
							   a->total_ms, "max_lock_held_ms", a->max_lock_held_ms,
							   "lock_held_ms", a->felt.held_ms, "note", a->note);
			lock_felt_json(po, &a->felt);
			json_array_append_new(arr, po);
		}
		top = json_pack("{s:o, s:b, s:b}", "archived", arr, "dry_run", dry_run, "ok", ok);
		cli_print_json(top);
		return;
	}
	for (i = 0; i < res->n; i++)
	{
		const ArchivedPartition *a = &res->items[i];

		if (a->dry_run)
			printf("would archive %s [%s, %s) to %s\n", a->partition, a->lo, a->hi,
				   a->object_url);
		else if (a->sha256)
			printf("archived %s [%s, %s)%s: %lld rows, %lld bytes -> %lld bytes (%.1fx) in "
				   "%.1f s\n  %s\n",
				   a->partition, a->lo, a->hi, a->resumed ? " (resumed)" : "", a->rows,
				   a->table_bytes, a->compressed_bytes,
				   a->compressed_bytes > 0 ? (double) a->table_bytes / (double) a->compressed_bytes
										   : 0.0,
				   a->total_ms / 1000.0, a->manifest_url);
		if (!a->dry_run && a->sha256)
		{
			char felt[LOCK_FELT_TEXT_SIZE];

			printf("  %s\n", lock_felt_text(&a->felt, felt, sizeof(felt)));
		}
		if (a->note)
			printf("  note: %s\n", a->note);
	}
	if (ok && res->n == 0)
		printf("nothing to archive\n");
}

static int
archive_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const ArchiveOptions *o = arg;
	ArchiveResult res;
	bool ok = ops_archive(pc, o, &res, err);

	/* what was archived before a failure is shown too */
	print_archived(&res, ok, g->json, g->dry_run);
	archiveresult_free(&res);
	return ok ? EXIT_OK : CLI_FAILED;
}

int
cmd_archive(int argc, char **argv, GlobalOpts *g)
{
	ArchiveOptions o;
	const CliOption options[] = {
		CLI_STRING("to", 0, &o.to),
		CLI_STRING("older-than", 0, &o.older_than),
		STORAGE_OPTIONS(&o.storage),
		CLI_CALL("part-size", 0, &o.storage.part_size, parse_size,
				 "bytes from 1024 to 4294967296, or with k or M, e.g. 8M"),
		CLI_INT("level", 0, &o.level, 1, 19),
		CLI_TRUE("no-foreign-table", 0, &o.no_foreign_table),
		CLI_END};
	const CliSpec spec = {"archive", archive_help, options, NULL, false};
	int first, rc;

	if (argc > 1 && strcmp(argv[1], "list") == 0)
		return archive_list(argc - 1, argv + 1, g);
	memset(&o, 0, sizeof(o));
	if ((rc = cli_parse(&spec, argc, argv, g, &first)) != CLI_PARSED)
		return rc;
	if (first < argc)
		o.table = argv[first++];
	if (first < argc)
		o.partition = argv[first++];
	if (first < argc)
		return cli_usage_error("archive", "unexpected argument \"%s\"", argv[first]);
	if (o.table == NULL)
		return cli_usage_error("archive", "no table given");
	if ((o.partition == NULL) == (o.older_than == NULL))
		return cli_usage_error("archive", "give either a PARTITION or --older-than");
	if (o.to == NULL)
		return cli_usage_error("archive", "--to is required");
	o.lock = g->lock;
	o.show_progress = !g->json && !g->dry_run;
	return cli_run_connected(g, archive_run, &o);
}

static int
restore_run(PgConn *pc, const GlobalOpts *g, void *arg, PgpError *err)
{
	const RestoreOptions *o = arg;
	RestoreResult res;

	if (!ops_restore(pc, o, &res, err))
	{
		restoreresult_free(&res);
		return CLI_FAILED;
	}
	if (g->json)
	{
		json_t *top;

		top = json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:b, s:b, s:o}",
						"partition", res.partition, "from", res.lo, "to", res.hi, "rows",
						(json_int_t) res.rows, "compressed_bytes", (json_int_t) res.compressed_bytes,
						"load_ms", res.load_ms, "total_ms", res.total_ms, "max_lock_held_ms",
						res.max_lock_held_ms, "lock_held_ms", res.felt.held_ms,
						"dry_run", g->dry_run, "authenticated",
						res.authenticated, "notes", cli_json_list(&res.notes));
		lock_felt_json(top, &res.felt);
		cli_print_json(top);
	}
	else
	{
		char felt[LOCK_FELT_TEXT_SIZE];

		if (!g->dry_run)
			printf("restored %s [%s, %s): %lld rows in %.1f s; locks held at most %.1f ms; %s\n",
				   res.partition, res.lo, res.hi, res.rows, res.total_ms / 1000.0,
				   res.max_lock_held_ms, lock_felt_text(&res.felt, felt, sizeof(felt)));
		cli_print_list("  note: ", &res.notes);
	}
	restoreresult_free(&res);
	return EXIT_OK;
}

int
cmd_restore(int argc, char **argv, GlobalOpts *g)
{
	RestoreOptions o;
	const CliOption options[] = {
		CLI_STRING("from", 0, &o.from),
		STORAGE_OPTIONS(&o.storage),
		CLI_TRUE("trust-manifest", 0, &o.trust_manifest),
		CLI_HEALTH_OPTIONS(&o.health),
		CLI_END};
	const CliSpec spec = {"restore", restore_help, options, NULL, false};
	int first, rc;

	memset(&o, 0, sizeof(o));
	if ((rc = cli_parse_args(&spec, argc, argv, g, 1, "no table given", &first)) != CLI_PARSED)
		return rc;
	o.table = argv[first];
	if (o.from == NULL)
		return cli_usage_error("restore", "--from is required");
	o.lock = g->lock;
	o.show_progress = !g->json && !g->dry_run;
	return cli_run_connected(g, restore_run, &o);
}
