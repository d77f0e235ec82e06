/*
 * storage_s3.c - archives in an S3 bucket (AWS or any S3-compatible store).
 *
 * libcurl signs every request itself (CURLOPT_AWS_SIGV4, "aws:amz:REGION:s3");
 * pgpart adds x-amz-content-sha256 with the payload's real hash.  With an
 * endpoint (--s3-endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL) requests are
 * path-style (ENDPOINT/BUCKET/KEY), as S3-compatible stores expect; without
 * one they go to https://BUCKET.s3.REGION.amazonaws.com/KEY.
 *
 * Writes keep one part in memory: an object that ends within the first part
 * is sent with one PUT; a longer one becomes a multipart upload (each part
 * retried on its own, the upload aborted on failure).  Every request is
 * retried with exponential backoff on network errors, 5xx and 429; reads that
 * fail mid-stream resume with a Range request where they stopped.  Both the
 * CURLcode and the HTTP status are checked on every call.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/digest.h"
#include "storage/storage.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

#define S3_DEFAULT_PART_SIZE (8u << 20)
#define S3_MIN_PART_SIZE (5u << 20) /* S3's own minimum for all parts but the last */

typedef struct S3
{
	char *endpoint; /* scheme://host[:port], NULL: AWS virtual-hosted style */
	char *bucket;
	char *prefix; /* "" or "a/b" */
	char *region;
	char *userpwd;
	char *sigv4;
	char *token;
	size_t part_size;
	int max_attempts;
	bool allow_http; /* an http:// endpoint, given consent explicitly */
} S3;

struct StorageWriter
{
	S3 *s3;
	char *key;
	unsigned char *buf;
	size_t len;
	char *upload_id; /* NULL until the first full part */
	NameList etags;
};

static void
url_encode(StrBuf *sb, const char *s, bool keep_slash)
{
	const unsigned char *c;

	for (c = (const unsigned char *) s; *c; c++)
	{
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			*c == '-' || *c == '_' || *c == '.' || *c == '~' || (keep_slash && *c == '/'))
			sb_append_char(sb, (char) *c);
		else
			sb_appendf(sb, "%%%02X", *c);
	}
}

/* full key in the bucket for a location-relative key */
static char *
full_key(const S3 *s3, const char *key)
{
	if (s3->prefix[0] == '\0')
		return pg_xstrdup(key);
	if (key[0] == '\0')
		return pg_xasprintf("%s/", s3->prefix);
	return pg_xasprintf("%s/%s", s3->prefix, key);
}

/* URL of an object (key already full; NULL: the bucket) plus a canonical query */
static char *
object_url(const S3 *s3, const char *key, const char *query)
{
	StrBuf sb;

	sb_init(&sb);
	if (s3->endpoint)
		sb_appendf(&sb, "%s/%s/", s3->endpoint, s3->bucket);
	else
		sb_appendf(&sb, "https://%s.s3.%s.amazonaws.com/", s3->bucket, s3->region);
	if (key)
		url_encode(&sb, key, true);
	if (query)
		sb_appendf(&sb, "?%s", query);
	return sb_steal(&sb);
}

typedef struct Response
{
	long status;
	StrBuf body;	  /* error bodies, and bodies when no chunk function */
	StrBuf etag;
	StorageChunkFn fn; /* streaming GET */
	void *fn_arg;
	PgpError *fn_err;
	bool fn_failed;
	long long delivered;
	CURL *curl;
} Response;

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	Response *r = arg;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	if (r->fn && status >= 200 && status < 300)
	{
		if (!r->fn(r->fn_arg, data, n, r->fn_err))
		{
			r->fn_failed = true;
			return 0;
		}
		r->delivered += (long long) n;
		return n;
	}
	if (r->body.len < (1u << 20))
		sb_append_len(&r->body, data, n);
	return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	Response *r = arg;
	size_t n = size * nmemb;

	if (n > 5 && strncasecmp(data, "etag:", 5) == 0)
	{
		size_t i = 5, j = n;

		while (i < n && (data[i] == ' ' || data[i] == '\t'))
			i++;
		while (j > i && (data[j - 1] == '\r' || data[j - 1] == '\n' || data[j - 1] == ' '))
			j--;
		sb_reset(&r->etag);
		sb_append_len(&r->etag, data + i, j - i);
	}
	return n;
}

