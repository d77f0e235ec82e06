/*
 * changekind.h - which statements the change log records (pg/changelog.c),
 * decided from the server's command tag and the statement's text alone.
 */
#ifndef PGPART_CORE_CHANGEKIND_H
#define PGPART_CORE_CHANGEKIND_H

typedef enum ChangeKind
{
	CHANGE_NONE, /* transaction control, settings, advisory locks, pgpart's bookkeeping */
	CHANGE_DDL,	 /* CREATE, ALTER, DROP, ... : every one is recorded */
	CHANGE_LOCK, /* LOCK TABLE: its duration is the lock wait writers may have felt */
	CHANGE_ROWS	 /* INSERT, UPDATE, DELETE, COPY, MERGE of a user's table */
} ChangeKind;

/* tag: PQcmdStatus ("INSERT 0 5000", "ALTER TABLE"); sql: the statement run */
ChangeKind change_kind(const char *tag, const char *sql);
/* "ddl", "lock", "rows" (the change_log.kind values), NULL for CHANGE_NONE */
const char *change_kind_name(ChangeKind k);

#endif
