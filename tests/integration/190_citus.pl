# pgpart on a Citus coordinator with two workers (three private clusters on
# loopback): a seed-like table partitioned by occurred_at and distributed by
# org_id, used as a user would: create then create_distributed_table, create
# taking over a table distributed first, maintain (premake, default drain),
# status, metrics, index add, vacuum/analyze -j 2, report, archive and
# restore of a distributed partition (rows and shards the same after the
# round trip), retention; rollups (marks made on the shards, summaries beside
# them or on the coordinator): every report from a rollup equals the same
# report from the detail rows after writes through the coordinator (also
# late ones into closed partitions, a TRUNCATE), refresh, maintain, archive
# and restore; migrate and move of a distributed table are refused before
# anything changes.  Skipped only when Citus is not installed (its build
# failed: the message shows how it ended).
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Path qw(make_path);
use JSON::PP;

if (my $why = PgpartTest::citus_missing()) { plan skip_all => $why; }

my ($coord, $w1, $w2) = new_citus_cluster('citus');
is(psql_ok($coord, 'SELECT count(*) FROM pg_catalog.citus_get_active_worker_nodes()'), '2',
	'coordinator sees two workers');

# the seed plan's revenues, with the distribution column in its keys (Citus
# requires it in every unique constraint)
my $ddl = q{
	id          bigint NOT NULL,
	org_id      bigint NOT NULL,
	property_id bigint NOT NULL,
	occurred_at timestamptz NOT NULL,
	amount      numeric(14, 2) NOT NULL,
	status      text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'approved', 'rejected', 'void')),
	category    text NOT NULL DEFAULT 'other',
	description text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (org_id, id, occurred_at)};
psql_ok($coord, "CREATE TABLE revenues ($ddl)");

pgpart_ok($coord, 'init', 'init');
like(pgpart_ok($coord, 'create revenues', 'create', 'revenues', '--column', 'occurred_at', '--interval',
		'quarter', '--start', '2025-01-01', '--premake', '1'),
	qr/converted public\.revenues/, 'create converts the empty plain table');
# four shards each keep the test quick; partitions get their parent's
psql_ok($coord, q{SELECT create_distributed_table('revenues', 'org_id', shard_count => 4)});

