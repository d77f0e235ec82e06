# The metrics endpoint answers unauthenticated requests, so what one can cost
# the database is bounded: scrapes are answered from a cache, a collection
# stuck behind a lock gives up after --metrics-timeout (pgpart_up 0), the
# sockets are capped, a bare port listens on loopback only.  And "pgpart run"
# masks a password given in -d in its own arguments (what ps shows).
use strict;
use warnings;
use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Run;
use PgpartTest;
use PostgreSQL::Test::Cluster;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = new_cluster('metricsd');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--premake', '1');
my $dir = $ENV{TESTDIR};
my $http = HTTP::Tiny->new(timeout => 30);

sub start_run
{
	my ($name, $conninfo, @args) = @_;
	return IPC::Run::start([ $ENV{PGPART}, '-d', $conninfo, 'run', '--every', '1h', '--no-vacuum', @args ],
		'<', \undef, '>', "$dir/$name.log", '2>', "$dir/$name.err");
}

sub get_when_up
{
	my ($url) = @_;
	my $res;
	for (1 .. 200)
	{
		$res = $http->get($url);
		return $res if $res->{success};
		sleep 0.1;
	}
	return $res;
}

sub slurp { my ($f) = @_; open(my $fh, '<', $f) or return ''; local $/; return <$fh> // '' }

# the statements the endpoint's connection ran, from the server log
sub collections
{
	my @n = slurp($node->logfile) =~ /set_config\('lock_timeout', \$1, false\), pg_catalog\.set_config\('statement_timeout'/g;
	return scalar @n;
}

# ---- cache, timeout ------------------------------------------------------------------
my $port = PostgreSQL::Test::Cluster::get_free_port();
# a password in -d (trust authentication ignores it): masked in the process's arguments
my $secret = 'Sup3rSecretPw';
my $run = start_run('run', $node->connstr('postgres') . " password=$secret", '--metrics-addr', "$port",
	'--metrics-cache', '3s', '--metrics-timeout', '1s');
my $res = get_when_up("http://127.0.0.1:$port/metrics");
ok($res->{success}, 'a bare port: served on 127.0.0.1') or diag("$res->{status} " . slurp("$dir/run.err"));
like($res->{content}, qr/^pgpart_up 1$/m, 'pgpart_up 1');

my ($pid) = slurp("$dir/run.log") =~ /pgpart\[(\d+)\]/;
ok($pid, 'run logged its pid');
my $cmdline = $pid ? slurp("/proc/$pid/cmdline") : '';
$cmdline =~ s/\0/ /g;
like($cmdline, qr/password=\*{13}/, 'the password is masked in the process arguments: ' . $cmdline);
unlike($cmdline, qr/\Q$secret\E/, 'ps does not show the password');
like(slurp("$dir/run.log"), qr/warning: info: a password was given in -d/, 'run warns about it and names the alternatives');
unlike(slurp("$dir/run.log") . slurp("$dir/run.err"), qr/\Q$secret\E/, 'and never prints it');

my $before = collections();
my @bodies = map { $http->get("http://127.0.0.1:$port/metrics")->{content} } 1 .. 5;
is(collections(), $before, 'five scrapes within --metrics-cache: no statement run for them');
is(scalar(grep { $_ eq $bodies[0] } @bodies), 5, 'all answered from the same collection');
sleep 3.2;
$http->get("http://127.0.0.1:$port/metrics");
is(collections(), $before + 1, 'after --metrics-cache: collected once more');

# a session holds a lock the size queries need: the collection gives up after --metrics-timeout
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE revenues_default IN ACCESS EXCLUSIVE MODE;');
sleep 3.2;    # the cache has expired
my $t0 = time;
$res = $http->get("http://127.0.0.1:$port/metrics");
my $took = time - $t0;
ok($res->{success}, 'a scrape with a lock held still answers (200)');
like($res->{content}, qr/^pgpart_up 0$/m, 'with pgpart_up 0');
cmp_ok($took, '<', 10, sprintf('within the collection timeout, not queued behind the lock (%.1f s)', $took));
$t0 = time;
$res = $http->get("http://127.0.0.1:$port/metrics");
like($res->{content}, qr/^pgpart_up 0$/m, 'the failed collection is cached too');
$locker->query_safe('ROLLBACK');
$locker->quit;
sleep 3.2;
like($http->get("http://127.0.0.1:$port/metrics")->{content}, qr/^pgpart_up 1$/m, 'lock gone: pgpart_up 1 again');

# ---- the socket cap ------------------------------------------------------------------
my @socks = grep { defined } map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5) } 1 .. 24;
sleep 1;
# the server closes what is over its limit at once: such a socket reads EOF
my $open = 0;
for my $s (@socks)
{
	$s->blocking(0);
	my $buf;
	my $n = sysread($s, $buf, 1);
	$open++ if !defined $n;    # EAGAIN: still open and idle
}
cmp_ok($open, '<=', 8, "24 idle connections from one address: at most 8 kept ($open)");
close $_ for @socks;
sleep 0.5;
ok($http->get("http://127.0.0.1:$port/metrics")->{success}, 'the endpoint serves again once they are gone');