/* text of <tag>...</tag> in xml (first one after *from), entities decoded; NULL if absent */
static char *
xml_value(const char *xml, const char *tag, const char **from)
{
	char *open = pg_xasprintf("<%s>", tag), *close = pg_xasprintf("</%s>", tag);
	const char *a = strstr(from && *from ? *from : xml, open), *b;
	StrBuf sb;
	char *result = NULL;

	if (a)
	{
		a += strlen(open);
		b = strstr(a, close);
		if (b)
		{
			sb_init(&sb);
			while (a < b)
			{
				if (*a == '&')
				{
					static const struct
					{
						const char *ent;
						char c;
					} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
								{"&quot;", '"'}, {"&apos;", '\''}};
					size_t k;

					for (k = 0; k < 5; k++)
						if (strncmp(a, ents[k].ent, strlen(ents[k].ent)) == 0)
							break;
					if (k < 5)
					{
						sb_append_char(&sb, ents[k].c);
						a += strlen(ents[k].ent);
						continue;
					}
				}
				sb_append_char(&sb, *a++);
			}
			result = sb_steal(&sb);
			if (from)
				*from = b + strlen(close);
		}
	}
	free(open);
	free(close);
	return result;
}

static bool
retryable_curl(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
			return true;
		default:
			return false;
	}
}

/*
 * One request with retries.  body/len: the payload (PUT/POST), NULL for none.
 * resp->fn set: a streaming GET.  On success *resp holds status 2xx.
 */