sub shards_of
{
	my ($rel) = @_;
	return psql_ok($coord, "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = '$rel'::regclass");
}
# shard tables of a relation, as the workers have them
sub worker_tables
{
	my ($like) = @_;
	my $n = 0;
	# Citus hides shards from pg_class unless asked
	$n += $_->safe_psql('postgres', "SET citus.override_table_visibility TO off;
		SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p') AND relname ~ '^${like}_[0-9]+\$'")
	  for ($w1, $w2);
	return $n;
}
is(shards_of('revenues_2025_q1'), '4', 'a partition is distributed with its parent');
is(worker_tables('revenues_2025_q1'), 4, 'its shards are on the workers');

# ---- create on a table distributed first: partitioned and distributed by
# the user, then taken over
psql_ok($coord, "CREATE TABLE expenses ($ddl) PARTITION BY RANGE (occurred_at);
	SELECT create_distributed_table('expenses', 'org_id', shard_count => 4)");
like(pgpart_ok($coord, 'create on a distributed partitioned table', 'create', 'expenses', '--column',
		'occurred_at', '--interval', 'quarter', '--start', '2026-01-01', '--premake', '1'),
	qr/expenses/, 'create takes over the distributed table');
is(shards_of('expenses_2026_q1'), '4', 'the partitions it made are distributed');
is(shards_of('expenses_default'), '4', 'so is its default partition');

# a plain table distributed first: replacing it would lose the distribution
psql_ok($coord, "CREATE TABLE fees ($ddl); SELECT create_distributed_table('fees', 'org_id', shard_count => 4)");
pgpart_fails($coord, 'create on a distributed plain table', 2,
	qr/public\.fees is a distributed table: pgpart create would replace it/, 'create', 'fees',
	'--column', 'occurred_at');
is(psql_ok($coord, q{SELECT relkind FROM pg_class WHERE relname = 'fees'}) . shards_of('fees'), 'r4',
	'the refused table is unchanged');

# ---- rows: 2025-01 .. 2026-12 for 20 orgs, and a few years ahead (default)
psql_ok($coord, q{
	INSERT INTO revenues (id, org_id, property_id, occurred_at, amount, status, category, description)
	SELECT g, g % 20, g % 7, timestamptz '2025-01-01' + (g * interval '97 minutes'), g / 100.0,
	       (ARRAY['pending', 'approved', 'rejected', 'void'])[1 + g % 4], 'rent',
	       CASE WHEN g % 10 = 0 THEN md5(g::text) END
	FROM generate_series(1, 10000) g;
	INSERT INTO revenues (id, org_id, property_id, occurred_at, amount, category)
	SELECT 100000 + g, g, 1, timestamptz '2029-02-03' + g * interval '11 days', 1, 'fees'
	FROM generate_series(1, 30) g});
my $in_default = psql_ok($coord, 'SELECT count(*) FROM revenues_default');
is($in_default, '30', 'rows in the default partition');

# ---- rollups: the marking triggers fire on the shards on the workers
# and mark in a distributed table beside them; a summary grouped by org_id
# is distributed colocated with the table, one that is not stays on the
# coordinator
like(pgpart_ok($coord, 'rollup add (by org)', 'rollup', 'add', 'revenues', '--name', 'revenues_daily',
		'--grain', 'day', '--group-by', 'org_id, status, category', '--measures', 'sum(amount), count(*)'),
	qr/revenues_daily: 9 partitions summarised/, 'the rollup summarises every partition');
pgpart_ok($coord, 'rollup add (not by org)', 'rollup', 'add', 'revenues', '--name', 'revenues_monthly',
	'--grain', 'month', '--group-by', 'status, category', '--measures', 'sum(amount), count(*)');
is(psql_ok($coord, q{SELECT string_agg(logicalrelid::text, ' ' ORDER BY logicalrelid::text)
	FROM pg_dist_partition WHERE colocationid = (SELECT colocationid FROM pg_dist_partition
	WHERE logicalrelid = 'revenues'::regclass) AND logicalrelid::text ~ '(daily|monthly|dirty)$'}),
	'pgpart.rollup_1_dirty pgpart.rollup_2_dirty revenues_daily',
	'the marks tables and the summary grouped by org are colocated with the table; the other is not distributed');
is(psql_ok($coord, q{SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text ~ 'monthly'}), '0',
	'the summary not grouped by org stays on the coordinator');
# triggers of the shards of one partition, on both workers
sub worker_triggers
{
	my ($part) = @_;
	my $n = 0;
	$n += $_->safe_psql('postgres', "SET citus.override_table_visibility TO off;
		SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE t.tgname LIKE 'pgpart_rollup_%' AND c.relname ~ '^${part}_[0-9]+\$'")
	  for ($w1, $w2);
	return $n;
}
# insert, update and delete of two rollups on 4 shards; TRUNCATE stays on the coordinator
is(worker_triggers('revenues_2025_q1'), 24, 'the marking triggers are on every shard of a partition');

sub report_json
{
	my ($source, @args) = @_;
	my ($rc, $out, $err) = pgpart($coord, 'report', @args, '--source', $source, '--json');
	die "report @args failed: $err" if $rc;
	return decode_json($out);
}
my @reports = ([ 'monthly', 'revenues', '--org', '3', '--month', '2025-03' ],
	[ 'daily', 'revenues', '--org', '7', '--date', '2025-02-10' ],
	[ 'yearly', 'revenues', '--org', '4', '--year', '2026' ],
	[ 'cross-org', 'revenues', '--from', '2025-01-01', '--to', '2026-01-01' ],
	[ 'cross-org', 'revenues', '--from', '2025-01-01', '--to', '2027-01-01', '--no-orgs' ]);
# every report (and these extra ones) from the rollup (auto) equals the same
# report from the detail rows
sub reports_equal
{
	my ($when, @extra) = @_;
	for my $r (@reports, @extra)
	{
		my $auto = report_json('auto', @$r);
		like($auto->{source}, qr/^rollup /, "$when: @$r from a rollup");
		is_deeply($auto->{rows}, report_json('detail', @$r)->{rows}, "$when: @$r equals the detail report");
	}
}
reports_equal('after rollup add');

# writes through the coordinator, also late ones into closed partitions and
# into a partition named directly, and rows moved to another partition
psql_ok($coord, q{
	INSERT INTO revenues (id, org_id, property_id, occurred_at, amount, status, category)
	SELECT 50000 + g, g % 20, 1, timestamptz '2025-02-10' + g * interval '5 hours', 3.25, 'approved', 'rent'
	FROM generate_series(1, 60) g;
	UPDATE revenues SET amount = amount + 1.5 WHERE org_id IN (3, 5) AND occurred_at < '2025-04-01';
	UPDATE revenues SET occurred_at = timestamptz '2026-02-03 10:00+00'
	WHERE org_id = 4 AND occurred_at >= '2025-12-01' AND occurred_at < '2025-12-15';
	DELETE FROM revenues WHERE org_id = 7 AND occurred_at >= '2025-02-09' AND occurred_at < '2025-02-11'
	  AND status = 'void';
	INSERT INTO revenues_2025_q1 (id, org_id, property_id, occurred_at, amount, status, category)
	VALUES (60001, 7, 1, '2025-02-10 12:00+00', 99.99, 'approved', 'rent')});
cmp_ok(psql_ok($coord, 'SELECT count(*) FROM pgpart.rollup_1_dirty'), '>', 0,
	'the writes on the shards marked their buckets');
reports_equal('after writes, before a refresh');
like(pgpart_ok($coord, 'rollup refresh', 'rollup', 'refresh', 'revenues'),
	qr/revenues_daily: 0 partitions summarised \(0 rows\), [1-9]\d* changed buckets recomputed/,
	'refresh recomputes the changed buckets');
is(psql_ok($coord, 'SELECT count(*) FROM pgpart.rollup_1_dirty'), '0', 'and consumes their marks');
like(pgpart_ok($coord, 'rollup status', 'rollup', 'status', '--name', 'revenues_daily'),
	qr/changed since refresh\s+0 buckets/, 'status: nothing changed since');
# a late correction of a closed partition, long after it was summarised:
# its bucket from the detail rows, every other from the refreshed summary
psql_ok($coord, q{UPDATE revenues SET amount = amount - 0.5 WHERE org_id = 5 AND occurred_at >= '2025-01-03'
	AND occurred_at < '2025-01-04'});
reports_equal('after a late write into a closed partition');
psql_ok($coord, 'TRUNCATE revenues_2026_q4');
like(pgpart_ok($coord, 'rollup status after TRUNCATE', 'rollup', 'status', '--name', 'revenues_daily'),
	qr/and a TRUNCATE/, 'a TRUNCATE is marked (on the coordinator)');
is(report_json('auto', @{ $reports[3] })->{source}, 'detail',
	'until the next refresh, reports read the detail rows');
pgpart_ok($coord, 'refresh after the TRUNCATE', 'rollup', 'refresh', 'revenues');
reports_equal('after the refresh that followed the TRUNCATE');
my $sum_sql = q{SELECT count(*) || ' ' || sum(amount) || ' ' || sum(hashtext(r::text)::numeric)
	FROM revenues r};
my $all_before = psql_ok($coord, $sum_sql);

# ---- maintain: premake and default drain, partitions made on the coordinator
like(pgpart_ok($coord, 'maintain', 'maintain'), qr/public\.revenues: \d+ partitions? created, 30 rows moved/,
	'maintain drains the default partition');
is(psql_ok($coord, 'SELECT count(*) FROM revenues_default'), '0', 'default partition empty');
is(psql_ok($coord, $sum_sql), $all_before, 'same rows after the drain');
is(shards_of('revenues_2029_q1'), '4', 'a partition maintain made is distributed');
is(worker_tables('revenues_2029_q1'), 4, 'and has its shards on the workers');
is(psql_ok($coord, q{SELECT pg_relation_size('revenues_2029_q1')}), '0',
	'the rows moved out of the default went to the shards: no hidden copy on the coordinator');
like(pgpart_ok($coord, 'maintain again', 'maintain'), qr/revenues: nothing to do/, 'maintain is idempotent');
reports_equal('after maintain',
	[ 'cross-org', 'revenues', '--from', '2029-01-01', '--to', '2030-01-01', '--no-orgs' ]);

# ---- status and metrics
my $status = pgpart_ok($coord, 'status', 'status', 'revenues');
like($status, qr/revenues_2025_q2\s+2025-04-01\s+2025-07-01/, 'status lists partitions');
# a partition's size is its shards' (four of at least a page each), not the empty coordinator table's
my ($q3_heap) = $status =~ /revenues_2025_q3\s+\S+\s+\S+\s+\S+\s+(\d+ (?:bytes|kB|MB))/;
$q3_heap //= 'none';
like($q3_heap, qr/^(?:(?:[3-9]\d|\d{3,}) kB|\d+ MB)$/, "status shows the shards' size ($q3_heap)");
like(pgpart_ok($coord, 'status --json', '--json', 'status'), qr/"name": "revenues_2029_q1"/, 'status --json');
my $metrics = pgpart_ok($coord, 'metrics', 'metrics');
like($metrics, qr/^pgpart_partitions\{[^}]*table="public\.revenues"[^}]*\} \d+/m, 'metrics per table');

# ---- index add: on the parent, every partition and every shard
pgpart_ok($coord, 'index add', 'index', 'add', 'revenues', '--name', 'revenues_org_cat_idx',
	'(org_id, category)');
is(psql_ok($coord, q{SELECT count(*) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
	WHERE h.inhparent = 'revenues_org_cat_idx'::regclass}),
	psql_ok($coord, q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'revenues'::regclass}),
	'an index on every partition');
