# Rollups: every report answered from a rollup equals the same report
# (distinct orgs too, from a rollup grouped by org or from org bitmaps)
# computed from the detail rows, for random orgs and ranges, after
# concurrent inserts, updates (also across partitions) and deletes with
# refreshes running meanwhile, partition moves out of the default partition,
# TRUNCATE, direct writes into a partition, archiving (detach and drop) and
# restore (attach back).
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use IPC::Run;

my $node = new_cluster('rollup');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2024-10-01',
	'--time-zone', 'Europe/Berlin');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=30000', '-v', 'orgs=60',
		'-v', 'future_rows=0', '-d', $node->connstr('postgres'), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load 30000 rows');

# bad input first: nothing may be left behind
pgpart_fails($node, 'unknown table', 2, qr/table "nope" does not exist/, 'rollup', 'add', 'nope',
	'--name', 'x', '--grain', 'day', '--group-by', 'org_id', '--measures', 'count(*)');
pgpart_fails($node, 'bad measure', 2, qr/invalid --measures "avg\(amount\)"/, 'rollup', 'add',
	'revenues', '--name', 'x', '--grain', 'day', '--group-by', 'org_id', '--measures', 'avg(amount)');
pgpart_fails($node, 'bad grain', 2, qr/invalid --grain "week"/, 'rollup', 'add', 'revenues',
	'--name', 'x', '--grain', 'week', '--group-by', 'org_id', '--measures', 'count(*)');
pgpart_fails($node, 'unknown column', 2, qr/column "nope" does not exist/, 'rollup', 'add',
	'revenues', '--name', 'x', '--grain', 'day', '--group-by', 'org_id, nope', '--measures', 'count(*)');
pgpart_fails($node, 'bad predicate', 2, qr/invalid --where "nope > 1": column "nope" does not exist/, 'rollup', 'add', 'revenues', '--name', 'x',
	'--grain', 'day', '--group-by', 'org_id', '--measures', 'count(*)', '--where', 'nope > 1');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'x'}), '0', 'nothing left behind');
pgpart_fails($node, 'no rollup yet', 2, qr/no rollup of public.revenues can answer/, 'report',
	'daily', 'revenues', '--org', '1', '--date', '2025-01-01', '--source', 'rollup');

pgpart_ok($node, 'daily rollup', 'rollup', 'add', 'revenues', '--name', 'revenues_daily',
	'--grain', 'day', '--group-by', 'org_id, status, category', '--measures', 'sum(amount), count(*)');
pgpart_ok($node, 'monthly rollup', 'rollup', 'add', 'revenues', '--name', 'Revenues "Monthly"',
	'--grain', 'month', '--group-by', 'org_id, status, category',
	'--measures', 'sum(amount), count(*), max(amount)');
# not grouped by org: a few rows per bucket, for cross-org reports that do not count orgs
pgpart_ok($node, 'cross-org rollup', 'rollup', 'add', 'revenues', '--name', 'revenues_all_orgs',
	'--grain', 'month', '--group-by', 'status, category', '--measures', 'sum(amount), count(*)');
# counts orgs exactly without being grouped by them: bitmaps of org_id
pgpart_ok($node, 'distinct rollup', 'rollup', 'add', 'revenues', '--name', 'revenues_org_counts',
	'--grain', 'day', '--group-by', 'status, category', '--measures', 'sum(amount), count(*)',
	'--distinct', 'org_id');
pgpart_fails($node, 'name taken', 2, qr/already exists/, 'rollup', 'add', 'revenues',
	'--name', 'revenues_daily', '--grain', 'day', '--group-by', 'org_id', '--measures', 'count(*)');
like(pgpart_ok($node, 'status', 'status', 'revenues'), qr/rollup public.revenues_daily \(day\): \d+ partitions summarised/,
	'status shows the rollups');

sub report
{
	my ($source, @args) = @_;
	my ($rc, $out, $err) = pgpart($node, 'report', @args, '--source', $source, '--json');
	die "report @args failed: $err" if $rc;
	return decode_json($out);
}

