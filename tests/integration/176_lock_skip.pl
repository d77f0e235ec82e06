# Skipping a lock attempt instead of queueing: while another session holds a
# lock that conflicts with what switch (ACCESS EXCLUSIVE on both tables) or
# maintain's ATTACH (ACCESS EXCLUSIVE on the default partition) needs, and
# will not let go soon (here: idle in transaction, like a forgotten psql),
# pgpart sends no lock request at all, so no writer can queue behind it; it
# looks again after a backoff and goes ahead once the holder is gone.  When
# the holder stays, it gives up naming it, and nothing has changed.
#
# The look covers what the attempt will lock: an autovacuum (a real one) of
# one partition of the partitioned copy makes switch skip as surely as a
# holder of the parent.  An application's transaction that is between two
# of its statements (idle in transaction for a moment) is not a long holder:
# the attempt is sent and waits for it.  After an attempt that timed out,
# the next one waits at least twice as long as that one queued, so that the
# writers' backlog drains.
#
# The evidence is the server's: its statement log (log_statement = all) shows
# pgpart's look at pg_locks before each attempt and no lock request while the
# holder is there, log_lock_waits shows no pgpart process waiting for a lock,
# and the holder pgpart names is the holder's own pg_backend_pid() (or the
# autovacuum worker's, as pg_stat_activity names it).
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use IPC::Run ();

# no autovacuum: this test names the only holder there is
my $node = new_cluster('lockskip', conf => "autovacuum = off\ndeadlock_timeout = 10ms");
seed_schema($node);
pgpart_ok($node, 'init', 'init');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=2000', '-v', 'orgs=20',
		'-d', $node->connstr('postgres'), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load 2000 rows');
# a partition big enough that a throttled autovacuum of it lasts (section
# "autovacuum of a partition")
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount)
	SELECT 1, 1, timestamptz '2025-01-01' + g * interval '1 minute', 1 FROM generate_series(1, 30000) g});

# the server log from byte $from on
sub log_from
{
	my ($from) = @_;
	return PostgreSQL::Test::Utils::slurp_file($node->logfile, $from);
}

# pgpart's statements as the statement log shows them (log_line_prefix has
# %a; the harness's PGAPPNAME would name every session after the test file)
my $conn = $node->connstr('postgres') . ' application_name=pgpart_under_test';
# while pgpart holds its work lock, its application_name names the command and
# keeps the one given here in brackets: "pgpart migrate switch (pgpart_under_test)"
my $app = qr/(?:pgpart [^\]]*\()?pgpart_under_test\)?/;
my $look_re = qr/\] $app LOG:  execute [^:]*: WITH RECURSIVE t\(rel, mode, scope\)/;
my $lock_re = qr/\] $app LOG:  execute [^:]*: LOCK TABLE/;
my $wait_re = qr/\] $app LOG:  process \d+ still waiting for/;

sub count_of { my ($re, $text) = @_; my @m = ($text =~ /$re/g); return scalar @m }

# pgpart in the background; waits until its statement log shows $n looks
sub start_behind_holder
{
	my ($from, $n, @args) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ $ENV{PGPART}, '-d', $conn, @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	# a bound so that a broken pgpart fails the test instead of hanging it
	for (my $i = 0; $i < 1200 && count_of($look_re, log_from($from)) < $n; $i++)
	{
		$h->pump_nb;
		last unless $h->pumpable;
		select(undef, undef, undef, 0.05);
	}
	return ($h, \$out, \$err);
}