static bool
s3_request(S3 *s3, const char *method, const char *key, const char *query, const void *body,
		   size_t len, Response *resp, bool missing_ok, PgpError *err)
{
	char *fk = key ? full_key(s3, key) : NULL;
	char *url = object_url(s3, fk, query);
	char hash[65];
	char *hash_hdr;
	int attempt;
	bool ok = false;
	int backoff = 200;

	sha256_hex(body ? body : "", body ? len : 0, hash);
	hash_hdr = pg_xasprintf("x-amz-content-sha256: %s", hash);
	for (attempt = 1; attempt <= s3->max_attempts; attempt++)
	{
		CURL *curl = curl_easy_init();
		struct curl_slist *hdrs = NULL;
		char errbuf[CURL_ERROR_SIZE] = "";
		char *range = NULL;
		char *token_hdr = NULL;
		CURLcode rc;
		bool retry = false;

		if (curl == NULL)
		{
			err_set(err, EXIT_RUNTIME, "could not initialise libcurl");
			break;
		}
		resp->curl = curl;
		resp->status = 0;
		sb_reset(&resp->body);
		sb_reset(&resp->etag);
		hdrs = curl_slist_append(hdrs, hash_hdr);
		hdrs = curl_slist_append(hdrs, "Expect:");
		if (body)
			hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
		if (s3->token)
		{
			token_hdr = pg_xasprintf("x-amz-security-token: %s", s3->token);
			hdrs = curl_slist_append(hdrs, token_hdr);
		}
		curl_easy_setopt(curl, CURLOPT_URL, url);
		/* no other protocol, whatever the URL or a redirect says */
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, s3->allow_http ? "https,http" : "https");
		curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		if (strcmp(method, "HEAD") == 0)
			curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		if (body)
		{
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
		}
		if (resp->fn && resp->delivered > 0)
		{
			range = pg_xasprintf("%lld-", resp->delivered);
			curl_easy_setopt(curl, CURLOPT_RANGE, range);
		}
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, s3->sigv4);
		curl_easy_setopt(curl, CURLOPT_USERPWD, s3->userpwd);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
		/* a stalled transfer (under 1 byte/s for 60 s) is a network error */
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
		rc = curl_easy_perform(curl);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
		curl_easy_cleanup(curl);
		curl_slist_free_all(hdrs);
		free(range);
		free(token_hdr);
		resp->curl = NULL;

		if (resp->fn_failed)
		{
			/* the consumer refused the data: its error stands, no retry */
			if (resp->fn_err != err && resp->fn_err && resp->fn_err->message)
				err_set(err, resp->fn_err->exit_code, "%s", resp->fn_err->message);
			break;
		}
		if (rc != CURLE_OK)
		{
			err_set(err, EXIT_RUNTIME, "S3 request %s %s failed: %s", method,
					fk ? fk : s3->bucket, errbuf[0] ? errbuf : curl_easy_strerror(rc));
			err_hint(err, "Check the endpoint (--s3-endpoint) and the network.");
			retry = retryable_curl(rc);
		}
		else if (resp->status >= 200 && resp->status < 300)
		{
			/* CompleteMultipartUpload may answer 200 with an error in the body */
			if (strcmp(method, "POST") == 0 && strstr(resp->body.data, "<Error>"))
			{
				char *code = xml_value(resp->body.data, "Code", NULL);

				err_set(err, EXIT_RUNTIME, "S3 request %s %s failed: %s", method, fk,
						code ? code : "error");
				retry = code && (strcmp(code, "InternalError") == 0 ||
								 strcmp(code, "SlowDown") == 0);
				free(code);
			}
			else
			{
				ok = true;
				break;
			}
		}
		else if (resp->status == 404 && missing_ok)
		{
			ok = true;
			break;
		}
		else
		{
			char *code = xml_value(resp->body.data, "Code", NULL);
			char *message = xml_value(resp->body.data, "Message", NULL);

			err_set(err, EXIT_RUNTIME, "S3 request %s %s failed: HTTP %ld%s%s", method,
					fk ? fk : s3->bucket, resp->status, code ? " " : "", code ? code : "");
			if (message)
				err_detail(err, "%s", message);
			if (resp->status == 403)
				err_hint(err, "Check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION.");
			else if (resp->status == 404)
				err_hint(err, "Check the bucket and the object name (\"pgpart archive list\" "
							  "shows what the location holds).");
			free(code);
			free(message);
			retry = resp->status >= 500 || resp->status == 429;
		}
		if (!retry || attempt == s3->max_attempts)
			break;
		log_info("%s; retrying in %d ms (attempt %d of %d)", err->message, backoff, attempt + 1,
				 s3->max_attempts);
		sleep_ms(backoff);
		backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
	}
	free(hash_hdr);
	free(url);
	free(fk);
	return ok;
}

static void
response_init(Response *r)
{
	memset(r, 0, sizeof(*r));
	sb_init(&r->body);
	sb_init(&r->etag);
}

static void
response_free(Response *r)
{
	sb_free(&r->body);
	sb_free(&r->etag);
}

static bool
s3_put_open(Storage *s, const char *key, StorageWriter **wp, PgpError *err)
{
	StorageWriter *w = pg_xcalloc(1, sizeof(*w));

	(void) err;
	w->s3 = s->impl;
	w->key = pg_xstrdup(key);
	w->buf = pg_xmalloc(w->s3->part_size);
	*wp = w;
	return true;
}

