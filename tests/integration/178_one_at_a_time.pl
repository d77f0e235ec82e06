# One pgpart at a time per table: two backfills of one table started together
# end with one copying and the other refused with exit 4, naming the first's
# pid and command; switch, verify --repair, rollback, start and a third backfill are refused
# (or, with --wait, wait) while it runs, and the copy is right afterwards.
# On a partitioned table, archive, move, restore and maintain are refused the same way
# while another pgpart holds it, and "pgpart run" skips it without failing.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use IPC::Run ();
use File::Path qw(make_path);

my $node = new_cluster('oneatatime');
my $test_build = `$ENV{PGPART} --version` =~ /test build/;
seed_schema($node);
pgpart_ok($node, 'init', 'init');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=3000', '-v', 'orgs=20',
		'-v', 'future_rows=0', '-d', $node->connstr('postgres'), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load 3000 rows');
my $source_before = table_fingerprint($node, 'revenues');
pgpart_ok($node, 'start', 'migrate', 'start', 'revenues', '--column', 'occurred_at');

# the backend pid of the session holding revenues' work lock, '' when none
sub holder_pid
{
	my ($table) = @_;
	return psql_ok($node, qq{SELECT string_agg(pid::text, ',') FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 2
		AND classid = hashtext('pgpart')::oid AND objid = '$table'::regclass::oid});
}

# ---- two backfills started together: one copies, the other is refused
# (a slow one: batches of 50 rows at 300 rows/s take about 10 s for 3000 rows)
my @slow = ('migrate', 'backfill', 'revenues', '--batch-size', '50', '--rate', '300');
my (%out, %err, %h);
for my $k ('a', 'b')
{
	($out{$k}, $err{$k}) = ('', '');
	$h{$k} = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), @slow ],
		'<', \undef, '>', \$out{$k}, '2>', \$err{$k});
}
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name LIKE 'pgpart migrate backfill%'}), 'one backfill runs, named in pg_stat_activity');
my $pid = holder_pid('revenues');
like($pid, qr/^\d+$/, "one session holds the work lock (pid $pid)");
is(psql_ok($node, q{SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'pgpart migrate backfill%'}),
	$pid, 'the lock holder is the backfill');

# ---- while it runs: every step that must not run beside it is refused with exit 4
my $busy = qr/another pgpart is working on public\.revenues: pgpart migrate backfill \(178_one_at_a_time\.pl\), pid $pid, over the local socket, connected since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/;
my $err = pgpart_fails($node, 'a third backfill', 4, $busy, 'migrate', 'backfill', 'revenues');
like($err, qr/hint: Wait for it to finish, or pass --wait/, 'the hint says what to do');
like($err, qr/detail: .*Nothing was changed/, 'the detail says nothing was changed');
pgpart_fails($node, 'switch during backfill', 4, $busy, 'migrate', 'switch', 'revenues');
pgpart_fails($node, 'verify --repair during backfill', 4, $busy, 'migrate', 'verify', 'revenues',
	'--repair');
pgpart_fails($node, 'rollback during backfill', 4, $busy, 'migrate', 'rollback', 'revenues');
pgpart_fails($node, 'start during backfill', 4, $busy, 'migrate', 'start', 'revenues', '--column',
	'occurred_at');
$err = pgpart_fails($node, '--wait=1s gives up', 4, $busy, '--wait=1s', 'migrate', 'backfill',
	'revenues');
like($err, qr/Waited 1 s for it/, '--wait=DUR says how long it waited');
pgpart_fails($node, 'bad --wait', 2, qr/invalid --wait "soon"/, '--wait=soon', 'migrate', 'backfill',
	'revenues');
{
	# a verify that only reads may run beside the backfill
	my ($rc) = pgpart($node, 'migrate', 'verify', 'revenues');
	isnt($rc, 4, 'plain verify is not refused');
}
is(holder_pid('revenues'), $pid, 'the first backfill still holds the table');

# --wait: polls until the first is done, then finds nothing left to copy
my $waited = pgpart_ok($node, '--wait: a backfill waits for the first', '-v', '--wait', 'migrate',
	'backfill', 'revenues');
like($waited, qr/already complete/, 'after waiting: the backfill was complete');