my $shard_indexes = 0;
$shard_indexes += $_->safe_psql('postgres',
	q{SET citus.override_table_visibility TO off; SELECT count(*) FROM pg_index i
	  JOIN pg_class t ON t.oid = i.indrelid
	  WHERE t.relname ~ '^revenues_2025_q1_[0-9]+$' AND i.indisvalid
	    AND pg_get_indexdef(i.indexrelid) ~ '\(org_id, category\)'})
  for ($w1, $w2);
is($shard_indexes, 4, 'and on every shard of a partition, valid');

# ---- vacuum and analyze over two connections
like(pgpart_ok($coord, 'vacuum -j 2', 'vacuum', 'revenues', '-j', '2'), qr/revenues_2025_q1/,
	'vacuum names the partitions');
pgpart_ok($coord, 'analyze -j 2', 'analyze', 'revenues', '-j', '2');
pgpart_ok($coord, 'reindex -j 2', 'reindex', 'revenues', '-j', '2', '--partitions', '2026-01-01..2026-07-01');

# ---- report, from the detail rows (Citus runs them on the shards)
my $want = psql_ok($coord, q{SELECT sum(amount) FROM revenues WHERE org_id = 3
	AND occurred_at >= '2025-03-01' AND occurred_at < '2025-04-01'});