static bool
upload_part(StorageWriter *w, PgpError *err)
{
	Response r;
	char *query;
	bool ok;
	StrBuf id;

	response_init(&r);
	if (w->upload_id == NULL)
	{
		if (!s3_request(w->s3, "POST", w->key, "uploads=", "", 0, &r, false, err))
		{
			response_free(&r);
			return false;
		}
		w->upload_id = xml_value(r.body.data, "UploadId", NULL);
		if (w->upload_id == NULL)
		{
			err_set(err, EXIT_RUNTIME, "S3 did not return an UploadId for %s", w->key);
			response_free(&r);
			return false;
		}
	}
	sb_init(&id);
	url_encode(&id, w->upload_id, false);
	query = pg_xasprintf("partNumber=%d&uploadId=%s", w->etags.n + 1, id.data);
	sb_free(&id);
	ok = s3_request(w->s3, "PUT", w->key, query, w->buf, w->len, &r, false, err);
	if (ok)
	{
		if (r.etag.len == 0)
		{
			err_set(err, EXIT_RUNTIME, "S3 returned no ETag for part %d of %s", w->etags.n + 1,
					w->key);
			ok = false;
		}
		else
			namelist_add(&w->etags, r.etag.data);
	}
	free(query);
	response_free(&r);
	w->len = 0;
#ifdef PGPART_TEST_HOOKS
	{
		/*
		 * PGPART_TEST_S3_STALL=N:FILE - after part N, create FILE.ready and
		 * wait (at most 60 s) until the test removes it: the test stops the
		 * server meanwhile, so the next request meets a dead server.
		 */
		const char *env = getenv("PGPART_TEST_S3_STALL");
		const char *colon = env ? strchr(env, ':') : NULL;

		if (ok && colon && atoi(env) == w->etags.n)
		{
			char *ready = pg_xasprintf("%s.ready", colon + 1);
			FILE *f = fopen(ready, "w");
			int i;

			if (f)
				fclose(f);
			for (i = 0; i < 600 && f; i++)
			{
				if (access(ready, F_OK) != 0)
					break;
				sleep_ms(100);
			}
			free(ready);
		}
	}
#endif
	return ok;
}

static bool
s3_put_write(StorageWriter *w, const void *data, size_t n, PgpError *err)
{
	const unsigned char *p = data;

	while (n > 0)
	{
		size_t room = w->s3->part_size - w->len;
		size_t take = n < room ? n : room;

		memcpy(w->buf + w->len, p, take);
		w->len += take;
		p += take;
		n -= take;
		/* a full part is sent only when more follows, so the last part is never empty */
		if (w->len == w->s3->part_size && n > 0)
			if (!upload_part(w, err))
				return false;
	}
	return true;
}

static void
abort_upload(StorageWriter *w)
{
	Response r;
	StrBuf q;
	PgpError ignored;

	if (w->upload_id == NULL)
		return;
	err_init(&ignored);
	response_init(&r);
	sb_init(&q);
	sb_append(&q, "uploadId=");
	url_encode(&q, w->upload_id, false);
	s3_request(w->s3, "DELETE", w->key, q.data, NULL, 0, &r, true, &ignored);
	sb_free(&q);
	response_free(&r);
	err_clear(&ignored);
}

static void
writer_free(StorageWriter *w)
{
	FREE_ALL(w->key, w->buf, w->upload_id);
	namelist_free(&w->etags);
	free(w);
}

static bool
s3_put_finish(StorageWriter *w, bool commit, PgpError *err)
{
	bool ok = false;
	Response r;

	response_init(&r);
	if (!commit)
	{
		abort_upload(w);
		ok = true;
	}
	else if (w->upload_id == NULL)
		ok = s3_request(w->s3, "PUT", w->key, NULL, w->buf, w->len, &r, false, err);
	else if (upload_part(w, err))
	{
		StrBuf xml, q;
		int i;

		sb_init(&xml);
		sb_init(&q);
		sb_append(&xml, "<CompleteMultipartUpload>");
		for (i = 0; i < w->etags.n; i++)
		{
			const char *c;

			sb_appendf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
			for (c = w->etags.items[i]; *c; c++)
				if (*c == '"')
					sb_append(&xml, "&quot;");
				else
					sb_append_char(&xml, *c);
			sb_append(&xml, "</ETag></Part>");
		}
		sb_append(&xml, "</CompleteMultipartUpload>");
		sb_append(&q, "uploadId=");
		url_encode(&q, w->upload_id, false);
		ok = s3_request(w->s3, "POST", w->key, q.data, xml.data, xml.len, &r, false, err);
		sb_free(&xml);
		sb_free(&q);
		if (!ok)
			abort_upload(w);
	}
	else
		abort_upload(w);
	response_free(&r);
	writer_free(w);
	return ok;
}

