# Progress of long work: on a terminal, backfill draws a bar with rows, rate
# and ETA; without one (cron, a pipe) stdout carries only the result.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use IPC::Run;

my $node = new_cluster('progress');
pgpart_ok($node, 'init', 'init');
psql_ok($node, q{
	CREATE TABLE ev (id bigint, at date NOT NULL, v text, PRIMARY KEY (id, at));
	INSERT INTO ev SELECT g, date '2025-01-01' + g % 300, 'v' || g FROM generate_series(1, 20000) g;
});

# script(1) gives the command a pseudo-terminal as stdout
sub on_terminal
{
	my (@args) = @_;
	my $cmd = join(' ', map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" }
		($ENV{PGPART}, '-d', $node->connstr('postgres'), @args));
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'script', '-qec', $cmd, '/dev/null' ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out);
}

SKIP:
{
	skip 'script(1) is not installed', 7 unless grep { -x "$_/script" } split(/:/, $ENV{PATH});
	pgpart_ok($node, 'start', 'migrate', 'start', 'ev', '--column', 'at', '--interval', 'month');
	# never analysed (reltuples -1): the planner's estimate gives the total
	my ($rc, $out) = on_terminal('migrate', 'backfill', 'ev', '--batch-size', '1000', '--max-rows', '5000');
	is($rc, 0, 'partial backfill on a terminal succeeds');
	like($out, qr/\] \d+\/(\d+) rows, [\d.]+\/s, ETA/, 'a total although the table was never analysed');
	psql_ok($node, 'ANALYZE ev');
	($rc, $out) = on_terminal('migrate', 'backfill', 'ev', '--batch-size', '1000');
	is($rc, 0, 'backfill on a terminal succeeds');
	like($out, qr/\[[#.]+\] \d+\/\d+ rows, [\d.]+\/s, ETA \d\d:\d\d/, 'a bar with rows, rate and ETA');
	like($out, qr/\r/, 'the bar redraws in place');
	like($out, qr/next step\s+pgpart migrate verify/, 'then the result');
	pgpart_ok($node, 'rollback', 'migrate', 'rollback', 'ev');
}

pgpart_ok($node, 'start again', 'migrate', 'start', 'ev', '--column', 'at', '--interval', 'month');
my $out = pgpart_ok($node, 'backfill into a pipe', 'migrate', 'backfill', 'ev', '--batch-size', '1000');
unlike($out, qr/ETA|\r/, 'no bar when stdout is not a terminal');
like($out, qr/next step\s+pgpart migrate verify/, 'only the result');
my ($rc, $json) = pgpart($node, 'migrate', 'status', 'ev', '--json');
is($rc, 0, 'status --json');
like($json, qr/"rows copied"|"rows_copied"/, 'status reports the rows copied');

done_testing();