# a session that holds a lock until told otherwise, and its pid; unless
# $young, it returns once its transaction is older than half of the default
# --lock-timeout, so that a weak lock of it counts as long from the first look
sub holder
{
	my ($sql, $young) = @_;
	my $s = $node->background_psql('postgres');
	my $pid = $s->query_safe("SET application_name = 'holder'; SELECT pg_backend_pid()");
	$pid =~ s/\s+//g;
	$s->query_safe("BEGIN; $sql");
	$node->poll_query_until('postgres', "SELECT clock_timestamp() - xact_start > interval '0.2 s'
		FROM pg_stat_activity WHERE pid = $pid") or die "holder $pid: no transaction"
	  unless $young;
	return ($s, $pid);
}

# waits (bounded) until the server log from $from on matches $re
sub wait_for_log
{
	my ($h, $from, $re) = @_;
	for (my $i = 0; $i < 1200 && log_from($from) !~ $re; $i++)
	{
		$h->pump_nb;
		last unless $h->pumpable;
		select(undef, undef, undef, 0.05);
	}
	return log_from($from) =~ $re;
}

pgpart_ok($node, 'migrate start', 'migrate', 'start', 'revenues', '--column', 'occurred_at');
pgpart_ok($node, 'backfill', 'migrate', 'backfill', 'revenues');
pgpart_ok($node, 'verify', 'migrate', 'verify', 'revenues');

# ---- switch behind an autovacuum-like SHARE UPDATE EXCLUSIVE holder
my ($hold, $hpid) = holder('LOCK TABLE revenues IN SHARE UPDATE EXCLUSIVE MODE');
my $from = -s $node->logfile;
my ($h, $out, $err) = start_behind_holder($from, 3, '--json', '-v', '--retries', '1000', 'migrate',
	'switch', 'revenues');
my $while_held = log_from($from);
cmp_ok(count_of($look_re, $while_held), '>=', 3, 'pgpart looked for holders before its attempts');
is(count_of($lock_re, $while_held), 0, 'and sent no lock request while the holder was there');
$hold->query_safe('COMMIT');
$h->finish;
is(($h->results)[0], 0, 'switch succeeded once the holder was gone') or diag($$err);
my $all = log_from($from);
my $j = decode_json($$out);
cmp_ok($j->{skipped_attempts}, '>=', 3, "attempts skipped ($j->{skipped_attempts})");
is($j->{lock_attempts}, $j->{skipped_attempts} + 1, 'one attempt sent, after the skipped ones');
is(count_of($lock_re, $all), $j->{lock_attempts} - $j->{skipped_attempts},
	'the server received exactly the attempts pgpart says it sent');
is(count_of($wait_re, $all), 0, 'log_lock_waits: pgpart never waited in the lock queue');
is($j->{lock_holder}{pid}, $hpid, "the holder named is the holder's pg_backend_pid() ($hpid)");
is($j->{lock_holder}{mode}, 'ShareUpdateExclusiveLock', 'with its mode');
is($j->{lock_holder}{state}, 'idle in transaction', 'and its state');
like($j->{lock_holder}{relation}, qr/revenues/, 'on the table');
ok($j->{lock_holder}{granted}, 'a granted lock, not a queued one');
like($$err, qr/lock attempt 1 of 1000 skipped: pid $hpid \(holder, idle in transaction, transaction open since [^)]+\) holds ShareUpdateExclusiveLock on/,
	'the retry log line says who held it');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE oid = 'revenues'::regclass}), 'p',
	'revenues is partitioned now');
$hold->quit;

# ---- giving up: rollback behind a reader that stays
($hold, $hpid) = holder('SELECT count(*) FROM revenues');
my ($rc, $o, $e) = pgpart($node, 'migrate', 'rollback', 'revenues', '--retries', '3');
is($rc, 1, 'rollback gives up: exit 1');
like($e, qr/^pgpart: error: could not get the locks needed after 3 attempts: pid $hpid \(holder, idle in transaction, transaction open since [^)]+\) holds AccessShareLock on/m,
	'the error names the holder');
like($e, qr/pg_cancel_backend\($hpid\)/, 'and says what to do');
is(scalar(() = $e =~ /^pgpart: error:/mg), 1, 'one error line');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE oid = 'revenues'::regclass}), 'p',
	'nothing half-done: revenues is still the partitioned table');
is(psql_ok($node, q{SELECT phase FROM pgpart.migration WHERE table_name = 'revenues'}), 'switched',
	'and the migration is still switched');
$hold->query_safe('COMMIT');
$hold->quit;

# ---- a writer between two of its statements is not a long holder
# It has just inserted a row and is idle in transaction, as an application
# is for a moment between its statements: the attempt is sent (and waits for
# it: --lock-timeout 30s), not skipped.
($hold, $hpid) = holder(q{INSERT INTO revenues (org_id, property_id, occurred_at, amount)
	VALUES (1, 1, '2025-02-01', 1)}, 'young');
$from = -s $node->logfile;
($h, $out, $err) = start_behind_holder($from, 1, '--json', '--lock-timeout', '30s', 'migrate',
	'rollback', 'revenues');
ok(wait_for_log($h, $from, $wait_re), 'rollback sent its attempt behind the writer and waited (log_lock_waits)');
$hold->query_safe('COMMIT');
$h->finish;
is(($h->results)[0], 0, 'and rolled back once the writer committed') or diag($$err);
$j = decode_json($$out);
is($j->{skipped_attempts}, 0, 'no attempt skipped because of a writer idle in transaction');
is(count_of($lock_re, log_from($from)), 1, 'the server received one lock request');
$hold->quit;

