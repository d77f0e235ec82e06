/*
 * archive_reader.c - reading an archive object back as it streams in (the
 * verification after an archive, and restore's load): its SHA-256, its size
 * and the zstd stream checked as the bytes arrive, so that a lying object
 * stops early (archive_int.h says how).
 */
#include <stdlib.h>
#include <string.h>

#include "commands/archive/archive_int.h"
#include "util/mem.h"

void
archive_reader_init(ArchiveReader *r, const char *what, ArchiveSinkFn sink, void *sink_arg,
					long long comp_limit, long long raw_limit)
{
	memset(r, 0, sizeof(*r));
	r->what = what;
	r->comp_limit = comp_limit;
	r->raw_limit = raw_limit;
	r->dctx = ZSTD_createDCtx();
	r->sha = sha256_new();
	r->out_cap = ZSTD_DStreamOutSize();
	r->out = pg_xmalloc(r->out_cap);
	r->sink = sink;
	r->sink_arg = sink_arg;
	r->last_ret = 1;
}

bool
archive_reader_chunk(void *arg, const void *data, size_t n, PgpError *err)
{
	ArchiveReader *r = arg;
	ZSTD_inBuffer in = {data, n, 0};

	if (r->comp_limit >= 0 && r->comp + (long long) n > r->comp_limit)
	{
		err_set(err, EXIT_CHECK, "archive object %s is too long: more than the %lld bytes its "
								 "manifest says",
				r->what, r->comp_limit);
		err_hint(err, "Nothing was changed.  Restore it from another copy of the archive.");
		r->failed = true;
		return false;
	}
	sha256_update(r->sha, data, n);
	r->comp += (long long) n;
	while (in.pos < in.size)
	{
		ZSTD_outBuffer out = {r->out, r->out_cap, 0};
		size_t ret = ZSTD_decompressStream(r->dctx, &out, &in);

		if (ZSTD_isError(ret))
		{
			err_set(err, EXIT_CHECK, "the archive object is corrupt: %s", ZSTD_getErrorName(ret));
			err_detail(err, "Its compressed stream is damaged after %lld bytes.", r->comp);
			r->failed = true;
			return false;
		}
		r->last_ret = ret;
		if (r->raw_limit >= 0 && r->raw + (long long) out.pos > r->raw_limit)
		{
			/* stopped here: nothing beyond the announced size reaches the sink */
			err_set(err, EXIT_CHECK, "archive object %s holds more than the %lld bytes of rows "
									 "its manifest says; reading stopped",
					r->what, r->raw_limit);
			err_hint(err, "Nothing was changed.  The object or its manifest was damaged or "
						  "replaced; restore from another copy of the archive.");
			r->failed = true;
			return false;
		}
		if (out.pos > 0)
		{
			r->raw += (long long) out.pos;
			if (r->sink && !r->sink(r->sink_arg, r->out, out.pos, err))
			{
				r->failed = true;
				return false;
			}
		}
	}
	return true;
}

bool
archive_reader_finish(ArchiveReader *r, const char *sha256, long long compressed_bytes,
					  long long raw_bytes, PgpError *err)
{
	const char *what = r->what;
	char hex[65];

	sha256_finish(r->sha, hex);
	r->sha = NULL;
	if (compressed_bytes >= 0 && r->comp != compressed_bytes)
	{
		err_set(err, EXIT_CHECK, "archive object %s is %s: %lld bytes instead of %lld", what,
				r->comp < compressed_bytes ? "truncated" : "too long", r->comp,
				compressed_bytes);
		err_hint(err, "Nothing was changed.  Restore it from another copy of the archive.");
		return false;
	}
	if (sha256 && strcmp(hex, sha256) != 0)
	{
		err_set(err, EXIT_CHECK, "archive object %s is corrupt: its SHA-256 does not match the "
								 "manifest",
				what);
		err_detail(err, "Expected %s, read %s.", sha256, hex);
		err_hint(err, "Nothing was changed.  Restore it from another copy of the archive.");
		return false;
	}
	if (r->last_ret != 0)
	{
		err_set(err, EXIT_CHECK, "archive object %s is truncated: its compressed stream ends "
								 "early",
				what);
		return false;
	}
	if (raw_bytes >= 0 && r->raw != raw_bytes)
	{
		err_set(err, EXIT_CHECK, "archive object %s holds %lld bytes of rows instead of %lld",
				what, r->raw, raw_bytes);
		return false;
	}
	return true;
}

void
archive_reader_free(ArchiveReader *r)
{
	if (r->sha)
	{
		char hex[65];

		sha256_finish(r->sha, hex);
	}
	ZSTD_freeDCtx(r->dctx);
	free(r->out);
	memset(r, 0, sizeof(*r));
}