my $rep = pgpart_ok($coord, 'report monthly', '--json', 'report', 'monthly', 'revenues', '--org', '3',
	'--month', '2025-03');
my $got = 0;
$got += $1 while $rep =~ /"(?:sum_)?amount": "?([0-9.]+)/g;
cmp_ok(abs($got - $want), '<', 0.005, "report's sum is the table's ($want)");

# ---- archive and restore of a distributed partition
my $arch = PostgreSQL::Test::Utils::tempdir() . '/arch';
make_path($arch);
my $q_sum = q{SELECT count(*) || ' ' || sum(amount) || ' ' || sum(hashtext(r::text)::numeric)
	FROM revenues r WHERE occurred_at >= '2025-04-01' AND occurred_at < '2025-07-01'};
my $q_before = psql_ok($coord, $q_sum);
# what the reports of the archived range say before: the summary keeps it
my @q2_reports = ([ 'yearly', 'revenues', '--org', '6', '--year', '2025' ],
	[ 'cross-org', 'revenues', '--from', '2025-04-01', '--to', '2025-07-01' ]);
my @q2_before = map { report_json('detail', @$_)->{rows} } @q2_reports;
my $out = pgpart_ok($coord, 'archive a distributed partition', 'archive', 'revenues', 'revenues_2025_q2',
	'--to', "file://$arch", '--no-foreign-table');
