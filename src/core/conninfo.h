/*
 * conninfo.h - what pgpart needs to know of a libpq connection string or URI
 * without libpq: where its password is, so that the copy in the process's
 * argv (which "ps" shows every local user) can be masked.  Pure, unit-tested.
 */
#ifndef PGPART_CORE_CONNINFO_H
#define PGPART_CORE_CONNINFO_H

#include <stddef.h>

/*
 * Overwrites with '*', in place, the password of s: "password=..." of the
 * key=value form (quoted or not), and of a postgresql:// URI the password in
 * its user information and a "password" query parameter.  The string keeps
 * its length.  Returns the number of characters masked (0: no password).
 */
size_t conninfo_mask_password(char *s);

#endif