$run->signal('TERM');
$run->finish;
is($? >> 8, 0, 'run stops cleanly');
is(slurp("$dir/run.err"), '', 'nothing on stderr') or diag(slurp("$dir/run.err"));

# ---- addresses -----------------------------------------------------------------------
my $p2 = PostgreSQL::Test::Cluster::get_free_port();
my $open_run = start_run('wide', $node->connstr('postgres'), '--metrics-addr', "0.0.0.0:$p2");
ok(get_when_up("http://127.0.0.1:$p2/metrics")->{success}, 'an explicit 0.0.0.0 is served');
$open_run->signal('TERM');
$open_run->finish;
like(slurp("$dir/wide.log"), qr/warning: info: the metrics endpoint is reachable from other hosts and has no authentication/,
	'with a warning that says what protects it');
unlike(slurp("$dir/run.log"), qr/reachable from other hosts/, 'no such warning on loopback');

for my $bad ([ '--metrics-cache', '-1s' ], [ '--metrics-timeout', '10ms' ], [ '--metrics-addr', 'x:' ])
{
	my ($rc, $out, $err) = pgpart($node, 'run', '--once', @$bad);
	is($rc, 2, "@$bad: exit 2");
	like($err, qr/^pgpart: error: invalid \Q$bad->[0]\E/m, "@$bad: says which option");
}

# ---- the shipped systemd units -------------------------------------------------------
# ProtectSystem=strict makes the whole file system read-only: the one folder a
# file:// archive writes to must be named, and private
for my $unit (qw(pgpart.service pgpart-once.service))
{
	my $text = slurp("$ENV{TOP}/contrib/systemd/$unit");
	like($text, qr/^ProtectSystem=strict$/m, "$unit: ProtectSystem=strict");
	like($text, qr{^StateDirectory=pgpart pgpart/archive$}m, "$unit: /var/lib/pgpart/archive is writable");
	like($text, qr/^StateDirectoryMode=0700$/m, "$unit: and private");
	like($text, qr/^UMask=0077$/m, "$unit: files private");
  SKIP:
	{
		skip 'systemd-analyze is not installed', 1 unless -x '/usr/bin/systemd-analyze';
		# verify wants the binary to exist: check a copy that runs /bin/true
		(my $copy = $text) =~ s{/usr/local/bin/pgpart}{/bin/true}g;
		open(my $fh, '>', "$dir/$unit") or die;
		print $fh $copy;
		close $fh;
		my ($out, $err) = ('', '');
		IPC::Run::run([ 'systemd-analyze', 'verify', "$dir/$unit" ], '>', \$out, '2>', \$err);
		my @problems = grep { !/EnvironmentFile|Failed to (?:connect|create)|pgpart-once\.timer|Unit .* not found|No such file/ } split /\n/, $err;
		is("@problems", '', "$unit: systemd-analyze verify finds nothing");
	}
}
like(slurp("$ENV{TOP}/contrib/systemd/pgpart.env"), qr{--archive-to file:///var/lib/pgpart/archive}, 'the env file names the archive folder');

done_testing();
