/* duration.h - parsing of the durations users type: "500ms", "2s", "10min", "1h". */
#ifndef PGPART_CORE_DURATION_H
#define PGPART_CORE_DURATION_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Accepts a non-negative number with an optional unit: ms, s, m/min, h, d
 * (a bare number is milliseconds, as PostgreSQL's lock_timeout takes it).
 * Rejects junk, negative values and anything above 30 days.
 */
bool duration_parse_ms(const char *text, int64_t *ms);

#endif