for my $k ('a', 'b') { $h{$k}->finish; $h{$k} = $? >> 8 }
my @rcs = sort ($h{a}, $h{b});
is("@rcs", '0 4', 'of the two backfills started together, one succeeded, one exited 4');
my ($loser) = grep { $h{$_} == 4 } ('a', 'b');
my ($winner) = grep { $h{$_} == 0 } ('a', 'b');
like($err{$loser // 'a'}, $busy, 'the refused one named the running one (pid, command, host, start)');
like($out{$winner // 'a'}, qr/backfill\s+complete/, 'the other copied everything');
unlike($err{a} . $err{b}, qr/duplicate key/, 'no duplicate key error');

like(pgpart_ok($node, 'verify', 'migrate', 'verify', 'revenues'), qr/result\s+equal/, 'verify: equal');
is(table_fingerprint($node, 'revenues_pgpart_new'), $source_before, 'the copy equals the table');
is(holder_pid('revenues'), '', 'no work lock is left behind');
is(psql_ok($node, q{SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgpart %'}), '0',
	'no session left named for a command');

# ---- a partitioned table: archive, move and maintain take turns with any other pgpart
psql_ok($node, q{TRUNCATE expenses});
pgpart_ok($node, 'create', 'create', 'expenses', '--column', 'occurred_at', '--start', '2024-10-01',
	'--premake', '1');
psql_ok($node, q{INSERT INTO expenses (org_id, property_id, occurred_at, amount)
	SELECT g % 7, g % 5, timestamptz '2024-10-01' + g * interval '2 hours', g FROM generate_series(1, 2000) g});
my $arch = PostgreSQL::Test::Utils::tempdir() . '/arch';
make_path($arch);
my $ts = $node->basedir . '/ts_warm';
mkdir $ts or die "mkdir $ts: $!";
psql_ok($node, qq{CREATE TABLESPACE warm LOCATION '$ts'});

# another pgpart archiving (its session, as pgpart names it while it works)
my $other = $node->background_psql('postgres');
$other->query_safe(q{SET application_name = 'pgpart archive'});
$other->query_safe(q{SELECT pg_advisory_lock(hashtext('pgpart'), 'expenses'::regclass::oid::integer)});
my $opid = holder_pid('expenses');
my $ebusy = qr/another pgpart is working on public\.expenses: pgpart archive, pid $opid/;
pgpart_fails($node, 'archive while another archive runs', 4, $ebusy, 'archive', 'expenses',
	'expenses_2024_q4', '--to', "file://$arch");
pgpart_fails($node, 'move while another archive runs', 4, $ebusy, 'move', 'expenses',
	'expenses_2024_q4', '--tablespace', 'warm');
my ($rc, $out, $merr) = pgpart($node, 'maintain', 'expenses');
is($rc, 4, 'maintain of a busy table: exit 4');
like($out, qr/public\.expenses: SKIPPED: another pgpart is working on public\.expenses/, 'maintain says it skipped it');
like($merr, $ebusy, 'maintain names the holder');
($rc, $out) = pgpart($node, 'run', '--once');
is($rc, 0, 'pgpart run --once: a busy table does not fail the run');
like($out, qr/maintain\s.*public\.expenses.*skipped.*another pgpart is working on public\.expenses/,
	'pgpart run logs the table as skipped');
like($out, qr/ cycle: ok/, 'and the cycle as ok');
$other->quit;

my $q4_before = table_fingerprint($node, 'expenses_2024_q4');
my $aout = pgpart_ok($node, 'archive once the other is done', 'archive', 'expenses', 'expenses_2024_q4',
	'--to', "file://$arch");
is(holder_pid('expenses'), '', 'archive released its work lock');
my ($manifest) = $aout =~ m{(file://\S+\.manifest\.json)};
ok($manifest, 'manifest url printed');

# restore waits its turn as well; afterwards the partition is back, row for row
$other = $node->background_psql('postgres');
$other->query_safe(q{SET application_name = 'pgpart maintain'});
$other->query_safe(q{SELECT pg_advisory_lock(hashtext('pgpart'), 'expenses'::regclass::oid::integer)});
$opid = holder_pid('expenses');
pgpart_fails($node, 'restore while another pgpart works on the table', 4,
	qr/another pgpart is working on public\.expenses: pgpart maintain, pid $opid/, 'restore', 'expenses',
	'--from', $manifest);
# (the archive read in place keeps the name, under the companion: restore has not replaced it)
is(psql_ok($node, q{SELECT coalesce((SELECT relkind::text FROM pg_class WHERE oid = to_regclass('expenses_2024_q4')), 'none') IN ('none', 'f')}),
	't', 'the refused restore did nothing');
$other->quit;
pgpart_ok($node, 'restore once the other is done', 'restore', 'expenses', '--from', $manifest);
is(table_fingerprint($node, 'expenses_2024_q4'), $q4_before, 'the restored partition equals the archived one');

# a real move paused in its copy holds the table: an archive of another partition waits its turn
SKIP:
{
	skip 'PGPART_TEST_MOVE_PAUSE needs a test build', 4 unless $test_build;
	local $ENV{PGPART_TEST_MOVE_PAUSE} = 'copy:4';
	my ($mout, $merr2) = ('', '');
	my $mv = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'move', 'expenses',
			'expenses_2025_q1', '--tablespace', 'warm' ], '<', \undef, '>', \$mout, '2>', \$merr2);
	ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
		WHERE application_name LIKE 'pgpart move%'}), 'the move runs');
	my $mpid = holder_pid('expenses');
	pgpart_fails($node, 'archive while a move runs', 4,
		qr/another pgpart is working on public\.expenses: pgpart move \(178_one_at_a_time\.pl\), pid $mpid/, 'archive',
		'expenses', 'expenses_2025_q2', '--to', "file://$arch");
	$mv->finish;
	is($? >> 8, 0, 'the move completed') or diag($merr2);
}
done_testing();