my $checks = 0;
my @reports;
srand(7);
sub random_reports
{
	my @r;
	for (1 .. 4)
	{
		my $org = 1 + int(rand(12));
		my $m = 1 + int(rand(12));
		push @r, [ 'daily', 'revenues', '--org', $org, '--date', sprintf('2025-%02d-%02d', $m, 1 + int(rand(28))) ];
		push @r, [ 'monthly', 'revenues', '--org', $org, '--month', sprintf('2025-%02d', $m) ];
	}
	push @r, [ 'yearly', 'revenues', '--org', 1 + int(rand(5)), '--year', '2025' ];
	push @r, [ 'cross-org', 'revenues', '--from', '2025-01-01', '--to', '2025-04-01' ];
	push @r, [ 'cross-org', 'revenues', '--from', '2025-02-03', '--to', '2025-02-17', '--by', 'status' ];
	push @r, [ 'cross-org', 'revenues', '--from', '2025-03-05', '--to', '2025-05-20' ];
	push @r, [ 'cross-org', 'revenues', '--from', '2025-04-01', '--to', '2025-07-01', '--no-orgs' ];
	push @r, [ 'cross-org', 'revenues', '--from', '2025-02-03', '--to', '2025-02-17', '--no-orgs' ];
	return @r;
}

# every report: rollup (auto) equals detail, and the rollup was used
sub compare_all
{
	my ($when, $expect_source) = @_;
	for my $r (random_reports())
	{
		my $auto = report('auto', @$r);
		my $detail = report('detail', @$r);
		is_deeply($auto->{rows}, $detail->{rows}, "$when: @$r equals the detail report");
		like($auto->{source}, $expect_source, "$when: @$r answered from $auto->{source}");
		$checks++;
	}
}

compare_all('freshly summarised', qr/^rollup/);
my $yearly = report('auto', 'yearly', 'revenues', '--org', '1', '--year', '2025');
like($yearly->{source}, qr/Monthly/, 'the yearly report uses the month rollup');
my $cross = report('auto', 'cross-org', 'revenues', '--from', '2025-01-01', '--to', '2025-04-01');
like($cross->{source}, qr/Monthly/, 'cross-org over whole months: the month rollup grouped by org');
ok(exists $cross->{rows}[0]{orgs}, 'cross-org counts the orgs by default');
$cross = report('auto', 'cross-org', 'revenues', '--from', '2025-02-03', '--to', '2025-02-17');
like($cross->{source}, qr/revenues_org_counts/,
	'over days, the orgs are counted from the bitmaps of the rollup not grouped by org');
$cross = report('auto', 'cross-org', 'revenues', '--from', '2025-01-01', '--to', '2025-04-01', '--no-orgs');
like($cross->{source}, qr/revenues_all_orgs/, 'cross-org --no-orgs reads the rollup not grouped by org');
ok(!exists $cross->{rows}[0]{orgs}, 'cross-org --no-orgs has no orgs column');
pgpart_fails($node, '--no-orgs outside cross-org', 2, qr/--no-orgs is for the cross-org report/, 'report',
	'daily', 'revenues', '--org', '1', '--date', '2025-03-03', '--no-orgs');
my $daily = report('auto', 'daily', 'revenues', '--org', '1', '--date', '2025-03-03');
like($daily->{source}, qr/revenues_daily/, 'the daily report needs the day rollup');

# concurrent writers, with refreshes running meanwhile
my $script = $node->basedir . '/writers.sql';
open(my $fh, '>', $script) or die;
print $fh <<'SQL';
\set org random(1, 12)
\set id random(1, 30000)
\set r random(1, 6)
\if :r = 1
INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
  VALUES (:org, :org * 10, timestamptz '2025-01-01' + random() * interval '360 days', random() * 1000, 'pending', 'rent');
