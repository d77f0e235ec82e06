/* stats.h - sizes, row estimates and index health of a table's partitions. */
#ifndef PGPART_PG_STATS_H
#define PGPART_PG_STATS_H

#include "pg/catalog.h"

typedef struct PartitionStats
{
	char *name;
	bool is_default;
	char *from; /* bound shown in the table's time zone; NULL for DEFAULT/unbounded */
	char *to;
	int64_t lo_us;
	bool has_lo;
	long long est_rows; /* -1: never analysed */
	long long heap_bytes;
	long long index_bytes;
	char *heap_pretty;
	char *index_pretty;
	char *tablespace;
	char *invalid_indexes; /* NULL when none */
	char *missing_indexes; /* parent indexes with no counterpart here; NULL when none */
	bool is_foreign;	   /* a foreign table: an archive read in place (file_fdw) */
} PartitionStats;

typedef struct PartitionStatsList
{
	PartitionStats *items;
	int n;
} PartitionStatsList;

void partitionstatslist_free(PartitionStatsList *l);
bool stats_partitions(PgConn *pc, RelOid parent, KeyType key_type, const char *time_zone,
					  PartitionStatsList *list, PgpError *err);

/* exact count of rows in a table, but stops counting at cap */
bool stats_count_rows_capped(PgConn *pc, const char *schema, const char *name, long cap,
							 long *count, PgpError *err);

#endif
