/*
 * log.h - messages for people, on stderr, in the form PostgreSQL's client
 * programs use ("pgpart: error: ...", then "pgpart: detail: ..." and
 * "pgpart: hint: ...").  stdout is kept for a command's own output (tables,
 * JSON, SQL of --dry-run), so scripts can parse it.
 */
#ifndef PGPART_UTIL_LOG_H
#define PGPART_UTIL_LOG_H

#include "util/error.h"

/* 0 = warnings and errors, 1 = -v (progress and actions), 2 = -vv (SQL) */
extern int log_verbosity;

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* prints an error with its detail and hint lines */
void log_report(const PgpError *e);

#endif
