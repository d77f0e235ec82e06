# Writers keep inserting (also into the default partition, the one ATTACH must
# lock) while maintain runs again and again: none of them fails, none waits
# long, and every row they wrote is there exactly once.
use strict;
use warnings;
use IPC::Run;
use PgpartTest;
use Test::More;

my $node = new_cluster('writers');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2026-01-01',
	'--premake', '1');

# every transaction inserts one row; half of them far in the future (default)
my $script = "$ENV{TESTDIR}/writer.sql";
open(my $fh, '>', $script) or die;
print $fh q{\set org random(1, 1000)
\set future random(0, 1)
INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
VALUES (:org, 1, CASE WHEN :future = 1 THEN timestamptz '2040-01-01' + random() * interval '3650 days'
                      ELSE now() END, 1, 'approved', 'rent');
};
close $fh;

my ($bout, $berr) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-T', '8', '-f', $script, '--log', "--log-prefix=$ENV{TESTDIR}/pgb_$$",
	  $node->connstr('postgres') ],
	'>', \$bout, '2>', \$berr);

my ($runs, $failures, $moved) = (0, 0, 0);
for my $i (1 .. 4)
{
	sleep 1;
	my ($rc, $out, $err) = pgpart($node, '--lock-timeout', '200ms', '--retries', '30', 'maintain');
	$runs++;
	$failures++ if $rc != 0;
	$moved += $1 while $out =~ /(\d+) rows? moved/g;
}
$bench->finish;
is($?, 0, 'pgbench writers finished without errors') or diag($berr);
my ($txns) = $bout =~ /number of transactions actually processed: (\d+)/;
my ($failed_txns) = $bout =~ /number of failed transactions: (\d+)/;
ok($txns && $txns > 100, "writers made progress ($txns transactions)");
is($failed_txns // 0, 0, 'no writer transaction failed');
is($failures, 0, "all $runs maintain runs succeeded");
cmp_ok($moved, '>', 0, "maintain moved rows out of the default partition ($moved)");

is(psql_ok($node, 'SELECT count(*) FROM revenues'), $txns, 'every row written is there');
is(psql_ok($node, 'SELECT count(DISTINCT id) FROM revenues'), $txns, 'and only once');
# the longest any single insert took (pgbench's per-transaction log, in us)
my $max_us = 0;
for my $log (glob("$ENV{TESTDIR}/pgb_$$*"))
{
	open(my $lf, '<', $log) or die;
	while (<$lf>)
	{
		my @f = split;
		$max_us = $f[2] if $f[2] > $max_us;
	}
}
note("pgbench: $bout");
note(sprintf('longest writer transaction %.0f ms (wall clock: CPU starvation on a busy machine counts too)',
	$max_us / 1000));
# What pgpart can cause is a lock wait.  log_lock_waits reports every wait
# longer than deadlock_timeout (100 ms) with its length once granted; with
# lock_timeout 200 ms and locks held for milliseconds, no writer may wait
# anywhere near 2 s.  (Wall-clock latency is no test: a loaded machine's
# scheduler alone can stall a transaction for seconds.)
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
my @waits = $log =~ /acquired \w+ on relation \d+ of database \d+ after ([\d.]+) ms/g;
my ($longest) = sort { $b <=> $a } @waits, 0;
note(scalar(@waits) . " lock waits over 100 ms logged, the longest $longest ms");
cmp_ok($longest, '<', 2000, 'no writer waited 2 s for a lock');
pgpart_ok($node, 'final maintain', 'maintain');
is(psql_ok($node, 'SELECT count(*) FROM ONLY revenues_default'), '0', 'default partition empty at the end');

done_testing();
