# Partition bounds of timestamptz tables are civil dates in --time-zone:
# a day partition spanning a DST change is 23 or 25 hours long, and rows
# land in the partition of their local date.  timestamp and date keys work too.
use strict;
use warnings;
use PgpartTest;
use Test::More;

my $node = new_cluster('tz');
pgpart_ok($node, 'init', 'init');
psql_ok($node, q{
	CREATE TABLE berlin_daily (id bigint, at timestamptz NOT NULL);
	CREATE TABLE berlin_monthly (id bigint, at timestamptz NOT NULL);
	CREATE TABLE local_ts (id bigint, at timestamp NOT NULL);
	CREATE TABLE by_date (id bigint, d date NOT NULL);
	CREATE TABLE weekly (id bigint, d date NOT NULL);
});

# Europe/Berlin switched back to winter time on 2026-10-25 (a 25 hour day)
pgpart_ok($node, 'daily in Europe/Berlin', 'create', 'berlin_daily', '--column', 'at',
	'--interval', 'day', '--start', '2026-10-20', '--premake', '3',
	'--time-zone', 'Europe/Berlin');
pgpart_ok($node, 'monthly in Europe/Berlin', 'create', 'berlin_monthly', '--column', 'at',
	'--interval', 'month', '--start', '2025-01-01', '--time-zone', 'Europe/Berlin');

sub span
{
	my ($part) = @_;
	# the length of a partition's range, from the bounds the server stored
	return psql_ok($node, qq{
		SELECT split_part(b, '''', 4)::timestamptz - split_part(b, '''', 2)::timestamptz
		FROM (SELECT pg_get_expr(relpartbound, oid) AS b FROM pg_class WHERE relname = '$part') s});
}

is(span('berlin_daily_20261024'), '1 day', 'an ordinary day is 24 hours');
is(span('berlin_daily_20261025'), '1 day 01:00:00', 'the fall-back day is 25 hours');
is(span('berlin_monthly_2025_03'), '30 days 23:00:00',
	'March 2025 in Berlin is one hour short of 31 days');
is(span('berlin_monthly_2025_10'), '31 days 01:00:00', 'October 2025 is one hour longer');

is(psql_ok($node, q{SELECT count(*) FROM pg_inherits
	WHERE inhparent = 'berlin_daily'::regclass}), 
	# 2026-10-20 .. today in Berlin (not the server's time zone: they differ
	# for an hour or two around midnight) + 3 days, plus the default partition
	psql_ok($node, q{SELECT ((now() AT TIME ZONE 'Europe/Berlin')::date + 3
		- date '2026-10-20') + 1 + 1}),
	'daily partitions from --start to today + premake, and a default');

# 23:30 local time on 2026-10-25 belongs to the 25th in Berlin, though it is
# already the 26th nowhere else... and 2026-10-25 22:30 UTC is 23:30 CET
psql_ok($node, q{
	INSERT INTO berlin_daily VALUES
		(1, '2026-10-25 23:30:00 Europe/Berlin'),
		(2, '2026-10-25 00:00:00 Europe/Berlin'),
		(3, '2026-10-24 23:59:59.999999 Europe/Berlin')});
is(psql_ok($node, q{SELECT string_agg(id || ':' || tableoid::regclass::text, ',' ORDER BY id)
	FROM berlin_daily}),
	'1:berlin_daily_20261025,2:berlin_daily_20261025,3:berlin_daily_20261024',
	'rows land in the partition of their local date');

# timestamp without time zone: bounds are the plain local dates
pgpart_ok($node, 'timestamp key', 'create', 'local_ts', '--column', 'at',
	'--interval', 'quarter', '--start', '2026-01-01');
like(psql_ok($node, q{SELECT pg_get_expr(relpartbound, oid) FROM pg_class
	WHERE relname = 'local_ts_2026_q2'}),
	qr/FROM \('2026-04-01 00:00:00'\) TO \('2026-07-01 00:00:00'\)/,
	'timestamp bounds are local midnights');

# date keys
pgpart_ok($node, 'date key', 'create', 'by_date', '--column', 'd',
	'--interval', 'year', '--start', '2024-01-01', '--premake', '1');
like(psql_ok($node, q{SELECT pg_get_expr(relpartbound, oid) FROM pg_class
	WHERE relname = 'by_date_2025'}),
	qr/FROM \('2025-01-01'\) TO \('2026-01-01'\)/, 'date bounds');
pgpart_ok($node, 'weekly date key', 'create', 'weekly', '--column', 'd',
	'--interval', 'week', '--start', '2026-11-01', '--premake', '1');
like(psql_ok($node, q{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i
	JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'weekly'::regclass}),
	qr/^weekly_2026_w44,weekly_2026_w45,/, 'ISO week names, first week starts on the Monday before --start');
is(psql_ok($node, q{SELECT pg_get_expr(relpartbound, oid) FROM pg_class
	WHERE relname = 'weekly_2026_w44'}),
	q{FOR VALUES FROM ('2026-10-26') TO ('2026-11-02')}, 'week 44 of 2026 runs Monday to Monday');

# status shows bounds in the table's own time zone
like(pgpart_ok($node, 'status', 'status', 'berlin_daily'),
	qr/berlin_daily_20261025\s+2026-10-25\s+2026-10-26/, 'status shows local dates');

done_testing();
