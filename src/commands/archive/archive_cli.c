/* pgpart archive / archive list / restore - closed partitions to and from storage */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "commands/archive/archive.h"

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
	"                           accept an http:// endpoint (a trusted network only)\n";

enum
{
	OPT_TO = OPT_FIRST_COMMAND_OPTION,
	OPT_OLDER_THAN,
	OPT_S3_ENDPOINT,
	OPT_PART_SIZE,
	OPT_LEVEL,
	OPT_FROM,
	OPT_NO_FOREIGN,
	OPT_ALLOW_INSECURE,
	OPT_TRUST_MANIFEST
};

static void
fail_print(int *rc, const PgpError *err)
{
	*rc = cli_fail(err);
}

static int
archive_list(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {CLI_COMMON_LONG_OPTIONS,
										 {"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
										 {"allow-insecure-endpoint", no_argument, NULL,
										  OPT_ALLOW_INSECURE},
										 {NULL, 0, NULL, 0}};
	StorageOptions so = {NULL, 0, 0, false};
	ArchiveListResult res;
	PgpError err;
	const char *url = NULL;
	int c, i, rc = EXIT_OK;

	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS, opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		if (c == OPT_HELP)
		{
			printf("%s%s", archive_help, CLI_COMMON_HELP);
			return EXIT_OK;
		}
		if (c == OPT_S3_ENDPOINT)
			so.s3_endpoint = optarg;
		else if (c == OPT_ALLOW_INSECURE)
			so.allow_insecure_endpoint = true;
		else
			return cli_usage_error("archive list", "invalid option");
	}
	if (optind < argc)
		url = argv[optind++];
	if (url == NULL)
		return cli_usage_error("archive list", "no location given");
	if (optind < argc)
		return cli_usage_error("archive list", "unexpected argument \"%s\"", argv[optind]);
	err_init(&err);
	if (!ops_archive_list(url, &so, &res, &err))
	{
		fail_print(&rc, &err);
		err_clear(&err);
		return rc;
	}
	if (g->json)
	{
		json_t *arr = json_array();

		for (i = 0; i < res.n; i++)
		{
			const ArchiveEntry *e = &res.items[i];
			json_t *o = json_object();

			json_object_set_new(o, "manifest", json_string(e->manifest_key));
			if (e->problem)
			{
				json_object_set_new(o, "problem", json_string(e->problem));
				rc = EXIT_CHECK;
			}
			else
			{
				json_object_set_new(o, "table", json_string(e->table));
				json_object_set_new(o, "partition", json_string(e->partition));
				json_object_set_new(o, "from", json_string(e->lo));
				json_object_set_new(o, "to", json_string(e->hi));
				json_object_set_new(o, "rows", json_integer(e->rows));
				json_object_set_new(o, "raw_bytes", json_integer(e->raw_bytes));
				json_object_set_new(o, "compressed_bytes", json_integer(e->compressed_bytes));
				json_object_set_new(o, "archived_at",
									e->archived_at ? json_string(e->archived_at) : json_null());
			}
			json_array_append_new(arr, o);
		}
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	}
	else
	{
		if (res.n == 0)
			printf("no archives in %s\n", url);
		for (i = 0; i < res.n; i++)
		{
			const ArchiveEntry *e = &res.items[i];

			if (e->problem)
			{
				printf("%s\n  UNREADABLE: %s\n", e->manifest_key, e->problem);
				rc = EXIT_CHECK;
			}
			else
				printf("%s [%s, %s) of %s: %lld rows, %lld bytes compressed (%lld raw)\n  %s\n",
					   e->partition, e->lo, e->hi, e->table, e->rows, e->compressed_bytes,
					   e->raw_bytes, e->manifest_key);
		}
	}
	archivelistresult_free(&res);
	return rc;
}

static bool
parse_size(const char *text, size_t *out)
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
	*out = (size_t) v;
	return true;
}

