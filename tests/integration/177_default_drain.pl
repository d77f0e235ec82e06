# maintain moves a new range's rows out of the default partition in short
# batch transactions before the ATTACH: writers inserting meanwhile (also rows
# of that range) never fail and every row ends in its partition exactly once;
# a kill -9 in the middle of the drain loses nothing and a rerun finishes;
# with --drain-check ATTACH proves from constraints that it need not read
# the default partition nor the new table (the server's DEBUG1 messages), and
# a CHECK a crash left behind is dropped by the next run.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PgpartTest;
use Test::More;

my $node = new_cluster('drain');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2026-01-01',
	'--premake', '1');

sub insert_rows
{
	my ($n, $from) = @_;
	psql_ok($node, qq{INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
		SELECT g % 97, g % 13, timestamptz '$from' + (g % 80) * interval '1 day' + g * interval '1 s',
		       g % 1000, 'approved', 'rent' FROM generate_series(1, $n) g});
}

sub wait_for
{
	my ($what, $sql, $limit) = @_;
	my $t0 = time;
	until (psql_ok($node, $sql) eq 't')
	{
		if (time - $t0 > ($limit // 60)) { fail("waited too long for $what"); return; }
		select(undef, undef, undef, 0.05);
	}
}

sub in_range_of_default
{
	my ($lo, $hi) = @_;
	return psql_ok($node, qq{SELECT count(*) FROM ONLY revenues_default
		WHERE occurred_at >= '$lo' AND occurred_at < '$hi'});
}

# every row is in the partition its key names (revenues_YYYY_qN), or in the
# default partition when that quarter has none
my $misplaced_sql = q{SELECT count(*) FROM revenues r JOIN pg_class c ON c.oid = r.tableoid
	WHERE c.relname <> 'revenues_' || to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY') || '_q'
	      || extract(quarter FROM r.occurred_at AT TIME ZONE 'UTC')
	  AND NOT (c.relname = 'revenues_default' AND to_regclass('revenues_'
	      || to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY') || '_q'
	      || extract(quarter FROM r.occurred_at AT TIME ZONE 'UTC')) IS NULL)};

insert_rows(20000, '2030-01-01');
insert_rows(500, '2031-04-01');
my $before = table_fingerprint($node, 'revenues');
my $max_id = psql_ok($node, 'SELECT max(id) FROM revenues');
is(in_range_of_default('2030-01-01', '2030-04-01'), '20000', 'the rows of 2030 Q1 are in the default partition');

# 1. kill -9 in the middle of the drain: tiny batches and a pause make it long
my ($kout, $kerr) = ('', '');
my $victim = IPC::Run::start(
	[ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'maintain', 'revenues',
	  '--drain-batch-rows', '100', '--drain-pause', '100ms' ],
	'>', \$kout, '2>', \$kerr);
wait_for('the table drained into', q{SELECT to_regclass('revenues_2030_q1') IS NOT NULL});
wait_for('the drain to move some rows', q{SELECT count(*) >= 300 FROM ONLY revenues_2030_q1});
$victim->signal('KILL');
$victim->finish;
wait_for('the killed run to end on the server', q{SELECT count(*) = 0 FROM pg_stat_activity
	WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()});
my $moved = psql_ok($node, 'SELECT count(*) FROM revenues_2030_q1');
cmp_ok($moved, '>', 0, "the killed run had moved rows ($moved)");
cmp_ok(in_range_of_default('2030-01-01', '2030-04-01'), '>', 0, 'and left rows in the default partition');
is(psql_ok($node, q{SELECT relispartition FROM pg_class WHERE oid = 'revenues_2030_q1'::regclass}), 'f',
	'the table drained into is not attached yet');
is(table_fingerprint($node, '(SELECT * FROM revenues UNION ALL SELECT * FROM revenues_2030_q1)'), $before,
	'after kill -9 every row is either in the default partition or in the new table, once');

# 2. the rerun, with writers inserting rows of the range being drained
my $script = "$ENV{TESTDIR}/drain_writer.sql";
open(my $fh, '>', $script) or die;
print $fh q{\set r random(0, 2)
INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
VALUES (1, 1, CASE :r WHEN 0 THEN timestamptz '2030-01-01' + random() * interval '89 days'
                      WHEN 1 THEN timestamptz '2031-04-01' + random() * interval '89 days'
                      ELSE now() END, 1, 'approved', 'rent');
};
close $fh;
my ($bout, $berr) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-R', '100', '-T', '6', '-f', $script, $node->connstr('postgres') ],
	'>', \$bout, '2>', \$berr);
sleep 1;
my $json = decode_json(pgpart_ok($node, 'maintain resumes the drain with writers on', '--json',
	'--lock-timeout', '200ms', '--retries', '30', 'maintain', 'revenues',
	'--drain-batch-rows', '500', '--drain-pause', '20ms'));
$bench->finish;
is($?, 0, 'pgbench writers finished without errors') or diag($berr);
my ($txns) = $bout =~ /number of transactions actually processed: (\d+)/;
my ($failed_txns) = $bout =~ /number of failed transactions: (\d+)/;
ok($txns && $txns > 50, "writers made progress ($txns transactions)");
is($failed_txns // 0, 0, 'no writer transaction failed');
my $t = $json->{tables}[0];
ok($t->{ok}, 'maintain ok');
is_deeply([ sort @{ $t->{partitions_created} } ], [ 'revenues_2030_q1', 'revenues_2031_q2' ],
	'it attached the resumed table and made the other one');
cmp_ok($t->{drain_batches}, '>', 1, "in batches ($t->{drain_batches})");
ok(defined $t->{writers_wait_ms}, "writers_wait_ms reported ($t->{writers_wait_ms})");
pgpart_ok($node, 'maintain again, for writer rows that came after', 'maintain', 'revenues');
is(psql_ok($node, 'SELECT count(*) FROM revenues'), 20500 + $txns, 'every row is there');
is(psql_ok($node, 'SELECT count(DISTINCT id) FROM revenues'), 20500 + $txns, 'and only once');
is(table_fingerprint($node, "(SELECT * FROM revenues WHERE id <= $max_id)"), $before,
	'the rows from before are unchanged');
is(psql_ok($node, $misplaced_sql), '0', 'every row is in the partition of its quarter');
is(in_range_of_default('2030-01-01', '2031-07-01'), '0', 'nothing of those ranges left in the default');
is(psql_ok($node, q{SELECT count(*) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
	WHERE c.relname LIKE 'revenues_20%' AND d.objsubid = 0}), '0', 'no drain mark left on a partition');

# 3. --dry-run prints the batches, the CHECK and the ATTACH, and changes nothing
insert_rows(3000, '2032-07-01');
my $dry = pgpart_ok($node, 'dry-run', '--dry-run', 'maintain', 'revenues', '--drain-batch-rows', '5000',
	'--drain-check');
like($dry, qr/WITH batch AS \(SELECT ctid FROM ONLY "public"\."revenues_default" WHERE ctid >= /,
	'dry-run shows the batch statement');
like($dry, qr/FOR UPDATE SKIP LOCKED/, 'which skips rows writers hold');
like($dry, qr/ADD CONSTRAINT pgpart_default_excludes_new_range CHECK .* NOT VALID/,
	'the NOT VALID CHECK on the default');
like($dry, qr/VALIDATE CONSTRAINT pgpart_default_excludes_new_range/, 'its VALIDATE');
like($dry, qr/ATTACH PARTITION "public"\."revenues_2032_q3"/, 'and the ATTACH');
is(psql_ok($node, q{SELECT to_regclass('revenues_2032_q3') IS NULL}), 't', 'dry-run made no table');
is(in_range_of_default('2032-07-01', '2032-10-01'), '3000', 'and moved no row');

# 4. --drain-check: ATTACH reads neither the default partition nor the new table
$before = table_fingerprint($node, 'revenues');
{
	local $ENV{PGOPTIONS} = '-c log_min_messages=debug1';
	pgpart_ok($node, 'maintain --drain-check', 'maintain', 'revenues', '--drain-batch-rows', '5000',
		'--drain-check');
}
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
like($log, qr/updated partition constraint for default partition "revenues_default" is implied by existing constraints/,
	'ATTACH skipped the scan of the default partition (server log, DEBUG1)');
like($log, qr/partition constraint for table "revenues_2032_q3" is implied by existing constraints/,
	'and of the new table');
is(psql_ok($node, q{SELECT count(*) FROM pg_constraint WHERE conname IN
	('pgpart_default_excludes_new_range', 'pgpart_partition_bounds')}), '0', 'the helper CHECKs are gone');
is(table_fingerprint($node, 'revenues'), $before, 'no row lost or changed');
is(in_range_of_default('2032-07-01', '2032-10-01'), '0', 'none left in the default');
is(psql_ok($node, $misplaced_sql), '0', 'every row in its partition');

# 5. a CHECK a crash left on the default goes with the next run
insert_rows(700, '2033-01-01');
psql_ok($node, q{ALTER TABLE revenues_default ADD CONSTRAINT pgpart_default_excludes_new_range
	CHECK (occurred_at IS NULL OR occurred_at < '2033-01-01' OR occurred_at >= '2033-04-01') NOT VALID});
pgpart_ok($node, 'maintain after a crashed --drain-check', 'maintain', 'revenues');
is(psql_ok($node, q{SELECT count(*) FROM pg_constraint WHERE conname = 'pgpart_default_excludes_new_range'}),
	'0', 'the leftover CHECK is dropped');
is(psql_ok($node, 'SELECT count(*) FROM revenues_2033_q1'), '700', 'and the rows are in their partition');

# 6. batches are not the default: a batched drain killed half-way is finished
# by a plain maintain (the moved rows are invisible until the ATTACH)
insert_rows(5000, '2034-01-01');
$before = table_fingerprint($node, 'revenues');
($kout, $kerr) = ('', '');
$victim = IPC::Run::start(
	[ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'maintain', 'revenues',
	  '--drain-batch-rows', '100', '--drain-pause', '100ms' ],
	'>', \$kout, '2>', \$kerr);
wait_for('the second table drained into', q{SELECT to_regclass('revenues_2034_q1') IS NOT NULL});
wait_for('the second drain to move some rows', q{SELECT count(*) >= 300 FROM ONLY revenues_2034_q1});
$victim->signal('KILL');
$victim->finish;
wait_for('the killed run to end on the server', q{SELECT count(*) = 0 FROM pg_stat_activity
	WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()});
$json = decode_json(pgpart_ok($node, 'a plain maintain finishes the interrupted drain', '--json',
	'maintain', 'revenues'));
ok($json->{tables}[0]{ok}, 'maintain ok');
is(psql_ok($node, q{SELECT relispartition FROM pg_class WHERE oid = 'revenues_2034_q1'::regclass}), 't',
	'the table drained into is attached');
is(table_fingerprint($node, 'revenues'), $before, 'every row visible again, none lost or doubled');
is(in_range_of_default('2034-01-01', '2034-04-01'), '0', 'none left in the default');
pgpart_fails($node, '--drain-check without --drain-batch-rows', 2, qr/--drain-check needs --drain-batch-rows/,
	'maintain', 'revenues', '--drain-check');

done_testing();
