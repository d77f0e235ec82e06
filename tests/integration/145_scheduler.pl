# Two "pgpart run --every 2s" against one database: only one acts (the
# leader lock), kill -9 of the leader hands over to the other within one
# interval, which then acts; SIGHUP logs a reload; SIGTERM exits 0 and leaves
# no session behind; --once; bad input.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PgpartTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = new_cluster('scheduler');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--premake', '1');
my $dir = $ENV{TESTDIR};

sub start_run
{
	my ($name) = @_;
	my $h = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'run', '--every', '2s',
			'--log-format', 'json', '--lock-timeout', '500ms' ],
		'<', \undef, '>', "$dir/$name.log", '2>', "$dir/$name.err");
	return $h;
}

sub events
{
	my ($name) = @_;
	open(my $fh, '<', "$dir/$name.log") or return ();
	my @ev;
	while (my $line = <$fh>)
	{
		my $e = eval { decode_json($line) };
		if ($e) { push @ev, $e } else { fail("$name: a log line is not JSON: $line") }
	}
	return @ev;
}

sub wait_for
{
	my ($what, $timeout, $cond) = @_;
	my $t0 = time;
	while (time - $t0 < $timeout)
	{
		return time - $t0 if $cond->();
		sleep 0.1;
	}
	fail("timed out waiting for $what");
	return undef;
}

sub leads { my ($name) = @_; return scalar grep { $_->{action} eq 'leader' && $_->{result} eq 'ok' } events($name) }

my %h = (a => start_run('a'));
wait_for('a to lead', 15, sub { leads('a') });
$h{b} = start_run('b');
wait_for('b to wait', 15, sub { grep { $_->{action} eq 'follower' } events('b') });
sleep 4.5;    # two intervals with both running

is(leads('a'), 1, 'the first instance leads');
is(leads('b'), 0, 'the second does not');
ok((grep { $_->{action} eq 'cycle' } events('a')) >= 2, 'the leader runs a cycle every interval');
is(scalar(grep { $_->{action} =~ /^(maintain|vacuum|analyze|cycle)$/ } events('b')), 0, 'the follower never acts');
is(psql_ok($node, q{SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND granted
	AND relation = 'pgpart.scheduler_leader'::regclass AND mode = 'ExclusiveLock'}), '1',
	'one leader lock on the server');
# the leader's lock transaction has no xid and, between statements, no snapshot: it
# holds back no VACUUM horizon however long it leads
is(psql_ok($node, q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgpart run'
	AND state = 'idle in transaction' AND backend_xid IS NULL AND backend_xmin IS NULL}), '1',
	'the lock session is idle in transaction, without xid or xmin');
my @m = grep { $_->{action} eq 'maintain' } events('a');
ok(@m && $m[0]{table} eq 'public.revenues' && $m[0]{result} eq 'ok', 'one line per action: maintain public.revenues ok');
ok((grep { $_->{action} eq 'vacuum' && $_->{detail} =~ /skipped \(not needed\)/ } events('a')),
	'vacuum --only-needed runs in the cycle and says what it skipped');

# the leader acts: a row for a far date lands in the default partition and is moved out
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, now() + interval '3 years', 1)});
wait_for('the leader to empty the default partition', 10,
	sub { psql_ok($node, 'SELECT count(*) FROM ONLY revenues_default') eq '0' });

# kill -9 of the leader: the follower takes over within one interval
my $killed_at = time;
$h{a}->signal('KILL');
$h{a}->finish;
my $took = wait_for('b to take over', 15, sub { leads('b') });
ok(defined $took && $took <= 3, sprintf('the follower took over %.1f s after kill -9 (interval 2 s, +1 s slack)', $took // -1));
my $last_a = (grep { $_->{action} eq 'maintain' } events('a'))[-1];
my ($first_b) = grep { $_->{action} eq 'maintain' } events('b');
wait_for('b to act', 10, sub { ($first_b) = grep { $_->{action} eq 'maintain' } events('b'); $first_b });
ok($first_b && $last_a && $first_b->{ts} gt $last_a->{ts}, 'no overlap: b acts only after a\'s last action');

psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, now() + interval '5 years', 1)});
wait_for('the new leader to empty the default partition', 10,
	sub { psql_ok($node, 'SELECT count(*) FROM ONLY revenues_default') eq '0' });

# --once while another instance leads: nothing done, exit 0
my ($rc, $out, $err) = pgpart($node, 'run', '--once');
is($rc, 0, '--once with another leader: exit 0');
like($out, qr/follower.*another instance holds the leader lock; nothing done/, '--once says it did nothing');

