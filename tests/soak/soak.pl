# soak.pl - a randomized, seeded soak of pgpart on a private cluster: pgbench
# writers mirror every change into control tables while pgpart operations and
# faults happen at random moments; checkpoints compare every table with its
# control copy, rollups with their detail rows, and run pg_amcheck.
#
#   tests/soak/run [--seed=N] [--duration=90s|30m] [--rate=TX_PER_S]
#                  [--report=FILE.md] [--workdir=DIR]
#
# The seed (printed; random when not given) fixes the schedule of operations
# and faults and the writers' random choices (pgbench --random-seed per
# chunk): the same seed replays the same schedule.  Timing on a loaded
# machine still varies, which is the point of running it again and again.
#
# The oracle.  Writers of kind "rr" run REPEATABLE READ transactions of two
# statements (table, then control): one snapshot for both, so they agree; a
# conflict is a serialization failure that pgbench retries (--max-tries).
# Writers of kind "rc" run one READ COMMITTED statement that changes both
# (a data-modifying CTE: one snapshot): what a READ COMMITTED application does,
# and the kind that would show a row pgpart moved under a writer and that the
# writer's DELETE then silently skipped.  (Two READ COMMITTED statements are
# no oracle at all: each has its own snapshot; see
# tests/isolation/specs/writer-snapshot.spec.in, issue 22.)
#
# Writers touch only rows they inserted (ids above the initial load), dated
# from 30 days ago to years ahead, and move them by +-95 days (back only
# from a year ahead): the closed partitions of the initial load, which
# archive and move work on, are never written, so the move's write guard
# never refuses a writer.  Archive runs with --no-foreign-table: archived rows
# leave the table, so a comparison leaves out the control rows of the ranges
# archived at that moment; each archived partition is restored later (and at
# the end), after which its rows must be back, equal.
use strict;
use warnings;
use Getopt::Long;
use POSIX qw(:sys_wait_h strftime);
use Time::HiRes qw(time sleep);
use File::Path qw(make_path);
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;

my %o = (duration => '90s', rate => 150, clients => 4);
GetOptions(\%o, 'seed=i', 'duration=s', 'rate=i', 'clients=i', 'report=s', 'chunk=i')
  or die "usage: soak.pl [--seed=N] [--duration=DUR] [--rate=N] [--report=FILE]\n";
my $seed = $o{seed} // int(rand(2**31));
my $duration = parse_duration($o{duration});
my $chunk = $o{chunk} // ($duration <= 120 ? 8 : 20);
diag("soak: seed $seed, duration ${duration}s, rate $o{rate} tx/s, $o{clients} clients "
	  . "(replay: tests/soak/run --seed=$seed --duration=$o{duration})");
srand($seed);

sub parse_duration
{
	my ($d) = @_;
	return $1 if $d =~ /^(\d+)s?$/;
	return $1 * 60 if $d =~ /^(\d+)m$/;
	return $1 * 3600 if $d =~ /^(\d+)h$/;
	die "bad duration \"$d\" (90s, 30m, 1h)\n";
}

my $dir = "$ENV{TESTDIR}/soak";
make_path("$dir/archive", "$dir/ts", "$dir/out");
my $t_start = time;
my @oplog;       # every step: {t, kind, args, rc, sig, secs, err, table, lo, hi}
my %count;       # operations run, by kind
my %faults;      # faults injected, by kind
my %expected_fail;    # failed operations, by kind (expected under faults)
my @problems;    # what fails the soak
sub elapsed { return sprintf('%.1f', time - $t_start) }
sub problem { my ($m) = @_; push @problems, $m; diag("PROBLEM at " . elapsed() . "s: $m") }

# ---- the cluster and the data
my $logall = $duration <= 300 ? 'all' : 'ddl';
my $node = new_cluster('soak', conf => join("\n",
	"log_line_prefix = '%m [%p] %x/%v %a '", "log_statement = '$logall'", 'max_connections = 80',
	'lock_timeout = 0', 'log_min_messages = warning'));
my $tsdir = "$dir/ts";
psql_ok($node, qq{ALTER DATABASE postgres SET timezone = 'UTC'; CREATE EXTENSION amcheck;
	CREATE TABLESPACE warm LOCATION '$tsdir'});
