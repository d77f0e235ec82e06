/*
 * archurl.h - archive locations and ages as users type them.  Pure: no I/O.
 *
 *   file:///var/archive/pgpart        a directory on this machine
 *   s3://bucket/some/prefix           an S3 (or S3-compatible) bucket and prefix
 *
 * and ages for the tier policy: "1 quarter", "7 years", "90 days".
 */
#ifndef PGPART_CORE_ARCHURL_H
#define PGPART_CORE_ARCHURL_H

#include <stdbool.h>

#include "core/calendar.h"

typedef enum ArchScheme
{
	ARCH_FILE,
	ARCH_S3
} ArchScheme;

typedef struct ArchUrl
{
	ArchScheme scheme;
	char *bucket; /* s3 only */
	char *path;	  /* file: absolute directory, no trailing '/'; s3: prefix, no leading or
					 trailing '/', may be "" */
} ArchUrl;

/* false with *why (malloc'd) when text is not a location pgpart can use */
bool archurl_parse(const char *text, ArchUrl *u, char **why);
void archurl_free(ArchUrl *u);
/* splits "LOCATION/NAME" into the location and the last component (both malloc'd) */
bool archurl_split_last(const char *text, char **location, char **name, char **why);
/* the URL again, normalised (malloc'd) */
char *archurl_format(const ArchUrl *u);
/*
 * true when a '/'-separated path has a "." or ".." segment (or, with
 * empty_is_bad, an empty one): such a path could step out of the archive's
 * folder, and locations and keys (which also come from manifests) must not
 */
bool archurl_path_has_dot_segment(const char *path, bool empty_is_bad);

/*
 * An S3 endpoint as --s3-endpoint or AWS_ENDPOINT_URL[_S3] gives it:
 * https://HOST[:PORT][/PATH], or http:// only with allow_insecure (SigV4
 * keeps the secret key off the wire, but the session token, the signed
 * requests and the archived rows would travel in clear).  No user or
 * password in it (credentials come from AWS_*; a URL is printed in
 * messages), no query or fragment.
 */
typedef enum S3EndpointCheck
{
	S3_ENDPOINT_OK,
	S3_ENDPOINT_INVALID,
	S3_ENDPOINT_INSECURE /* well-formed http://, not allowed */
} S3EndpointCheck;

S3EndpointCheck s3_endpoint_check(const char *endpoint, bool allow_insecure, char **why);

/*
 * A database name as one safe object-key component: letters, digits, '_',
 * '-' kept; everything else (quotes, spaces, '/', '.', '~', non-ASCII) as ~XX
 * ('~' is unreserved in URLs, so a key needs no further escaping anywhere).
 */
char *archkey_escape(const char *name);

typedef struct Age
{
	int n;
	CalUnit unit;
} Age;

/* "1 quarter", "2 years", "90 days", "1year", "3 months" */
bool age_parse(const char *text, Age *age);
/* "2 years" (malloc'd) */
char *age_format(Age age);
/* date minus the age; a day past the end of a shorter month clamps to its last day */
CivilDate age_subtract(CivilDate date, Age age);

#endif
