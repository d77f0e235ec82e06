/*
 * naming.h - names pgpart derives from a user's table name.
 *
 * PostgreSQL silently truncates identifiers to NAMEDATALEN-1 (63) bytes, so
 * "a_very_long_name_2025_q1" and "a_very_long_name_2025_q2" could collapse to
 * the same name.  Every derived name goes through here: when base + suffix does
 * not fit, the base is cut (on a UTF-8 character boundary) and a short hash of
 * the full base is inserted, so two different long bases never collide and the
 * suffix, which carries the meaning, is always kept whole.
 */
#ifndef PGPART_CORE_NAMING_H
#define PGPART_CORE_NAMING_H

#include <stddef.h>

#define PG_IDENT_MAX 63 /* NAMEDATALEN - 1 */

/*
 * base + "_" + suffix, at most PG_IDENT_MAX bytes.  Returns a malloc'd string
 * (caller frees) or NULL if the suffix alone is too long to fit.
 */
char *naming_derive(const char *base, const char *suffix);

#endif
