# What pgpart says writers could have waited: with a session holding a lock
# that pgpart's ATTACH must queue behind, the reported wait W covers every
# attempt that queued until lock_timeout (writers behind it waited too), and
# is never less than the queue and hold times of the attempt it names; and a
# writer that waited for pgpart's lock is followed after the COMMIT until its
# transaction ends (A), up to a cap.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use IPC::Run ();

my $node = new_cluster('writerwait');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01',
	'--premake', '2');

# no holder: one attempt, so W is its queue time plus its hold time
psql_ok($node, q{DROP TABLE revenues_2027_q1});
my $json = decode_json(pgpart_ok($node, 'maintain --json', '--json', 'maintain', 'revenues'));
my $t = $json->{tables}[0];
ok($t->{ok}, 'maintain ran');
is_deeply($t->{partitions_created}, ['revenues_2027_q1'], 'it recreated the dropped future partition');
for my $k (qw(writers_wait_ms lock_queued_ms lock_held_ms))
{
	ok(defined $t->{$k} && $t->{$k} >= 0, "$k reported ($t->{$k})");
}
cmp_ok($t->{writers_wait_ms} + 0.05, '>=', $t->{lock_queued_ms} + $t->{lock_held_ms},
	'W covers queued + held');

# a reader holds ACCESS SHARE on the default partition for 8 s: ATTACH needs
# ACCESS EXCLUSIVE on it.  The first attempt, made while the reader's
# transaction is younger than half of --lock-timeout (1 s), queues until it
# times out (2 s); pgpart then sleeps at least twice that (the writers'
# backlog drains), and the next looks see a transaction open for longer than
# 1 s and are skipped (176_lock_skip.pl) until the reader is gone.
psql_ok($node, q{DROP TABLE revenues_2027_q2});
my ($hout, $herr) = ('', '');
my $holder = IPC::Run::start(
	[ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
	  'BEGIN; LOCK TABLE revenues_default IN ACCESS SHARE MODE; SELECT pg_sleep(8); COMMIT;' ],
	'>', \$hout, '2>', \$herr);
my $t0 = time;
until (psql_ok($node, q{SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	WHERE c.relname = 'revenues_default' AND l.mode = 'AccessShareLock' AND l.granted}) > 0
	|| time - $t0 > 20)
{
	select(undef, undef, undef, 0.05);
}
$json = decode_json(pgpart_ok($node, 'maintain behind a holder', '--json', '--lock-timeout', '2s',
	'--retries', '100', 'maintain', 'revenues'));
$holder->finish;
$t = $json->{tables}[0];
ok($t->{ok}, 'maintain got its locks once the holder was gone');
is_deeply($t->{partitions_created}, ['revenues_2027_q2'], 'and recreated the partition');
cmp_ok($t->{lock_attempts}, '>', 1, "it retried ($t->{lock_attempts} attempts)");
cmp_ok($t->{writers_wait_ms}, '>=', 2000,
	"an attempt that queued until lock_timeout is in W ($t->{writers_wait_ms} ms)");
cmp_ok($t->{skipped_attempts}, '>=', 1,
	"the attempts after it were skipped while the reader stayed ($t->{skipped_attempts})");
cmp_ok($t->{writers_wait_ms} + 0.05, '>=', $t->{lock_queued_ms} + $t->{lock_held_ms},
	'W covers the queued and held times it names');

my $text = pgpart_ok($node, 'maintain text', 'maintain', 'revenues');
unlike($text, qr/could have waited up to -/, 'no negative wait in text');