seed_schema($node);
pgpart_ok($node, 'init', 'init');
my $start = psql_ok($node, q{SELECT (date_trunc('quarter', now()) - interval '2 years')::date});
pgpart_ok($node, 'create revenues', 'create', 'revenues', '--column', 'occurred_at', '--start', $start,
	'--premake', '2');
# the initial load: closed partitions (archive and move work on them) and the
# plain table that "migrate" will partition
psql_ok($node, qq{
	CREATE TABLE revenues_control (LIKE revenues); ALTER TABLE revenues_control ADD PRIMARY KEY (id);
	CREATE TABLE expenses_control (LIKE expenses); ALTER TABLE expenses_control ADD PRIMARY KEY (id);
	WITH r AS (INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
		SELECT g % 200, g % 7, timestamptz '$start' + (g % 600) * interval '1 day' + g * interval '1 second',
		  g % 1000, (ARRAY['pending', 'approved', 'rejected'])[g % 3 + 1], 'rent'
		FROM generate_series(1, 12000) g RETURNING *)
	INSERT INTO revenues_control SELECT * FROM r;
	WITH e AS (INSERT INTO expenses (org_id, property_id, occurred_at, amount, status, category)
		SELECT g % 200, g % 7, timestamptz '$start' + (g % 700) * interval '1 day' + g * interval '1 second',
		  g % 1000, 'approved', 'repairs'
		FROM generate_series(1, 20000) g RETURNING *)
	INSERT INTO expenses_control SELECT * FROM e;
	ANALYZE});
my %initmax = map { $_ => psql_ok($node, "SELECT max(id) FROM $_") } qw(revenues expenses);
pgpart_ok($node, 'rollup add', 'rollup', 'add', 'revenues', '--name', 'revenues_daily', '--grain', 'day',
	'--group-by', 'org_id, status', '--measures', 'sum(amount), count(*)');

# closed partitions of the initial load that writers never touch: whole range
# before 60 days ago
my @closed = split /\n/, psql_ok($node, q{
	SELECT c.relname || '|' || (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]
	  || '|' || (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'revenues'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
	  AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
	      < now() - interval '60 days'
	ORDER BY 1});
my %part = map { my ($n, $lo, $hi) = split /\|/; ($n => { lo => $lo, hi => $hi, state => 'home' }) } @closed;
die "no closed partitions to archive and move\n" unless %part;

# ---- writers: pgbench scripts
my %scripts;
for my $t (qw(revenues expenses))
{
	my $c = "${t}_control";
	my $pick = qq{SELECT max(id) AS maxid FROM $c \\gset
\\set id random($initmax{$t} + 1, greatest(:maxid, $initmax{$t} + 1))
\\set dir random(0, 3)
};
	my $move = q{occurred_at = occurred_at + CASE WHEN :dir = 0 AND occurred_at > now() + interval '1 year'
	  THEN interval '-95 days' ELSE interval '95 days' END, amount = amount + 1};
	my $ins = qq{\\set org random(1, 200)
\\set fut random(1, 5)
\\set days random(0, 1500)
WITH r AS (INSERT INTO $t (org_id, property_id, occurred_at, amount, status, category)
  VALUES (:org, 1, CASE WHEN :fut = 1 THEN now() + interval '2 years' + :days * interval '1 day'
                        ELSE now() - (:days % 30) * interval '1 day' END, :org, 'approved', 'rent')
  RETURNING *)
INSERT INTO $c SELECT * FROM r;
};
	$scripts{"${t}_insert"} = [ $ins, 30 ];
	$scripts{"${t}_update_rr"} = [ $pick . qq{BEGIN ISOLATION LEVEL REPEATABLE READ;
UPDATE $t SET $move WHERE id = :id;
UPDATE $c SET $move WHERE id = :id;
END;
}, 12 ];
	$scripts{"${t}_delete_rr"} = [ $pick . qq{BEGIN ISOLATION LEVEL REPEATABLE READ;
DELETE FROM $t WHERE id = :id;
DELETE FROM $c WHERE id = :id;
END;
}, 8 ];
	$scripts{"${t}_update_rc"} = [ $pick . qq{WITH t AS (UPDATE $t SET $move WHERE id = :id RETURNING 1)
UPDATE $c SET $move WHERE id = :id;
}, 12 ];
	$scripts{"${t}_delete_rc"} = [ $pick . qq{WITH t AS (DELETE FROM $t WHERE id = :id RETURNING 1)
DELETE FROM $c WHERE id = :id;
}, 8 ];
}
my @bench_files;
for my $k (sort keys %scripts)
{
	my $f = "$dir/$k.sql";
	open(my $fh, '>', $f) or die;
	print $fh $scripts{$k}[0];
	close $fh;
	push @bench_files, '-f', "$f\@$scripts{$k}[1]";
}

# ---- processes: spawned with fork/exec, reaped without blocking
my %proc;    # pid => {kind, name, t0, out, on_exit, killed}
sub spawn
{
	my ($kind, $name, $cmd, %a) = @_;
	my $out = "$dir/out/" . sprintf('%05d', scalar(@oplog) + keys(%proc)) . "_$name.log";
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out);
		open(STDERR, '>&', \*STDOUT);
		exec(@$cmd) or POSIX::_exit(127);
	}
	$proc{$pid} = { kind => $kind, name => $name, t0 => time, out => $out, cmd => $cmd, %a };
	return $pid;
}
sub pgpart_cmd { return [ $ENV{PGPART}, '-d', $node->connstr('postgres') . ' application_name=pgpart', @_ ] }