\elif :r = 2
UPDATE revenues SET amount = amount + 1, status = 'approved' WHERE id = :id;
\elif :r = 3
UPDATE revenues SET occurred_at = occurred_at + interval '95 days' WHERE id = :id;
\elif :r = 4
DELETE FROM revenues WHERE id = :id;
\elif :r = 5
UPDATE revenues SET category = 'fees' WHERE org_id = :org AND occurred_at >= '2025-02-01' AND occurred_at < '2025-02-02';
\else
COPY revenues (org_id, property_id, occurred_at, amount, status, category) FROM PROGRAM 'echo 3,30,2025-03-15 10:00:00+00,12.5,void,other' WITH (FORMAT csv);
\endif
SQL
close $fh;
# four rounds of writers, each with at least one refresh started while they
# write: how many fit in a round depends on the machine, that some do does not
my ($pout, $perr) = ('', '');
my ($refreshes, $rounds_with_refresh) = (0, 0);
for my $round (1 .. 4)
{
	my ($o, $e) = ('', '');
	my $bench = IPC::Run::start([ 'pgbench', '-n', '-c', '3', '-T', '2', '-f', $script, $node->connstr('postgres') ],
		'>', \$o, '2>', \$e);
	my ($in_round, $tries) = (0, 0);
	while (($bench->pumpable || !$in_round) && $tries++ < 100)
	{
		my ($rc) = pgpart($node, 'rollup', 'refresh', 'revenues');
		if ($rc == 0) { $refreshes++; $in_round++ }
		$bench->pump_nb if $bench->pumpable;
		select(undef, undef, undef, 0.2);
	}
	$bench->finish;
	$rounds_with_refresh++ if $in_round;
	$pout .= $o;
	$perr .= $e;
}
like($pout, qr/number of transactions actually processed: [1-9]/, 'the writers wrote') or diag($perr);
unlike($pout . $perr, qr/ERROR/, 'the writers saw no errors');
is($rounds_with_refresh, 4, "every round of writers had refreshes ($refreshes in all)");

compare_all('after writers, before refresh', qr/^rollup/);
pgpart_ok($node, 'refresh', 'rollup', 'refresh');
like(pgpart_ok($node, 'rollup status', 'rollup', 'status', '--name', 'revenues_daily'),
	qr/changed since refresh\s+0 buckets/, 'nothing left to recompute');
compare_all('after refresh', qr/^rollup/);

# direct writes into a partition, and TRUNCATE of one
psql_ok($node, q{INSERT INTO revenues_2025_q2 (id, org_id, property_id, occurred_at, amount, status, category)
	VALUES (900001, 1, 10, '2025-05-05 12:00+02', 777, 'approved', 'rent')});
my $direct = report('auto', 'daily', 'revenues', '--org', '1', '--date', '2025-05-05');
is($direct->{buckets_from_detail}, 1, 'a direct write into a partition marks its bucket');
is_deeply($direct->{rows}, report('detail', 'daily', 'revenues', '--org', '1', '--date', '2025-05-05')->{rows},
	'and the report sees it');
psql_ok($node, 'TRUNCATE revenues_2025_q3');
my $after = report('auto', 'monthly', 'revenues', '--org', '2', '--month', '2025-08');
is($after->{source}, 'detail', 'after a TRUNCATE reports read the detail rows until refresh');
is(scalar @{ $after->{rows} }, 0, 'and see the rows gone');
pgpart_ok($node, 'refresh after truncate', 'rollup', 'refresh', 'revenues');
compare_all('after TRUNCATE and refresh', qr/^rollup/);

# rows beyond the partitions land in the default one; maintain moves them and refreshes
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
	SELECT 1 + g % 5, 10, timestamptz '2029-01-01' + g * interval '7 hours', g, 'approved', 'rent'
	FROM generate_series(1, 400) g});