static bool
s3_get(Storage *s, const char *key, StorageChunkFn fn, void *arg, PgpError *err)
{
	Response r;
	bool ok;

	response_init(&r);
	r.fn = fn;
	r.fn_arg = arg;
	r.fn_err = err;
	ok = s3_request(s->impl, "GET", key, NULL, NULL, 0, &r, false, err);
	response_free(&r);
	return ok;
}

static bool
s3_list(Storage *s, const char *prefix, NameList *keys, PgpError *err)
{
	S3 *s3 = s->impl;
	char *token = NULL;
	char *base = full_key(s3, prefix);
	size_t strip = s3->prefix[0] ? strlen(s3->prefix) + 1 : 0;
	bool ok = true;

	for (;;)
	{
		StrBuf q;
		Response r;
		const char *from = NULL;
		char *k, *trunc;

		sb_init(&q);
		if (token)
		{
			sb_append(&q, "continuation-token=");
			url_encode(&q, token, false);
			sb_append(&q, "&");
		}
		sb_append(&q, "list-type=2&prefix=");
		url_encode(&q, base, false);
		response_init(&r);
		ok = s3_request(s3, "GET", NULL, q.data, NULL, 0, &r, false, err);
		sb_free(&q);
		free(token);
		token = NULL;
		if (!ok)
		{
			response_free(&r);
			break;
		}
		while ((k = xml_value(r.body.data, "Key", &from)) != NULL)
		{
			if (strlen(k) > strip)
				namelist_add(keys, k + strip);
			free(k);
		}
		trunc = xml_value(r.body.data, "IsTruncated", NULL);
		if (trunc && strcmp(trunc, "true") == 0)
			token = xml_value(r.body.data, "NextContinuationToken", NULL);
		free(trunc);
		response_free(&r);
		if (token == NULL)
			break;
	}
	free(base);
	return ok;
}

static bool
s3_head(Storage *s, const char *key, bool *exists, long long *size, PgpError *err)
{
	Response r;
	bool ok;

	response_init(&r);
	*exists = false;
	*size = 0;
	ok = s3_request(s->impl, "HEAD", key, NULL, NULL, 0, &r, true, err);
	if (ok && r.status >= 200 && r.status < 300)
	{
		*exists = true;
		*size = -1; /* unknown without parsing Content-Length; callers use the manifest */
	}
	response_free(&r);
	return ok;
}

static bool
s3_del(Storage *s, const char *key, PgpError *err)
{
	Response r;
	bool ok;

	response_init(&r);
	ok = s3_request(s->impl, "DELETE", key, NULL, NULL, 0, &r, true, err);
	response_free(&r);
	return ok;
}

static void
s3_close(Storage *s)
{
	S3 *s3 = s->impl;

	free(s3->endpoint);
	free(s3->bucket);
	free(s3->prefix);
	free(s3->region);
	free(s3->userpwd);
	free(s3->sigv4);
	free(s3->token);
	free(s3);
	free(s);
}

static const StorageOps s3_ops = {s3_put_open, s3_put_write, s3_put_finish, s3_get,
								  s3_list,	   s3_head,		 s3_del,		s3_close};

static const char *
env_first(const char *a, const char *b)
{
	const char *v = getenv(a);

	if ((v == NULL || *v == '\0') && b)
		v = getenv(b);
	return v && *v ? v : NULL;
}