# ---- autovacuum of one partition of the copy
# switch's LOCK TABLE of the partitioned copy locks each of its partitions:
# an autovacuum of one of them (throttled here so that it lasts) would make
# the attempt wait.  Only that partition may be vacuumed.
my $part = psql_ok($node, q{SELECT tableoid::regclass FROM revenues_pgpart_new
	WHERE occurred_at = timestamptz '2025-01-01' + interval '1 minute'});
for my $rel (split /\n/, psql_ok($node, q{SELECT c.oid::regclass FROM pg_class c
	WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace}))
{
	next if $rel eq $part;
	psql_ok($node, "ALTER TABLE $rel SET (autovacuum_enabled = false)");
}
psql_ok($node, "ALTER TABLE $part SET (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0,
	autovacuum_analyze_threshold = 0, autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1)");
# dead rows in the partition: the mirror trigger updates the copy
psql_ok($node, q{UPDATE revenues SET amount = amount + 1 WHERE occurred_at >= '2025-01-01' AND occurred_at < '2025-01-03'});
psql_ok($node, "ALTER SYSTEM SET autovacuum = on; ALTER SYSTEM SET autovacuum_naptime = 1; SELECT pg_reload_conf()");
my $avq = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'
	AND query LIKE '%$part%'";
ok($node->poll_query_until('postgres', "SELECT EXISTS ($avq)"), "an autovacuum worker vacuums $part");
my $avpid = psql_ok($node, $avq);
$from = -s $node->logfile;
($h, $out, $err) = start_behind_holder($from, 3, '--json', '-v', '--retries', '1000', 'migrate',
	'switch', 'revenues');
$while_held = log_from($from);
cmp_ok(count_of($look_re, $while_held), '>=', 3, 'switch looked for holders before its attempts');
is(count_of($lock_re, $while_held), 0, 'and sent no lock request while autovacuum held the partition');
psql_ok($node, "ALTER SYSTEM SET autovacuum = off; SELECT pg_reload_conf()");
psql_ok($node, "SELECT pg_cancel_backend(pid) FROM ($avq) w");
$h->finish;
is(($h->results)[0], 0, 'switch succeeded once the autovacuum was gone') or diag($$err);
$j = decode_json($$out);
cmp_ok($j->{skipped_attempts}, '>=', 3, "attempts skipped ($j->{skipped_attempts})");
is($j->{lock_holder}{who}, 'autovacuum worker', 'the holder named is autovacuum');
is($j->{lock_holder}{pid}, $avpid, "its pid ($avpid)");
like($j->{lock_holder}{relation}, qr/(?:^|\.)\Q$part\E$/, "on the partition ($part), not the table");
is($j->{lock_holder}{mode}, 'ShareUpdateExclusiveLock', 'with its mode');
is(count_of($wait_re, log_from($from)), 0, 'log_lock_waits: switch never waited in the lock queue');
is(count_of($lock_re, log_from($from)), $j->{lock_attempts} - $j->{skipped_attempts},
	'the server received exactly the attempts pgpart says it sent');

# ---- after a timed-out attempt the writers' backlog drains first
# A reader whose transaction is younger than half of --lock-timeout 3s is
# not a long holder: the attempt is sent and times out behind it; the next
# one starts at least twice as long after the timeout as the first queued
# (times from the server's log).
($hold, $hpid) = holder('SELECT count(*) FROM revenues', 'young');
$from = -s $node->logfile;
($h, $out, $err) = start_behind_holder($from, 1, '--json', '--lock-timeout', '3s', 'migrate',
	'rollback', 'revenues');
my $timeout_re = qr/\] $app ERROR:  canceling statement due to lock timeout/;
ok(wait_for_log($h, $from, $timeout_re), 'the first attempt timed out behind the reader');
$hold->query_safe('COMMIT');
$h->finish;
is(($h->results)[0], 0, 'rollback succeeded once the reader was gone') or diag($$err);
$j = decode_json($$out);
is($j->{lock_attempts}, 2, 'in its second attempt');
is($j->{skipped_attempts}, 0, 'none skipped');
my @ev;	# [ms of the day, what] of pgpart's looks, lock requests and timeouts
for my $line (split /\n/, log_from($from))
{
	next unless $line =~ /^\d{4}-\d\d-\d\d (\d\d):(\d\d):(\d\d\.\d+) .*\] $app (?:LOG|ERROR):  (.*)/;
	my ($t, $what) = ((($1 * 60 + $2) * 60 + $3) * 1000, $4);
	push @ev, [ $t, 'look' ] if $what =~ /^execute [^:]*: WITH RECURSIVE t\(rel, mode, scope\)/;
	push @ev, [ $t, 'lock' ] if $what =~ /^execute [^:]*: LOCK TABLE/;
	push @ev, [ $t, 'timeout' ] if $what =~ /^canceling statement due to lock timeout/;
}
my ($lock1) = grep { $_->[1] eq 'lock' } @ev;
my ($tmo) = grep { $_->[1] eq 'timeout' } @ev;
my ($look2) = grep { $_->[1] eq 'look' && $_->[0] > $tmo->[0] } @ev;
ok($lock1 && $tmo && $look2, 'the server logged the lock request, its timeout and the next look');
my $queued = $tmo->[0] - $lock1->[0];
# the log's times are to the millisecond: 3 ms for their rounding
cmp_ok($look2->[0] - $tmo->[0], '>=', 2 * $queued - 3,
	sprintf('the next look came %.0f ms after the timeout, at least twice the %.0f ms queued',
		$look2->[0] - $tmo->[0], $queued));