pgpart_ok($node, 'maintain', 'maintain');
my $future = report('auto', 'cross-org', 'revenues', '--from', '2029-01-01', '--to', '2029-04-01');
like($future->{source}, qr/^rollup/, 'moved rows are summarised by maintain');
is_deeply($future->{rows}, report('detail', 'cross-org', 'revenues', '--from', '2029-01-01', '--to', '2029-04-01')->{rows},
	'and equal the detail rows');

# archive: the partition goes, its summary stays and keeps answering
my @old = ([ 'monthly', 'revenues', '--org', '1', '--month', '2024-11' ],
	[ 'cross-org', 'revenues', '--from', '2024-10-01', '--to', '2025-01-01' ],
	[ 'cross-org', 'revenues', '--from', '2024-10-01', '--to', '2025-01-01', '--by', 'status' ],
	[ 'cross-org', 'revenues', '--from', '2024-11-03', '--to', '2024-12-20' ],
	[ 'daily', 'revenues', '--org', '2', '--date', '2024-12-24' ]);
my @before = map { report('detail', @$_)->{rows} } @old;
psql_ok($node, q{ALTER TABLE revenues DETACH PARTITION revenues_2024_q4;
	CREATE TABLE archived_q4 AS TABLE revenues_2024_q4; DROP TABLE revenues_2024_q4});
pgpart_ok($node, 'refresh after archive', 'rollup', 'refresh');
for my $i (0 .. $#old)
{
	my $now = report('auto', @{ $old[$i] });
	like($now->{source}, qr/^rollup/, "archived range: @{ $old[$i] } answered from the rollup");
	is_deeply($now->{rows}, $before[$i], "archived range: @{ $old[$i] } as before archiving");
}
# restore: the same rows come back as a partition; nothing is counted twice
psql_ok($node, q{CREATE TABLE revenues_2024_q4 (LIKE revenues INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
	INSERT INTO revenues_2024_q4 OVERRIDING SYSTEM VALUE SELECT * FROM archived_q4;
	ALTER TABLE revenues ATTACH PARTITION revenues_2024_q4 FOR VALUES FROM ('2024-10-01 00:00+02') TO ('2025-01-01 00:00+01')});
pgpart_ok($node, 'refresh after restore', 'rollup', 'refresh');
for my $i (0 .. $#old)
{
	is_deeply(report('auto', @{ $old[$i] })->{rows}, $before[$i], "restored: @{ $old[$i] } unchanged");
	is_deeply(report('detail', @{ $old[$i] })->{rows}, $before[$i], "restored: detail rows back");
}

# formats
my ($rc, $csv) = pgpart($node, 'report', 'daily', 'revenues', '--org', '1', '--date', '2025-03-03',
	'--format', 'csv');
like($csv, qr/^status,category,rows,amount\n/, 'CSV header');
like(pgpart_ok($node, 'table format', 'report', 'yearly', 'revenues', '--org', '1', '--year', '2025'),
	qr/source: rollup public\.Revenues "Monthly"/, 'the table output says which source answered');
pgpart_fails($node, 'report without org', 2, qr/give --org/, 'report', 'daily', 'revenues', '--date', '2025-01-01');
pgpart_fails($node, 'bad date', 2, qr/--date=YYYY-MM-DD/, 'report', 'daily', 'revenues', '--org', '1', '--date', '2025-13-01');
# a period that would end after 9999-12-31 cannot be named: refused, never wrapped to year 0
pgpart_fails($node, 'year 9999', 2, qr/yearly needs --year=YYYY \(a period that ends by 9999-12-31\)/,
	'report', 'yearly', 'revenues', '--org', '1', '--year', '9999');
pgpart_fails($node, 'December 9999', 2, qr/monthly needs --month=YYYY-MM/,
	'report', 'monthly', 'revenues', '--org', '1', '--month', '9999-12');

pgpart_ok($node, 'drop', 'rollup', 'drop', '--name', 'revenues_daily');
is(psql_ok($node, q{SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgpart_rollup_1_%'}), '0',
	'its triggers are gone');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE 'revenues_daily%'}), '0',
	'its tables are gone');
note("$checks report comparisons");
done_testing();