sub slurp_out { my ($p) = @_; return -r $p->{out} ? slurp_file($p->{out}) : '' }

# a finished pgpart step: logged; a crash or a sanitizer report fails the soak
sub reap
{
	while ((my $pid = waitpid(-1, WNOHANG)) > 0)
	{
		my $st = $?;
		my $p = delete $proc{$pid} or next;
		my ($rc, $sig) = ($st >> 8, $st & 127);
		my $text = slurp_out($p);
		my $entry = { t => sprintf('%.1f', $p->{t0} - $t_start), secs => sprintf('%.1f', time - $p->{t0}),
			kind => $p->{kind}, name => $p->{name}, rc => $rc, sig => $sig, table => $p->{table},
			lo => $p->{lo}, hi => $p->{hi}, err => ($text =~ /^(pgpart: error: .*)$/m ? $1 : '') };
		$p->{entry} = $entry;
		push @oplog, $entry if $p->{kind} ne 'writers';
		if ($p->{kind} ne 'writers')
		{
			if (($sig && !($sig == 9 && $p->{killed})) || $rc >= 128)
			{
				problem("pgpart crashed: $p->{name} (exit $rc, signal $sig): @{$p->{cmd}}\n$text");
			}
			problem("sanitizer report from $p->{name}:\n$text")
			  if $text =~ /(AddressSanitizer|LeakSanitizer|runtime error:)/;
			$expected_fail{ $p->{kind} }++ if $rc != 0 || $sig;
		}
		$p->{on_exit}->($p, $rc, $sig, $text) if $p->{on_exit};
	}
}
sub running { my ($kind) = @_; return grep { $proc{$_}{kind} eq $kind } keys %proc }
sub wait_kind
{
	my ($kind, $timeout) = @_;
	my $t0 = time;
	while (running($kind))
	{
		reap();
		if (time - $t0 > $timeout)
		{
			problem("$kind still running after ${timeout}s: " . join(', ', map { $proc{$_}{name} } running($kind)));
			kill 'KILL', running($kind);
			$_->{killed} = 1 for map { $proc{$_} } running($kind);
		}
		sleep 0.1;
	}
}