# SIGHUP: a reload, logged; leadership kept
$h{b}->signal('HUP');
wait_for('the reload line', 10, sub { grep { $_->{action} eq 'reload' } events('b') });
is(leads('b'), 1, 'still the leader after SIGHUP');

# the leader's lock session ends under it (terminated here; a network cut
# does the same): it must stop acting at once, and a follower takes over
$h{c} = start_run('c');
wait_for('c to wait', 15, sub { grep { $_->{action} eq 'follower' } events('c') });
my $lock_pid = psql_ok($node, q{SELECT pid FROM pg_locks WHERE locktype = 'relation' AND granted
	AND relation = 'pgpart.scheduler_leader'::regclass AND mode = 'ExclusiveLock'});
psql_ok($node, "SELECT pg_terminate_backend($lock_pid)");
wait_for('c to take over', 15, sub { leads('c') });
wait_for('b to notice', 15, sub { grep { $_->{action} eq 'follower' && $_->{detail} =~ /lost the leader lock/ } events('b') });
my ($c_leads) = grep { $_->{action} eq 'leader' && $_->{result} eq 'ok' } events('c');
my @late = grep { $_->{action} =~ /^(maintain|vacuum|analyze)$/ && $_->{ts} ge $c_leads->{ts} } events('b');
is(scalar @late, 0, 'the old leader did nothing after the new one took the lock');
sleep 2.5;
is(scalar(grep { $_->{action} =~ /^(maintain|vacuum|analyze)$/ && $_->{ts} ge $c_leads->{ts} } events('b')), 0,
	'nor an interval later: it is a follower now');
$h{c}->signal('TERM');
$h{c}->finish;
is($? >> 8, 0, 'the new leader stops on SIGTERM: exit 0');

# SIGTERM: exits 0, lock released, no session left
$h{b}->signal('TERM');
$h{b}->finish;
is($? >> 8, 0, 'SIGTERM: exit 0');
ok((grep { $_->{action} eq 'stop' } events('b')), 'logs that it stops');
my $berr = '';
if (open(my $fh, '<', "$dir/b.err")) { local $/; $berr = <$fh> // ''; }
is($berr, '', 'nothing on stderr');
wait_for('sessions to end', 5, sub {
	psql_ok($node, q{SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'pgpart%'}) eq '0' });

# --once with no other instance: one cycle, text log
($rc, $out, $err) = pgpart($node, 'run', '--once');
is($rc, 0, '--once alone: exit 0');
like($out, qr/^\S+Z pgpart\[\d+\] leader: ok/m, 'text log: takes the lead');
like($out, qr/^\S+Z pgpart\[\d+\] maintain public\.revenues: ok in \d+ ms/m, 'text log: one line for maintain');
like($out, qr/^\S+Z pgpart\[\d+\] cycle: ok/m, 'text log: the cycle');

# bad input
pgpart_fails($node, 'interval 0', 2, qr/invalid --every "0"/, 'run', '--every', '0');
pgpart_fails($node, 'interval junk', 2, qr/invalid --every "soon"/, 'run', '--every', 'soon');
pgpart_fails($node, 'interval too short', 2, qr/invalid --every "100ms" \(at least 1s/, 'run', '--every', '100ms');
pgpart_fails($node, 'bad log format', 2, qr/invalid --log-format "xml"/, 'run', '--log-format', 'xml');
pgpart_fails($node, 'bad metrics address', 2, qr/invalid --metrics-addr "nowhere"/, 'run', '--metrics-addr', 'nowhere');
pgpart_fails($node, 'a table argument', 2, qr/unexpected argument "revenues"/, 'run', 'revenues');
my ($urc, undef, $uerr) = PgpartTest::run_raw('-d', 'host=127.0.0.1 port=1 connect_timeout=2', 'run', '--once');
is($urc, 1, 'unreachable server: exit 1');
like($uerr, qr/^pgpart: error: .*(connect|connection)/mi, 'unreachable server: clear error');
($urc, undef, $uerr) = PgpartTest::run_raw('-d', 'host=127.0.0.1 port=1 connect_timeout=2', 'run', '--every', '2s');
is($urc, 1, 'unreachable server at start of a daemon run: exit 1 at once');
$node->safe_psql('postgres', 'CREATE DATABASE empty');
my ($erc, undef, $eerr) = PgpartTest::run_raw('-d', $node->connstr('empty'), 'run');
is($erc, 1, 'database without pgpart: exit 1');
like($eerr, qr/pgpart is not initialised in this database/, 'says to run init');

done_testing();
