# pgpart move and transactions whose snapshot is older than the copy (issue
# 22): the copy's rows are new row versions that such a snapshot cannot see,
# so a swap under it would make the partition look empty to it, and its
# DELETE of those rows would delete nothing, without an error.  The move
# waits for those transactions to end before the swap; one that stays open
# longer than the lock budget fails the move, undone, with a clear error.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = new_cluster('tiermove_snap');
my $dir = $node->basedir . '/ts_warm';
mkdir $dir or die "mkdir $dir: $!";
psql_ok($node, qq{CREATE TABLESPACE warm LOCATION '$dir'});
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01',
	'--premake', '1');
psql_ok($node, q{
	INSERT INTO revenues (org_id, property_id, occurred_at, amount)
	SELECT g, 1, timestamptz '2025-01-01' + g * interval '1 hour', g FROM generate_series(1, 1000) g;
	CREATE TABLE other (x int); INSERT INTO other VALUES (1)});
my $q1 = q{SELECT count(*) FROM revenues WHERE occurred_at < '2025-04-01'};
my $n = psql_ok($node, $q1);
cmp_ok($n, '>', 0, "rows in 2025 Q1: $n");

# a REPEATABLE READ transaction whose snapshot (taken reading another table)
# predates the move, open the whole time: the move waits, then gives up
my $rr = $node->background_psql('postgres', on_error_stop => 0);
$rr->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM other});
my $t0 = time;
pgpart_fails($node, 'move under an older snapshot', 1,
	qr/transactions older than the copy of public\.revenues_2025_q1 are still open/,
	'--lock-timeout', '200ms', '--retries', '3', 'move', 'revenues', 'revenues_2025_q1',
	'--tablespace', 'warm');
cmp_ok(time - $t0, '>=', 0.5, 'it waited for the transaction first');
is(psql_ok($node, q{SELECT coalesce(t.spcname, 'pg_default') FROM pg_class c
	LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.relname = 'revenues_2025_q1'}),
	'pg_default', 'the partition was not moved');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE 'revenues_2025_q1%' AND relkind = 'r'}), '1',
	'no copy left behind');
# the old snapshot still sees every row, and its DELETE deletes them
is($rr->query_safe($q1), $n, 'the older snapshot sees the rows');
is($rr->query_safe(q{WITH d AS (DELETE FROM revenues WHERE id <= 10 RETURNING 1) SELECT count(*) FROM d}),
	'10', 'and deletes them');
$rr->query_safe('COMMIT');

# the same transaction, ended while the move waits: the move swaps after it
$rr->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM other});
my $h = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), '-v', '--lock-timeout', '1s',
		'--retries', '20', 'move', 'revenues', 'revenues_2025_q1', '--tablespace', 'warm' ],
	'<', \undef, '>', \my $out, '2>', \my $err);
my $waited = 0;
for (1 .. 200)
{
	$waited = psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE 'revenues_2025_q1_pgpart%'});
	last if $waited;
	sleep 0.05;
}
ok($waited, 'the copy is made while the older transaction is open');
sleep 0.5;
is($rr->query_safe($q1), $n - 10, 'the older snapshot still sees every row of the partition');
$rr->query_safe('COMMIT');
$h->finish;
is($? >> 8, 0, 'the move finished after it ended') or diag("$out$err");
like($err, qr/waiting for transactions older than the copy/, 'and said what it waited for');
is(psql_ok($node, q{SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace
	WHERE c.relname = 'revenues_2025_q1'}), 'warm', 'moved');
is(psql_ok($node, $q1), $n - 10, 'every row is there');
$rr->quit;
done_testing();