# ---- writers, in chunks: each pgbench run's log is complete when it exits
my %w = (tx => 0, failed => 0, retried => 0, retries => 0, chunks => 0, broken => 0);
my $fault_until = 0;    # writer errors before this time were caused by a server restart
my $writers_on = 1;
sub start_writers
{
	$w{chunks}++;
	my $n = $w{chunks};
	spawn('writers', "writers$n", [ 'pgbench', '-n', '-c', $o{clients}, '-j', 2, '-R', $o{rate}, '-T', $chunk,
			'--random-seed', $seed + $n, '--max-tries', 20, '--failures-detailed', '-l',
			"--log-prefix=$dir/out/pgb$n", @bench_files, $node->connstr('postgres') ],
		t_end => time + $chunk, on_exit => \&writers_done);
}
sub writers_done
{
	my ($p, $rc, $sig, $text) = @_;
	$w{tx} += $1 if $text =~ /number of transactions actually processed: (\d+)/;
	$w{failed} += $1 if $text =~ /number of failed transactions: (\d+)/;
	$w{retried} += $1 if $text =~ /number of transactions retried: (\d+)/;
	$w{retries} += $1 if $text =~ /total number of retries: (\d+)/;
	my @errs = grep { !/connection|terminat|server closed|could not send|the database system is/i }
	  ($text =~ /^(?:pgbench: error: )?client \d+ (?:script \d+ )?aborted.*?(?:ERROR|FATAL|error):\s*(.*)$/mg);
	if ($rc != 0 || $text =~ /aborted/)
	{
		if ($p->{t0} < $fault_until + 1 || time < $fault_until + 1 || $p->{restart_seen})
		{
			$w{broken}++;
		}
		elsif (@errs || $rc != 0)
		{
			problem("writer errors (not serialization failures or deadlocks): "
				  . join('; ', @errs ? @errs : ("pgbench exit $rc")) . "\n" . join("\n", grep { /abort|ERROR/ } split /\n/, $text));
		}
	}
	if ($text =~ /number of failed transactions: (\d+)/ && $1 > 0 && !$p->{restart_seen})
	{
		problem("$1 writer transactions failed after 20 tries");
	}
}

# ---- pgpart run instances
my %runinst;    # name => pid
my $run_n = 0;
sub start_run
{
	my $name = 'run' . ++$run_n;
	my $pid = spawn('run', $name, pgpart_cmd('--lock-timeout', '500ms', 'run', '--every', '3s',
			'--log-format', 'json'), table => '*');
	$runinst{$name} = $pid;
	$proc{$pid}{on_exit} = sub { delete $runinst{$name} };
}
# the leader: the instance whose last leader/follower line says it leads
sub leader
{
	for my $name (sort keys %runinst)
	{
		my $p = $proc{ $runinst{$name} } or next;
		my $state = '';
		for (split /\n/, slurp_out($p))
		{
			$state = 'leader' if /"action":\s*"leader".*"result":\s*"ok"/;
			$state = 'follower' if /"action":\s*"follower"/;
		}
		return $name if $state eq 'leader';
	}
	return undef;
}

# ---- the schedule: (time, operation), drawn from the seed
my @kinds = (
	[ maintain => 6 ], [ kill_leader => 3 ], [ migrate => 8 ], [ archive => 4 ], [ restore => 4 ],
	[ move => 4 ], [ reindex => 2 ], [ rollup => 3 ], [ split => 0 ],
	[ restart => 1.5 ], [ terminate => 3 ], [ lock => 3 ], [ check => 2 ]);
my $wsum = 0;
$wsum += $_->[1] for @kinds;
my @schedule;
{
	my $t = 3;
	# about one operation every 1.2 s in short runs, 2 s up to 5 minutes, 4 s beyond
	my $gap = $duration <= 60 ? 1.2 : $duration <= 300 ? 2 : 4;
	while ($t < $duration - 5)
	{
		my $r = rand($wsum);
		my $k;
		for (@kinds) { $k = $_->[0]; last if ($r -= $_->[1]) < 0 }
		push @schedule, { t => $t, kind => $k, r => rand() };
		$t += $gap * (0.3 + 1.4 * rand());
	}
}
note("schedule: " . join(' ', map { sprintf('%.0f:%s', $_->{t}, $_->{kind}) } @schedule));