bool
storage_s3_open(const ArchUrl *u, const StorageOptions *opt, Storage **sp, PgpError *err)
{
	static bool curl_ready = false;
	const char *endpoint = opt && opt->s3_endpoint ? opt->s3_endpoint
												   : env_first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
	const char *endpoint_from = opt && opt->s3_endpoint		 ? "--s3-endpoint"
								: env_first("AWS_ENDPOINT_URL_S3", NULL) ? "AWS_ENDPOINT_URL_S3"
																		 : "AWS_ENDPOINT_URL";
	bool allow_http = opt && opt->allow_insecure_endpoint;
	const char *key_id = env_first("AWS_ACCESS_KEY_ID", NULL);
	const char *secret = env_first("AWS_SECRET_ACCESS_KEY", NULL);
	const char *region = env_first("AWS_REGION", "AWS_DEFAULT_REGION");
	const char *ps = getenv("PGPART_S3_PART_SIZE");
	Storage *s;
	S3 *s3;

	if (key_id == NULL || secret == NULL)
	{
		err_set(err, EXIT_USAGE, "no S3 credentials");
		err_hint(err, "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN "
					  "for temporary credentials).");
		return false;
	}
	if (endpoint)
	{
		char *why = NULL;
		S3EndpointCheck c = s3_endpoint_check(endpoint, allow_http, &why);

		if (c == S3_ENDPOINT_INSECURE)
		{
			err_set(err, EXIT_USAGE, "refusing the plain-http S3 endpoint %s (from %s)", endpoint,
					endpoint_from);
			err_detail(err, "%s.", why);
			err_hint(err, "Use an https:// endpoint; for a store on a network you trust (a local "
						  "test server), give --allow-insecure-endpoint (\"pgpart policy "
						  "--allow-insecure-endpoint\" for maintain and run).");
		}
		else if (c == S3_ENDPOINT_INVALID)
		{
			/* not echoed: a malformed endpoint may hold a password */
			err_set(err, EXIT_USAGE, "invalid S3 endpoint (from %s)", endpoint_from);
			err_detail(err, "%s.", why);
			err_hint(err, "Give it as https://HOST[:PORT].");
		}
		free(why);
		if (c != S3_ENDPOINT_OK)
			return false;
	}
	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		{
			err_set(err, EXIT_RUNTIME, "could not initialise libcurl");
			return false;
		}
		curl_ready = true;
	}
	s3 = pg_xcalloc(1, sizeof(*s3));
	if (endpoint)
	{
		size_t n;

		s3->endpoint = pg_xstrdup(endpoint);
		n = strlen(s3->endpoint);
		while (n > 0 && s3->endpoint[n - 1] == '/')
			s3->endpoint[--n] = '\0';
	}
	s3->bucket = pg_xstrdup(u->bucket);
	s3->prefix = pg_xstrdup(u->path);
	s3->region = pg_xstrdup(region ? region : "us-east-1");
	s3->userpwd = pg_xasprintf("%s:%s", key_id, secret);
	s3->sigv4 = pg_xasprintf("aws:amz:%s:s3", s3->region);
	s3->token = env_first("AWS_SESSION_TOKEN", NULL) ? pg_xstrdup(getenv("AWS_SESSION_TOKEN"))
													 : NULL;
	s3->part_size = opt && opt->part_size ? opt->part_size
										  : (ps && atoll(ps) > 0 ? (size_t) atoll(ps)
																 : S3_DEFAULT_PART_SIZE);
	s3->max_attempts = opt && opt->max_attempts ? opt->max_attempts : 5;
	s3->allow_http = allow_http && endpoint != NULL;
	s = pg_xcalloc(1, sizeof(*s));
	s->ops = &s3_ops;
	s->impl = s3;
	*sp = s;
	(void) S3_MIN_PART_SIZE;
	return true;
}