# A: the test build holds pgpart's locks for a second before each COMMIT; a
# writer of the default partition queues meanwhile, and its transaction goes
# on for a while after its INSERT is granted
my $test_build = `$ENV{PGPART} --version` =~ /test build/;
sub maintain_with_writer
{
	my ($name, $after_insert) = @_;
	psql_ok($node, q{DROP TABLE revenues_2027_q2});
	local $ENV{PGPART_TEST_LOCK_PAUSE} = 'held:1';
	my ($out, $err, $wout, $werr) = ('', '', '', '');
	my $p = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), '--json', 'maintain',
			'revenues' ], '<', \undef, '>', \$out, '2>', \$err);
	ok($node->poll_query_until('postgres', q{SELECT count(*) > 0 FROM pg_locks l
		JOIN pg_stat_activity s USING (pid) WHERE s.application_name LIKE 'pgpart maintain%'
		AND l.mode = 'AccessExclusiveLock' AND l.granted}), "$name: pgpart holds a lock");
	my $w = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
			"BEGIN; INSERT INTO revenues (org_id, property_id, occurred_at, amount) "
			. "VALUES (1, 1, '2031-01-01', 1); $after_insert; COMMIT;" ],
		'<', \undef, '>', \$wout, '2>', \$werr);
	ok($node->poll_query_until('postgres', q{SELECT count(*) > 0 FROM pg_locks
		WHERE mode = 'RowExclusiveLock' AND NOT granted}), "$name: the writer queues behind it");
	$p->finish;
	is($? >> 8, 0, "$name: maintain ran") or diag($err);
	return (decode_json($out)->{tables}[0], $w);
}
SKIP:
{
	skip 'PGPART_TEST_LOCK_PAUSE needs a test build', 13 unless $test_build;
	my ($t, $w) = maintain_with_writer('writer', 'SELECT pg_sleep(0.15)');
	$w->finish;
	cmp_ok($t->{lock_waiters}, '>=', 1, "the waiting writer was seen ($t->{lock_waiters})");
	cmp_ok($t->{lock_after_ms}, '>=', 150,
		"A lasts until the writer's transaction ended ($t->{lock_after_ms} ms)");
	ok(!$t->{lock_after_capped}, 'it ended before the cap');
	cmp_ok($t->{writers_wait_ms} + 0.05, '>=',
		$t->{lock_queued_ms} + $t->{lock_held_ms} + $t->{lock_after_ms}, 'W = Q + H + A');

	# a writer that stays in its transaction is followed only up to the cap
	($t, $w) = maintain_with_writer('long writer', 'SELECT pg_sleep(60)');
	is(psql_ok($node, q{SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'}), '1',
		'pgpart finished while the writer was still in its transaction');
	ok($t->{lock_after_capped}, 'A says it was cut');
	cmp_ok($t->{lock_after_ms}, '>=', 250, "A is the cap ($t->{lock_after_ms} ms)");
	psql_ok($node, q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'});
	$w->finish;
}

# a backfill batch holds its rows FOR SHARE: the first UPDATE of a row waits
# for the batch's transaction, a second UPDATE of it waits for the first's
# tuple lock; both waited for pgpart, and both are followed
psql_ok($node, q{CREATE TABLE "Row Chain" (id bigint, at timestamptz NOT NULL,
	amount numeric NOT NULL, PRIMARY KEY (id, at));
	INSERT INTO "Row Chain" SELECT g, '2025-01-01'::timestamptz + g * interval '1 hour', g
	FROM generate_series(1, 300) g});
pgpart_ok($node, 'start the row-chain migration', 'migrate', 'start', '"Row Chain"', '--column', 'at');
SKIP:
{
	skip 'PGPART_TEST_LOCK_PAUSE needs a test build', 7 unless $test_build;
	local $ENV{PGPART_TEST_LOCK_PAUSE} = 'held:1';
	my ($out, $err) = ('', '');
	my $p = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), '--json', 'migrate',
			'backfill', '"Row Chain"', '--max-rows', '50' ], '<', \undef, '>', \$out, '2>', \$err);
	# the pause: idle in its transaction for longer than between two statements
	ok($node->poll_query_until('postgres', q{SELECT count(*) > 0 FROM pg_stat_activity
		WHERE application_name LIKE 'pgpart migrate%' AND state = 'idle in transaction'
		AND now() - state_change > interval '100 ms'}), 'a batch holds its rows');
	my @w;
	for my $n (1, 2)
	{
		my ($wo, $we) = ('', '');
		push @w, IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
				q{UPDATE "Row Chain" SET amount = amount + 1 WHERE id = 1} ],
			'<', \undef, '>', \$wo, '2>', \$we);
		ok($node->poll_query_until('postgres', qq{SELECT count(DISTINCT pid) = $n FROM pg_locks
			WHERE NOT granted AND locktype IN ('transactionid', 'tuple')}), "writer $n waits");
	}
	$p->finish;
	is($? >> 8, 0, 'the backfill ran') or diag($err);
	$_->finish for @w;
	my $b = decode_json($out)->{batches};
	is($b->{writers_waited}, 2, 'both writers are counted, the one behind the other too');
	cmp_ok($b->{lock_after_ms_max}, '>', 0, "and followed after the COMMIT ($b->{lock_after_ms_max} ms)");
	is(psql_ok($node, q{SELECT amount FROM "Row Chain" WHERE id = 1}), '3', 'both updates are in');
}

done_testing();