int
cmd_archive(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {CLI_COMMON_LONG_OPTIONS,
										 {"to", required_argument, NULL, OPT_TO},
										 {"older-than", required_argument, NULL, OPT_OLDER_THAN},
										 {"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
										 {"part-size", required_argument, NULL, OPT_PART_SIZE},
										 {"level", required_argument, NULL, OPT_LEVEL},
										 {"no-foreign-table", no_argument, NULL, OPT_NO_FOREIGN},
										 {"allow-insecure-endpoint", no_argument, NULL,
										  OPT_ALLOW_INSECURE},
										 {NULL, 0, NULL, 0}};
	ArchiveOptions o;
	ArchiveResult res;
	PgConn pc = {0};
	PgpError err;
	int c, i, rc = EXIT_OK;
	bool ok;

	if (argc > 1 && strcmp(argv[1], "list") == 0)
		return archive_list(argc - 1, argv + 1, g);
	memset(&o, 0, sizeof(o));
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS, opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (c)
		{
			case OPT_HELP:
				printf("%s%s", archive_help, CLI_COMMON_HELP);
				return EXIT_OK;
			case OPT_TO:
				o.to = optarg;
				break;
			case OPT_OLDER_THAN:
				o.older_than = optarg;
				break;
			case OPT_S3_ENDPOINT:
				o.storage.s3_endpoint = optarg;
				break;
			case OPT_PART_SIZE:
				if (!parse_size(optarg, &o.storage.part_size))
					return cli_usage_error("archive", "invalid --part-size \"%s\"", optarg);
				break;
			case OPT_LEVEL:
				if (!cli_parse_int(optarg, 1, 19, &o.level))
					return cli_usage_error("archive", "invalid --level \"%s\" (1 to 19)", optarg);
				break;
			case OPT_NO_FOREIGN:
				o.no_foreign_table = true;
				break;
			case OPT_ALLOW_INSECURE:
				o.storage.allow_insecure_endpoint = true;
				break;
			default:
				return cli_usage_error("archive", "invalid option");
		}
	}
	if (optind < argc)
		o.table = argv[optind++];
	if (optind < argc)
		o.partition = argv[optind++];
	if (optind < argc)
		return cli_usage_error("archive", "unexpected argument \"%s\"", argv[optind]);
	if (o.table == NULL)
		return cli_usage_error("archive", "no table given");
	if ((o.partition == NULL) == (o.older_than == NULL))
		return cli_usage_error("archive", "give either a PARTITION or --older-than");
	if (o.to == NULL)
		return cli_usage_error("archive", "--to is required");
	o.lock = g->lock;
	o.show_progress = !g->json && !g->dry_run;

	err_init(&err);
	if (!cli_connect(g, &pc, &err))
	{
		rc = cli_fail(&err);
		err_clear(&err);
		return rc;
	}
	ok = ops_archive(&pc, &o, &res, &err);
	if (g->json)
	{
		json_t *arr = json_array(), *top;

		for (i = 0; i < res.n; i++)
		{
			const ArchivedPartition *a = &res.items[i];

			json_array_append_new(
				arr, json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:s?, s:b, "
							   "s:f, s:f, s:f}",
							   "partition", a->partition, "from", a->lo, "to", a->hi, "object",
							   a->object_url, "manifest", a->manifest_url, "rows",
							   (json_int_t) a->rows, "raw_bytes", (json_int_t) a->raw_bytes,
							   "compressed_bytes", (json_int_t) a->compressed_bytes,
							   "table_bytes", (json_int_t) a->table_bytes, "sha256", a->sha256,
							   "resumed", a->resumed, "copy_ms", a->copy_ms, "total_ms",
							   a->total_ms, "max_lock_held_ms", a->max_lock_held_ms, "note",
							   a->note));
		}
		top = json_pack("{s:o, s:b, s:b}", "archived", arr, "dry_run", g->dry_run, "ok", ok);
		json_dumpf(top, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(top);
	}
	else
	{
		for (i = 0; i < res.n; i++)
		{
			const ArchivedPartition *a = &res.items[i];

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
			if (a->note)
				printf("  note: %s\n", a->note);
		}
		if (ok && res.n == 0)
			printf("nothing to archive\n");
	}
	if (!ok)
		rc = cli_fail(&err);
	archiveresult_free(&res);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}

int
cmd_restore(int argc, char **argv, GlobalOpts *g)
{
	static const struct option opts[] = {CLI_COMMON_LONG_OPTIONS,
										 {"from", required_argument, NULL, OPT_FROM},
										 {"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
										 {"allow-insecure-endpoint", no_argument, NULL,
										  OPT_ALLOW_INSECURE},
										 {"trust-manifest", no_argument, NULL, OPT_TRUST_MANIFEST},
										 {NULL, 0, NULL, 0}};
	RestoreOptions o;
	RestoreResult res;
	PgConn pc = {0};
	PgpError err;
	int c, i, rc = EXIT_OK;

	memset(&o, 0, sizeof(o));
	while ((c = cli_getopt(argc, argv, CLI_COMMON_SHORT_OPTIONS, opts)) != -1)
	{
		int h = cli_common_option(c, optarg, g);

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		if (c == OPT_HELP)
		{
			printf("%s%s", restore_help, CLI_COMMON_HELP);
			return EXIT_OK;
		}
		if (c == OPT_FROM)
			o.from = optarg;
		else if (c == OPT_S3_ENDPOINT)
			o.storage.s3_endpoint = optarg;
		else if (c == OPT_ALLOW_INSECURE)
			o.storage.allow_insecure_endpoint = true;
		else if (c == OPT_TRUST_MANIFEST)
			o.trust_manifest = true;
		else
			return cli_usage_error("restore", "invalid option");
	}
	if (optind < argc)
		o.table = argv[optind++];
	if (optind < argc)
		return cli_usage_error("restore", "unexpected argument \"%s\"", argv[optind]);
	if (o.table == NULL)
		return cli_usage_error("restore", "no table given");
	if (o.from == NULL)
		return cli_usage_error("restore", "--from is required");
	o.lock = g->lock;
	o.show_progress = !g->json && !g->dry_run;
	err_init(&err);
	if (!cli_connect(g, &pc, &err))
	{
		rc = cli_fail(&err);
		err_clear(&err);
		return rc;
	}
	if (!ops_restore(&pc, &o, &res, &err))
		rc = cli_fail(&err);
	else if (g->json)
	{
		json_t *notes = json_array();
		json_t *top;

		for (i = 0; i < res.notes.n; i++)
			json_array_append_new(notes, json_string(res.notes.items[i]));
		top = json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:b, s:b, s:o}", "partition",
						res.partition, "from", res.lo, "to", res.hi, "rows", (json_int_t) res.rows,
						"compressed_bytes", (json_int_t) res.compressed_bytes, "load_ms",
						res.load_ms, "total_ms", res.total_ms, "max_lock_held_ms",
						res.max_lock_held_ms, "dry_run", g->dry_run, "authenticated",
						res.authenticated, "notes", notes);
		json_dumpf(top, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(top);
	}
	else
	{
		if (!g->dry_run)
			printf("restored %s [%s, %s): %lld rows in %.1f s; locks held at most %.1f ms\n",
				   res.partition, res.lo, res.hi, res.rows, res.total_ms / 1000.0,
				   res.max_lock_held_ms);
		for (i = 0; i < res.notes.n; i++)
			printf("  note: %s\n", res.notes.items[i]);
	}
	restoreresult_free(&res);
	err_clear(&err);
	pgc_close(&pc);
	return rc;
}