my ($manifest) = $out =~ m{(file://\S+\.manifest\.json)};
ok($manifest, 'manifest written');
is(psql_ok($coord, q{SELECT count(*) FROM pg_class WHERE relname = 'revenues_2025_q2'}), '0',
	'the partition is gone from the coordinator');
is(worker_tables('revenues_2025_q2'), 0, 'and its shards from the workers');
is(psql_ok($coord, q{SELECT count(*) FROM revenues WHERE occurred_at >= '2025-04-01'
	AND occurred_at < '2025-07-01'}), '0', 'no rows of its range left');
for my $i (0 .. $#q2_reports)
{
	my $r = report_json('auto', @{ $q2_reports[$i] });
	like($r->{source}, qr/^rollup /, "archived: @{ $q2_reports[$i] } from a rollup");
	is_deeply($r->{rows}, $q2_before[$i], "archived: @{ $q2_reports[$i] } as before, from the summary");
}
pgpart_ok($coord, 'restore', 'restore', 'revenues', '--from', $manifest);
is(psql_ok($coord, $q_sum), $q_before, 'the same rows after the round trip (count and sums)');
is(shards_of('revenues_2025_q2'), '4', 'the restored partition is distributed');
is(worker_tables('revenues_2025_q2'), 4, 'with its shards on the workers');
is(psql_ok($coord, q{SELECT count(DISTINCT colocationid) FROM pg_dist_partition
	WHERE logicalrelid IN ('revenues'::regclass, 'revenues_2025_q2'::regclass)}), '1',
	'colocated with its parent');
is(psql_ok($coord, $sum_sql), $all_before, 'the whole table is as before');
is(psql_ok($coord, q{SELECT pg_relation_size('revenues_2025_q2')}), '0',
	'no copy of its rows left on the coordinator');
is_deeply([ map { report_json('detail', @$_)->{rows} } @q2_reports ], \@q2_before,
	'restored: the detail reports as before the archive');
pgpart_ok($coord, 'refresh after the restore', 'rollup', 'refresh', 'revenues');
is(worker_triggers('revenues_2025_q2'), 24, 'the restored partition has the marking triggers on its shards');
psql_ok($coord, q{UPDATE revenues SET amount = amount + 5 WHERE org_id = 6 AND occurred_at >= '2025-05-01'
	AND occurred_at < '2025-05-08'});
reports_equal('after restore and a write into the restored partition');

# without a default partition pgpart would DETACH ... CONCURRENTLY, which
# Citus refuses: a plain DETACH under lock_timeout instead
psql_ok($coord, q{INSERT INTO expenses (id, org_id, property_id, occurred_at, amount)
	SELECT g, g % 9, 1, timestamptz '2026-01-01' + g * interval '3 hours', g FROM generate_series(1, 500) g;
	DROP TABLE expenses_default});
my $e_sum = q{SELECT count(*) || ' ' || sum(amount) FROM expenses WHERE occurred_at < '2026-04-01'};
my $e_before = psql_ok($coord, $e_sum);
$out = pgpart_ok($coord, 'archive without a default partition', 'archive', 'expenses', 'expenses_2026_q1',
	'--to', "file://$arch");
($manifest) = $out =~ m{(file://\S+\.manifest\.json)};
is(psql_ok($coord, q{SELECT count(*) FROM pg_class WHERE relname = 'expenses_2026_q1'}), '0', 'archived');
pgpart_ok($coord, 'restore it', 'restore', 'expenses', '--from', $manifest);
is(psql_ok($coord, $e_sum), $e_before, 'the same rows back');

# ---- move and migrate of a distributed table: refused, nothing made
pgpart_fails($coord, 'move', 2, qr/public\.revenues is a distributed table: pgpart moves none/, 'move',
	'revenues', 'revenues_2025_q4', '--tablespace', 'pg_global');
psql_ok($coord, q{CREATE TABLE payments (id bigint NOT NULL, org_id bigint NOT NULL,
	occurred_at timestamptz NOT NULL, amount numeric NOT NULL, PRIMARY KEY (org_id, id));
	SELECT create_distributed_table('payments', 'org_id', shard_count => 4);
	INSERT INTO payments SELECT g, g % 5, timestamptz '2026-01-01' + g * interval '1 hour', g
	FROM generate_series(1, 100) g});
for my $sub ('plan', 'start')
{
	pgpart_fails($coord, "migrate $sub", 2,
		qr/public\.payments is a distributed table: pgpart cannot migrate it online/, 'migrate', $sub,
		'payments', '--column', 'occurred_at', '--extend-keys');
}
is(psql_ok($coord, q{SELECT count(*) FROM pg_class WHERE relname ~ '^payments' AND relkind IN ('r', 'p')}) .
	psql_ok($coord, 'SELECT count(*) FROM pgpart.migration'), '10', 'migrate left nothing behind');
is(psql_ok($coord, 'SELECT count(*) FROM payments'), '100', 'payments untouched');

# ---- retention: partitions that ended over a year ago are dropped, shards too
pgpart_ok($coord, 'retention policy', 'policy', 'revenues', '--drop-after', '1 year',
	'--drop-unarchived');
my $old = psql_ok($coord, q{SELECT count(*) FROM revenues WHERE occurred_at < now() - interval '1 year'});
pgpart_ok($coord, 'maintain applies retention', 'maintain', 'revenues');
is(psql_ok($coord, q{SELECT count(*) FROM pg_class WHERE relname = 'revenues_2025_q1'}), '0',
	'the oldest partition is dropped');
is(worker_tables('revenues_2025_q1'), 0, 'with its shards');
cmp_ok(psql_ok($coord, 'SELECT count(*) FROM revenues'), '<', (split / /, $all_before)[0],
	'fewer rows');

# ---- rollup drop: its marks table, summary and the triggers on the shards go
pgpart_ok($coord, 'rollup drop', 'rollup', 'drop', '--name', 'revenues_daily');
is(psql_ok($coord, q{SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text ~ 'revenues_daily|rollup_1_dirty'}),
	'0', 'its distributed tables are gone');
is(worker_triggers('revenues_2026_q3'), 12, "only the other rollup's triggers are left on the shards");

done_testing();