$hold->quit;

# ---- maintain's ATTACH behind a long reader of the default partition
psql_ok($node, 'TRUNCATE expenses');
pgpart_ok($node, 'create expenses', 'create', 'expenses', '--column', 'occurred_at', '--start',
	'2025-01-01', '--premake', '2');
my $last = psql_ok($node, q{SELECT max(c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'expenses'::regclass AND c.relname <> 'expenses_default'});
psql_ok($node, qq{DROP TABLE "$last"});
($hold, $hpid) = holder('SELECT count(*) FROM expenses_default');
$from = -s $node->logfile;
($h, $out, $err) = start_behind_holder($from, 2, '--json', '--retries', '1000', 'maintain', 'expenses');
$while_held = log_from($from);
cmp_ok(count_of($look_re, $while_held), '>=', 2, 'maintain looked for holders before its attempts');
is(count_of($lock_re, $while_held), 0, 'and sent no lock request while the reader was there');
$hold->query_safe('COMMIT');
$h->finish;
is(($h->results)[0], 0, 'maintain succeeded once the reader was gone') or diag($$err);
$all = log_from($from);
my $t = decode_json($$out)->{tables}[0];
ok($t->{ok}, 'maintain ran');
is_deeply($t->{partitions_created}, [$last], 'and recreated the dropped partition');
cmp_ok($t->{skipped_attempts}, '>=', 2, "attempts skipped ($t->{skipped_attempts})");
is($t->{lock_holder}{pid}, $hpid, "the holder named is the reader's pg_backend_pid() ($hpid)");
is($t->{lock_holder}{mode}, 'AccessShareLock', 'with its mode');
like($t->{lock_holder}{relation}, qr/expenses_default/, 'on the default partition');
is(count_of($wait_re, $all), 0, 'log_lock_waits: maintain never waited in the lock queue');
$hold->quit;

# ---- archive's DETACH (plain: the table has a default partition) behind a
# reader of the partition
my $arch = PostgreSQL::Test::Utils::tempdir();
psql_ok($node, q{INSERT INTO expenses (org_id, property_id, occurred_at, amount)
	SELECT g, 1, timestamptz '2025-01-02' + g * interval '1 hour', g FROM generate_series(1, 50) g});
($hold, $hpid) = holder('SELECT count(*) FROM expenses_2025_q1');
$from = -s $node->logfile;
($h, $out, $err) = start_behind_holder($from, 2, '--json', '--retries', '1000', 'archive', 'expenses',
	'expenses_2025_q1', '--to', "file://$arch");
$while_held = log_from($from);
is(count_of(qr/\] $app LOG:  execute [^:]*: ALTER TABLE .* DETACH PARTITION/, $while_held), 0,
	'archive sent no DETACH while the reader was there');
$hold->query_safe('COMMIT');
$h->finish;
is(($h->results)[0], 0, 'archive succeeded once the reader was gone') or diag($$err);
my $a = decode_json($$out)->{archived}[0];
cmp_ok($a->{skipped_attempts}, '>=', 2, "DETACH attempts skipped ($a->{skipped_attempts})");
is($a->{lock_holder}{pid}, $hpid, "the holder named is the reader's pg_backend_pid() ($hpid)");
# (the archive read in place may keep its name, under the companion: not the table)
is(psql_ok($node, q{SELECT NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = 'expenses'::regclass
	AND inhrelid = to_regclass('expenses_2025_q1'))}), 't', 'and the partition is archived');
is(count_of($wait_re, log_from($from)), 0, 'log_lock_waits: archive never waited in the lock queue');
$hold->quit;

done_testing();
