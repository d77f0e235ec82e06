/*
 * collist.h - the column list of "pgpart index add", e.g.
 * "(org_id, property_id, occurred_at)" or 'org_id, "Mixed Case"'.
 *
 * Only plain column names are accepted, with SQL's rules: an unquoted name is
 * folded to lower case, a "quoted" one is taken as written ("" is a quote).
 * Each name is later quoted with PQescapeIdentifier, so nothing the user
 * types is ever pasted into SQL as is.
 */
#ifndef PGPART_CORE_COLLIST_H
#define PGPART_CORE_COLLIST_H

#include <stdbool.h>

#include "util/namelist.h"

/*
 * The names, in order, into out (freed with namelist_free); false with a
 * malloc'd *why (caller frees) when the text is not a column list
 */
bool collist_parse(const char *text, NameList *out, char **why);

/*
 * One name at *pp (advanced past it), folded or unquoted as above; NULL
 * with a malloc'd *why when there is none.
 */
char *collist_parse_name(const char **pp, char **why);

#endif