# ---- state machines of the stepwise operations
my @mig_steps = qw(start backfill_killed backfill verify switch rollback switch verify finish);
my $mig_i = 0;
sub op_migrate
{
	return if running('migrate') || $mig_i >= @mig_steps;
	my $step = $mig_steps[$mig_i];
	my @args = $step eq 'start' ? ('migrate', 'start', 'expenses', '--column', 'occurred_at', '--start', $start,
		'--premake', '2')
	  : $step =~ /^backfill/ ? ('migrate', 'backfill', 'expenses', '--batch-size', '500',
		($step eq 'backfill_killed' ? ('--rate', '4000') : ()))
	  : ('migrate', $step, 'expenses');
	my $pid = spawn('migrate', "migrate_$step", pgpart_cmd('--lock-timeout', '1s', @args), table => 'expenses',
		on_exit => sub {
			my ($p, $rc, $sig) = @_;
			# a killed backfill is expected to have stopped half-way: resume
			if ($step eq 'backfill_killed') { $mig_i++ }
			elsif ($rc == 0) { $mig_i++ }
		});
	if ($step eq 'backfill_killed')
	{
		$proc{$pid}{kill_at} = time + 0.5 + rand(1.5);
	}
	$count{"migrate $step"}++;
}
sub pick_part
{
	my ($r, @states) = @_;
	my @c = grep { my $s = $part{$_}{state}; grep { $s eq $_ } @states } sort keys %part;
	return @c ? $c[ int($r * @c) ] : undef;
}
sub op_archive
{
	my ($r) = @_;
	my $name = pick_part($r, 'home', 'warm') // return;
	return if $part{$name}{busy};
	$part{$name}{busy} = 1;
	$count{archive}++;
	spawn('archive', "archive_$name", pgpart_cmd('--lock-timeout', '1s', 'archive', 'revenues', $name,
			'--to', "file://$dir/archive", '--no-foreign-table'),
		table => 'revenues', lo => $part{$name}{lo}, hi => $part{$name}{hi},
		on_exit => sub {
			my ($p, $rc) = @_;
			$part{$name}{busy} = 0;
			$part{$name}{state} = 'archived' if archived_now($name);
		});
}
# archived, as the database says: the partition is gone from the table
sub archived_now
{
	my ($name) = @_;
	return psql_ok($node, qq{SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'revenues'::regclass AND c.relname = '$name'}) eq '0';
}
sub manifest_of
{
	my ($name) = @_;
	my $list = `$ENV{PGPART} -d '@{[ $node->connstr('postgres') ]}' archive list file://$dir/archive 2>&1`;
	my @m = grep { /\Q$name\E/ } ($list =~ /(file:\/\/\S+manifest\S*)/g);
	@m = sort glob("$dir/archive/*$name*manifest*") unless @m;
	@m = map { m{^file://} ? $_ : "file://$_" } @m;
	return $m[-1];
}
sub op_restore
{
	my ($r, $final) = @_;
	my $name = pick_part($r, 'archived') // return;
	return if $part{$name}{busy};
	my $m = manifest_of($name);
	if (!$m) { problem("no manifest for archived partition $name in $dir/archive"); return }
	$part{$name}{busy} = 1;
	$count{restore}++;
	spawn('restore', "restore_$name", pgpart_cmd('--lock-timeout', '1s', 'restore', 'revenues', '--from', $m),
		table => 'revenues', lo => $part{$name}{lo}, hi => $part{$name}{hi},
		on_exit => sub {
			$part{$name}{busy} = 0;
			$part{$name}{state} = 'home' unless archived_now($name);
		});
}
sub op_move
{
	my ($r) = @_;
	my $name = pick_part($r, 'home', 'warm') // return;
	return if $part{$name}{busy};
	my $to = $part{$name}{state} eq 'warm' ? 'pg_default' : 'warm';
	$part{$name}{busy} = 1;
	$count{move}++;
	spawn('move', "move_$name", pgpart_cmd('--lock-timeout', '1s', 'move', 'revenues', $name, '--tablespace', $to),
		table => 'revenues', lo => $part{$name}{lo}, hi => $part{$name}{hi},
		on_exit => sub {
			my ($p, $rc) = @_;
			$part{$name}{busy} = 0;
			$part{$name}{state} = $to eq 'warm' ? 'warm' : 'home' if $rc == 0;
		});
}

# a backend of a pgpart step, terminated
sub fault_terminate
{
	my $pid = psql_ok($node, q{SELECT pid FROM pg_stat_activity WHERE application_name = 'pgpart'
		AND pid <> pg_backend_pid() ORDER BY random() LIMIT 1});
	return unless $pid;
	$faults{'pg_terminate_backend of a pgpart connection'}++;
	psql_ok($node, "SELECT pg_terminate_backend($pid)");
	push @oplog, { t => elapsed(), kind => 'fault', name => "terminate backend $pid", rc => 0, table => '*' };
}
sub fault_lock
{
	my ($r) = @_;
	my $secs = 1 + int($r * 4);
	my ($what, $sql);
	if ($r < 0.5)
	{
		$what = "SHARE lock on revenues for ${secs}s";
		$sql = "LOCK TABLE revenues IN SHARE MODE";
	}
	else
	{
		my $p = pick_part($r, 'home', 'warm') // return;
		$what = "ACCESS EXCLUSIVE lock on $p for ${secs}s";
		$sql = "LOCK TABLE $p IN ACCESS EXCLUSIVE MODE";
	}
	$faults{'lock held for seconds'}++;
	spawn('lock', 'lock', [ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
			"BEGIN; $sql; SELECT pg_sleep($secs); COMMIT;" ], table => 'revenues');
	push @oplog, { t => elapsed(), kind => 'fault', name => $what, rc => 0, table => 'revenues' };
}
sub fault_restart
{
	$faults{'server stopped -m immediate and restarted'}++;
	push @oplog, { t => elapsed(), kind => 'fault', name => 'server stop -m immediate, start', rc => 0, table => '*' };
	$node->stop('immediate');
	$_->{restart_seen} = 1 for grep { $_->{kind} eq 'writers' } values %proc;
	$node->start;
	$fault_until = time;
}

# ---- checks
sub archived_ranges
{
	return map { [ $part{$_}{lo}, $part{$_}{hi} ] } grep { $part{$_}{state} eq 'archived' || ($part{$_}{busy} && archived_now($_)) } sort keys %part;
}
my $n_checks = 0;
my $divergences = 0;
sub compare_tables
{
	my ($label) = @_;
	$n_checks++;
	my @ex = archived_ranges();
	my $skip = join(' AND ', map { "NOT (occurred_at >= '$_->[0]' AND occurred_at < '$_->[1]')" } @ex) || 'true';
	for my $t (qw(revenues expenses))
	{
		my $c = "${t}_control";
		my $cond = $t eq 'revenues' ? $skip : 'true';
		my ($rc, $out, $err) = $node->psql('postgres', qq{
			BEGIN ISOLATION LEVEL REPEATABLE READ;
			CREATE TEMP TABLE d ON COMMIT DROP AS
			  SELECT 'only in table' AS side, x::text AS r FROM (SELECT * FROM $t EXCEPT ALL SELECT * FROM $c WHERE $cond) x
			  UNION ALL
			  SELECT 'only in control', x::text FROM (SELECT * FROM $c WHERE $cond EXCEPT ALL SELECT * FROM $t) x;
			SELECT d.side, coalesce(t.tableoid::regclass::text, '-'), d.r, (t.occurred_at)::text
			FROM d LEFT JOIN $t t ON t::text = d.r ORDER BY d.r;
			COMMIT;}, on_error_die => 0);
		if ($rc != 0)
		{
			note("comparison of $t failed to run ($label): $err");
			next;
		}
		$out =~ s/^(BEGIN|SELECT \d+|COMMIT)\n//mg;
		next if $out eq '';
		my @rows = split /\n/, $out;
		$divergences += @rows;
		my $msg = "$label: $t differs from $c in " . scalar(@rows) . " rows:\n";
		for my $row (@rows[0 .. ($#rows > 19 ? 19 : $#rows)])
		{
			my ($side, $part_of, $r) = split /\|/, $row, 3;
			my ($ts) = $r =~ /,"?(\d{4}-\d\d-\d\d [\d:.+]+)"?,/;
			$msg .= "  $side [$part_of] $r\n";
			my @touch = grep { ($_->{table} // '') eq '*' || ($_->{table} // '') eq $t
				  && (!defined $_->{lo} || !defined $ts || ($ts ge $_->{lo} && $ts lt $_->{hi})) } @oplog;
			@touch = @touch[ ($#touch > 5 ? $#touch - 5 : 0) .. $#touch ];
			$msg .= "    last steps on its range: " . join('; ', map { "$_->{t}s $_->{name} rc=$_->{rc}" } @touch) . "\n";
		}
		problem($msg);
	}
	return;
}
sub check_rollups
{
	my ($label) = @_;
	my ($from, $to) = ($start, psql_ok($node, q{SELECT (now() + interval '8 years')::date}));
	my @r = map { [ pgpart($node, 'report', 'cross-org', 'revenues', '--from', $from, '--to', $to,
			'--format', 'csv', '--by', 'status', '--source', $_) ] } qw(rollup detail);
	if ($r[0][0] != 0 || $r[1][0] != 0)
	{
		problem("$label: report failed: rollup rc $r[0][0] $r[0][2]; detail rc $r[1][0] $r[1][2]");
		return;
	}
	problem("$label: the report from the rollup differs from the detail rows:\nrollup:\n$r[0][1]\ndetail:\n$r[1][1]")
	  if $r[0][1] ne $r[1][1];
}
sub check_amcheck
{
	my ($label) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ '/usr/lib/postgresql/15/bin/pg_amcheck', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
			'--heapallindexed', '--no-dependent-toast' ], '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	problem("$label: pg_amcheck (exit $rc):\n$out$err") if $rc != 0 || $out ne '';
}

# ---- the run: the schedule's clock starts now
$t_start = time;
start_run() for 1 .. 2;
start_writers();
my $last_check = time;
my $i = 0;
while (time - $t_start < $duration || $i < @schedule)
{
	reap();
	my $now = time - $t_start;
	# the writers' next chunk
	if ($now < $duration && !running('writers')) { start_writers() }
	# scheduled kills (the backfill killed half-way)
	for my $pid (keys %proc)
	{
		if ($proc{$pid}{kill_at} && time >= $proc{$pid}{kill_at})
		{
			delete $proc{$pid}{kill_at};
			$proc{$pid}{killed} = 1;
			kill 'KILL', $pid;
			$faults{'kill -9 of migrate backfill'}++;
		}
	}
	# an instance of run ended (a restart or a kill): start another
	start_run() while keys(%runinst) < 2 && $now < $duration;
	while ($i < @schedule && $schedule[$i]{t} <= $now)
	{
		my $e = $schedule[ $i++ ];
		my ($k, $r) = ($e->{kind}, $e->{r});
		note(sprintf('%6.1fs %s', $now, $k));
		if ($k eq 'maintain')
		{
			$count{maintain}++;
			spawn('maintain', 'maintain', pgpart_cmd('--lock-timeout', '500ms', 'maintain'), table => '*');
		}
		elsif ($k eq 'kill_leader')
		{
			my $l = leader() // next;
			$faults{'kill -9 of the run leader'}++;
			$proc{ $runinst{$l} }{killed} = 1;
			kill 'KILL', $runinst{$l};
			push @oplog, { t => elapsed(), kind => 'fault', name => "kill -9 leader $l", rc => 0, table => '*' };
		}
		elsif ($k eq 'migrate') { op_migrate() }
		elsif ($k eq 'archive') { op_archive($r) }
		elsif ($k eq 'restore') { op_restore($r) }
		elsif ($k eq 'move') { op_move($r) }
		elsif ($k eq 'reindex')
		{
			next if running('reindex');
			$count{'reindex -j 2'}++;
			spawn('reindex', 'reindex', pgpart_cmd('reindex', 'revenues', '-j', '2'), table => 'revenues');
		}
		elsif ($k eq 'rollup')
		{
			next if running('rollup');
			$count{'rollup refresh'}++;
			spawn('rollup', 'rollup_refresh', pgpart_cmd('--lock-timeout', '500ms', 'rollup', 'refresh', 'revenues'),
				table => 'revenues');
		}
		elsif ($k eq 'split')
		{
			# SPLIT: "pgpart split" does not exist yet.  When it does, split a
			# partition of the writers' range (rows move while writers write)
			# here and count it: $count{split}++ (its weight in @kinds is 0).
		}
		elsif ($k eq 'restart') { fault_restart() }
		elsif ($k eq 'terminate') { fault_terminate() }
		elsif ($k eq 'lock') { fault_lock($r) }
		elsif ($k eq 'check') { compare_tables(sprintf('checkpoint at %.0fs', $now)); check_amcheck('checkpoint') }
	}
	last if time - $t_start >= $duration && $i >= @schedule;
	sleep 0.1;
}

# ---- the end: writers stop, every step finishes, half-done steps resume
wait_kind('writers', $chunk + 60);
kill 'TERM', values %runinst;
wait_kind($_, 120) for qw(run maintain migrate archive restore move reindex rollup lock);
reap();
# what faults interrupted is finished now, with no faults: the next run must
# resume or roll back (three tries each)
my $stuck = 0;
while ($count{'migrate start'} && $mig_i < @mig_steps && $stuck < 3)
{
	my $before = $mig_i;
	op_migrate();
	wait_kind('migrate', 300);
	$stuck = $mig_i == $before ? $stuck + 1 : 0;
}
for my $try (1 .. 3)
{
	for my $n (sort keys %part)
	{
		if ($part{$n}{state} ne 'archived' && archived_now($n)) { $part{$n}{state} = 'archived' }
	}
	for (grep { $part{$_}{state} eq 'archived' } sort keys %part) { op_restore(0); wait_kind('restore', 300) }
}
problem("migrate did not get through its steps: stopped before \"$mig_steps[$mig_i]\"")
  if $mig_i < @mig_steps && $count{'migrate start'};
problem("archived partitions not restored: " . join(', ', grep { $part{$_}{state} eq 'archived' } sort keys %part))
  if grep { $part{$_}{state} eq 'archived' } keys %part;
my ($rc, $out, $err) = pgpart($node, 'maintain');
push @oplog, { t => elapsed(), kind => 'maintain', name => 'final maintain', rc => $rc, table => '*' };
problem("the final maintain failed: $err") if $rc != 0;
($rc, $out, $err) = pgpart($node, 'rollup', 'refresh');
problem("the final rollup refresh failed: $err") if $rc != 0;
psql_ok($node, 'CHECKPOINT');
compare_tables('the end');
check_rollups('the end');
check_amcheck('the end');
my $left = psql_ok($node, q{SELECT string_agg(relname, ', ') FROM pg_class WHERE relname ~ '_pgpart_(copy|old|new)' AND relkind = 'r'});
note("tables left by pgpart steps: $left") if $left;

# ---- the summary
my %ops = %count;
my $summary = join("\n",
	"seed $seed, duration ${duration}s (" . sprintf('%.0f', time - $t_start) . "s with the final checks), writers $o{clients} clients at $o{rate} tx/s in ${chunk}s chunks",
	"operations run: " . join(', ', map { "$_ $ops{$_}" } sort keys %ops),
	"pgpart run instances started: $run_n",
	"failed pgpart steps (expected under faults): " . (join(', ', map { "$_ $expected_fail{$_}" } sort keys %expected_fail) || 'none'),
	"failed steps: " . (join('; ', map { "$_->{t}s $_->{name} rc=$_->{rc}" . ($_->{sig} ? " signal $_->{sig}" : '') . ($_->{err} ? " ($_->{err})" : '') } grep { $_->{kind} ne 'fault' && ($_->{rc} || $_->{sig}) } @oplog) || 'none'),
	"faults injected: " . (join(', ', map { "$_ $faults{$_}" } sort keys %faults) || 'none'),
	"writer transactions: $w{tx}; retried (serialization failures, deadlocks) $w{retried} with $w{retries} retries; failed $w{failed}; pgbench chunks $w{chunks}, broken by a server restart $w{broken}",
	"checks: $n_checks checkpoints + the end; divergences: $divergences; problems: " . scalar(@problems),
	"");
diag($summary);
if ($o{report})
{
	open(my $fh, '>', $o{report}) or die "$o{report}: $!";
	print $fh $summary;
	close $fh;
}
is(scalar(@problems), 0, "soak seed $seed: no divergence, amcheck finding, rollup mismatch, writer error or crash")
  or diag(join("\n", @problems) . "\nreplay: tests/soak/run --seed=$seed --duration=$o{duration}");
done_testing();
