# Health-driven throttling against a real streaming standby: with its replay
# paused (pg_wal_replay_pause), a backfill with --max-lag pauses and says why,
# in its log and in pgpart.throttle_limit.state; replay resumed, it finishes
# and the copy is exact.  The limits of a running backfill change without
# restarting it (migrate limits).  A bad --probe is refused before anything
# changes.  The default partition's drain (maintain --drain-batch-rows), move
# and restore wait on the same limits.  No timings are asserted: only what
# pgpart and the server say.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use IPC::Run ();
use File::Path qw(make_path);

my $node = new_cluster('health', allows_streaming => 1);
my $standby = new_standby($node);
pgpart_ok($node, 'init', 'init');
psql_ok($node, q{
	CREATE TABLE ev (id bigint, occurred_at timestamptz NOT NULL, v text, PRIMARY KEY (id, occurred_at));
	INSERT INTO ev SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '1 hour', 'v' || g
	  FROM generate_series(1, 4000) g;
	CREATE SCHEMA ops;
	CREATE FUNCTION ops.latency_ms() RETURNS double precision LANGUAGE sql AS 'SELECT 3.5';
	CREATE FUNCTION ops.label() RETURNS text LANGUAGE sql AS $$SELECT 'x'$$;
	CREATE FUNCTION ops.takes_arg(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
	CREATE FUNCTION ops.fails() RETURNS int LANGUAGE sql AS 'SELECT 1/0';
});
my $before = table_fingerprint($node, 'ev');
pgpart_ok($node, 'start', 'migrate', 'start', 'ev', '--column', 'occurred_at', '--start', '2025-01-01',
	'--time-zone', 'UTC');
my $state_sql = q{SELECT coalesce(state, '') FROM pgpart.throttle_limit WHERE relation = 'ev'::regclass};
my $copied_sql = q{SELECT rows_copied FROM pgpart.migration WHERE table_name = 'ev' AND phase = 'backfilling'};

# ---- bad probes: exit 2, one clear error, nothing copied
for my $case (
	[ 'no schema', 'latency_ms', qr/give the function's schema too/ ],
	[ 'SQL text', 'ops.latency_ms(); DROP TABLE ev', qr/a function's name only/ ],
	[ 'missing', 'ops.nope', qr/there is no function ops\.nope\(\) without arguments/ ],
	[ 'with arguments', 'ops.takes_arg', qr/there is no function ops\.takes_arg\(\) without arguments/ ],
	[ 'not a number', 'ops.label', qr/returns text, not a number of milliseconds/ ],
	[ 'failing', 'ops.fails', qr/--probe: ops\.fails\(\) failed.*division by zero/ ])
{
	my ($what, $probe, $re) = @$case;
	pgpart_fails($node, "probe $what", 2, $re, 'migrate', 'backfill', 'ev', '--probe', $probe,
		'--max-probe', '50ms');
}
pgpart_fails($node, '--max-probe without --probe', 2, qr/--max-probe needs --probe/, 'migrate',
	'backfill', 'ev', '--max-probe', '50ms');
pgpart_fails($node, 'a bad WAL rate', 2, qr/max-wal-rate/, 'migrate', 'backfill', 'ev',
	'--max-wal-rate', '50 parsecs');
is(psql_ok($node, $copied_sql), '0', 'nothing was copied by the refused runs');
ok(psql_ok($node, q{SELECT 1 FROM pg_stat_activity WHERE query LIKE '%DROP TABLE ev%' AND pid <> pg_backend_pid()}) eq '',
	'the SQL text given as a probe never reached the server as a statement');

# a good probe under its limit: part of the copy, no pause
my $out = pgpart_ok($node, 'a good probe', 'migrate', 'backfill', 'ev', '--probe', 'ops.latency_ms',
	'--max-probe', '50ms', '--batch-size', '100', '--max-rows', '200');
like($out, qr/^pauses\s+none$/m, 'a probe under its limit never pauses');

# the WAL rate: the backfill's own WAL (spread over more than one 1 s window by --rate)
# is far above 1 kB/s, so it pauses until a window without it
my ($wrc, $wout, $werr) = pgpart($node, '-v', 'migrate', 'backfill', 'ev', '--max-wal-rate', '1kB/s',
	'--rate', '200', '--batch-size', '100', '--max-rows', '400');
is($wrc, 0, 'a backfill under --max-wal-rate runs');
like($werr, qr/backfill of public\.ev: paused: WAL rate \S+ \S+ > 1 kB\/s/, 'and pauses on the WAL rate, saying so');
like($wout, qr/^pauses\s+[1-9]\d*, .*\(last: WAL rate/m, 'its report counts those pauses');

# ---- replay paused on the standby: the backfill pauses on lag, then finishes
sub start_backfill
{
	my (@args) = @_;
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start(
		[ $ENV{PGPART}, '-v', '-d', $node->connstr('postgres'), 'migrate', 'backfill', 'ev', @args ],
		'<', \undef, '>', \$o, '2>', \$e);
	return ($h, \$o, \$e);
}

sub wait_for
{
	my ($what, $cond) = @_;
	my $t0 = time;
	until ($cond->())
	{
		if (time - $t0 > 60) { fail("timed out waiting for $what"); return 0; }
		select(undef, undef, undef, 0.1);
	}
	pass($what);
	return 1;
}

$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
my ($h, $o, $e) = start_backfill('--max-lag', '1s', '--batch-size', '100', '--rate', '2000');
wait_for('the backfill pauses on standby lag',
	sub { psql_ok($node, $state_sql) =~ /^paused: standby lag .* > 1(\.0)? s$/ });
my $held = psql_ok($node, $copied_sql);
sleep 2;
is(psql_ok($node, $copied_sql), $held, 'no batch runs while the standby is behind');
ok($h->pumpable, 'the backfill is still running, waiting');
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$h->finish;
is($? >> 8, 0, 'the backfill finished after replay resumed') or diag($$e);
note("backfill log:\n$$e");
like($$e, qr/backfill of public\.ev: paused: standby lag \S+ \S+ > 1 s/, 'its log says why it paused');
like($$e, qr/backfill of public\.ev: resumed after/, 'and that it resumed');
like($$o, qr/^pauses\s+[1-9]\d*, .* in all \(last: standby lag/m, 'the report counts the pauses');
like($$o, qr/^backfill\s+complete$/m, 'the backfill is complete');
is(psql_ok($node, $state_sql), '', 'no state is left once it ended');

pgpart_ok($node, 'verify', 'migrate', 'verify', 'ev');
pgpart_ok($node, 'switch', 'migrate', 'switch', 'ev');
is(table_fingerprint($node, 'ev'), $before, 'the partitioned table has exactly the rows');
pgpart_ok($node, 'rollback', 'migrate', 'rollback', 'ev');
pgpart_ok($node, 'rollback start', 'migrate', 'rollback', 'ev');

# ---- limits changed while it runs: --rate lowered makes it wait, raised lets it go
pgpart_ok($node, 'start again', 'migrate', 'start', 'ev', '--column', 'occurred_at', '--start', '2025-01-01',
	'--time-zone', 'UTC');
($h, $o, $e) = start_backfill('--batch-size', '100');
pgpart_ok($node, 'lower the rate of the running backfill', 'migrate', 'limits', 'ev', '--rate', '1');
wait_for('the running backfill follows the lowered rate',
	sub { psql_ok($node, $state_sql) =~ /^slowed: --rate 1 rows\/s$/ });
$held = psql_ok($node, $copied_sql);
like(pgpart_ok($node, 'limits shows it', 'migrate', 'limits', 'ev'), qr/^state\s+slowed: --rate 1 rows\/s/m,
	'migrate limits shows what the running backfill does');
pgpart_ok($node, 'pause it', 'migrate', 'limits', 'ev', '--pause');
wait_for('an operator pause is said',
	sub { psql_ok($node, $state_sql) =~ /^paused: by an operator/ });
cmp_ok(psql_ok($node, $copied_sql), '<=', $held + 100, 'at most the batch under way ran');
pgpart_ok($node, 'resume and raise the rate', 'migrate', 'limits', 'ev', '--resume', '--rate', '1000000');
$h->finish;
is($? >> 8, 0, 'the backfill finished at the raised rate') or diag($$e);
like($$e, qr/paused: by an operator/, 'its log says it was paused by an operator');
like($$o, qr/^backfill\s+complete$/m, 'complete');
pgpart_ok($node, 'verify the second copy', 'migrate', 'verify', 'ev');
like(pgpart_ok($node, 'reset', 'migrate', 'limits', 'ev', '--reset'), qr/^rate\s+as given to the running command$/m,
	'--reset goes back to the command line');
pgpart_fails($node, 'limits cannot name a probe', 2, qr/cannot change the probe function/, 'migrate', 'limits',
	'ev', '--probe', 'ops.latency_ms');

# ---- the oldest transaction: an open transaction older than --max-xact-age pauses
my $bg = $node->background_psql('postgres');
$bg->query_safe('BEGIN; SELECT txid_current()');
pgpart_ok($node, 'rollback for the third run', 'migrate', 'rollback', 'ev');
pgpart_ok($node, 'start a third time', 'migrate', 'start', 'ev', '--column', 'occurred_at', '--start',
	'2025-01-01', '--time-zone', 'UTC');
wait_for('the open transaction is older than the limit', sub {
	psql_ok($node, q{SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'
		AND clock_timestamp() - xact_start > interval '1.5 s'}) > 0 });
($h, $o, $e) = start_backfill('--batch-size', '100', '--max-xact-age', '1s');
wait_for('an old transaction pauses it',
	sub { psql_ok($node, $state_sql) =~ /^paused: oldest transaction .* > 1 s$/ });
$bg->query_safe('COMMIT');
$bg->quit;
$h->finish;
is($? >> 8, 0, 'it finished once the transaction ended') or diag($$e);
note("backfill log:\n$$e");

# ---- the other long copies wait on the same limits while the standby is behind
# Runs pgpart with the standby's replay paused: it must wait, say why in
# pgpart.throttle_limit.state (of rel) and its log, and finish once replay goes on.
sub waits_for_replay
{
	my ($what, $rel, @cmd) = @_;
	my $st = qq{SELECT coalesce(state, '') FROM pgpart.throttle_limit WHERE relation = '$rel'::regclass};
	my ($o, $e) = ('', '');
	$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
	# WAL the standby has not replayed, older than the 1 s limit
	psql_ok($node, 'CREATE TABLE lag_marker (x int); DROP TABLE lag_marker');
	my $h = IPC::Run::start([ $ENV{PGPART}, '-v', '-d', $node->connstr('postgres'), @cmd ],
		'<', \undef, '>', \$o, '2>', \$e);
	wait_for("$what waits while the standby is behind",
		sub { psql_ok($node, $st) =~ /^paused: standby lag .* > 1(\.0)? s$/ });
	ok($h->pumpable, "$what is still running, waiting");
	$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
	$h->finish;
	is($? >> 8, 0, "$what finished after replay resumed") or diag($e);
	like($e, qr/: paused: standby lag \S+ \S+ > 1 s/, "$what: its log says why it waited");
	like($e, qr/: resumed after/, "$what: and that it went on");
	is(psql_ok($node, $st), '', "$what: no state is left once it ended");
	return $o;
}

psql_ok($node, q{
	CREATE TABLE dr (id bigint, occurred_at timestamptz NOT NULL, v text);
});
pgpart_ok($node, 'create dr', 'create', 'dr', '--column', 'occurred_at', '--interval', 'month',
	'--start', '2025-01-01', '--premake', '0', '--time-zone', 'UTC');
# a closed month before the first partition: its rows wait in the default partition
psql_ok($node, q{INSERT INTO dr SELECT g, timestamptz '2024-06-01 00:00+00' + g * interval '1 minute', 'd'
	FROM generate_series(1, 3000) g});
is(psql_ok($node, 'SELECT count(*) FROM ONLY dr_default'), '3000', 'rows wait in the default partition');
my $dr_before = table_fingerprint($node, 'dr');
pgpart_fails($node, 'health limits without batches', 2, qr/need --drain-batch-rows/, 'maintain', 'dr',
	'--max-lag', '1s');
my $mout = waits_for_replay('maintain\'s drain', 'dr', 'maintain', 'dr', '--drain-batch-rows', '500',
	'--max-lag', '1s');
like($mout, qr/the drain paused [1-9]\d* times? for the server's health/, 'maintain says the drain paused');
is(psql_ok($node, 'SELECT count(*) FROM ONLY dr_default'), '0', 'the default partition is empty');
is(table_fingerprint($node, 'dr'), $dr_before, 'and the table has exactly its rows');

# move: in-place tablespaces, so that primary and standby do not share a directory
psql_ok($node, q{SET allow_in_place_tablespaces = on; CREATE TABLESPACE warm LOCATION ''});
my $part = psql_ok($node, q{SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
	WHERE h.inhparent = 'dr'::regclass AND c.relname <> 'dr_default' ORDER BY 1 LIMIT 1});
ok(psql_ok($node, "SELECT count(*) FROM $part") > 0, "$part holds rows");
my $part_before = table_fingerprint($node, $part);
my $vout = waits_for_replay('move', $part, 'move', 'dr', $part, '--tablespace', 'warm', '--max-lag', '1s');
like($vout, qr/waited \d+\.\d s for the server's health before the copy/, 'move says it waited');
is(psql_ok($node, qq{SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace
	WHERE c.oid = '$part'::regclass}), 'warm', 'the partition moved');
is(table_fingerprint($node, $part), $part_before, 'with exactly its rows');

# restore: archive the partition to a directory, then load it back
my $arch = PostgreSQL::Test::Utils::tempdir() . '/arch';
make_path($arch);
pgpart_ok($node, 'archive', 'archive', 'dr', $part, '--to', "file://$arch", '--no-foreign-table');
my ($manifest) = glob("$arch/*/*.manifest.json $arch/*.manifest.json $arch/*/*/*.manifest.json");
ok(defined $manifest, 'the archive wrote a manifest') or diag(`find $arch`);
my $rout = waits_for_replay('restore', 'dr', 'restore', 'dr', '--from', "file://$manifest",
	'--max-lag', '1s');
like($rout, qr/waited \d+\.\d s for the server's health before the load/, 'restore says it waited');
is(table_fingerprint($node, $part), $part_before, 'the restored partition has exactly its rows');

done_testing();
