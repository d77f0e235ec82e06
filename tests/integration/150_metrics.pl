# pgpart metrics: valid Prometheus text exposition with the expected values;
# "pgpart run --metrics-addr" serves it over HTTP, a real Prometheus server
# scrapes it and its API returns the series; promtool accepts (and unit-tests)
# the alert rules, and Prometheus loads them.
use strict;
use warnings;
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PgpartTest;
use PostgreSQL::Test::Cluster;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = new_cluster('metrics');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01', '--premake', '2');
psql_ok($node, q{
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."Weird ""T""" (id int, at date NOT NULL);
CREATE TABLE ledger (id bigint, PRIMARY KEY (id, occurred_at), occurred_at timestamptz NOT NULL, amount numeric);
INSERT INTO ledger SELECT g, timestamptz '2025-01-01' + g * interval '1 hour', g FROM generate_series(1, 500) g;
INSERT INTO revenues (org_id, property_id, occurred_at, amount)
SELECT g, 1, timestamptz '2025-01-01' + g * interval '1 day', g FROM generate_series(1, 300) g;
});
pgpart_ok($node, 'create odd', 'create', '"Odd Schema"."Weird ""T"""', '--column', 'at', '--interval', 'month', '--premake', '1');
pgpart_ok($node, 'maintain', 'maintain');
# one row the next maintain will have to move, one online migration under way
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, now() + interval '4 years', 1)});
pgpart_ok($node, 'migration started', 'migrate', 'start', 'ledger', '--column', 'occurred_at');

# parses an exposition: { family => { type, help, samples => { labels => value } } }, or dies
sub parse_exposition
{
	my ($text) = @_;
	my (%fam, $current, %closed);
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/)
		{
			die "family $1 appears twice\n" if $fam{$1};
			$closed{$current} = 1 if $current;
			$current = $1;
			$fam{$1} = { help => $2, samples => {} };
		}
		elsif ($line =~ /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|untyped)$/)
		{
			die "TYPE of $1 is not after its HELP\n" unless $current && $current eq $1;
			$fam{$1}{type} = $2;
		}
		elsif ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$/)
		{
			my ($name, $labels, $value) = ($1, $2 // '', $3);
			die "sample of $name outside its family\n" unless $current && $current eq $name;
			die "bad value $value\n" unless $value =~ /^(?:[-+]?[0-9.]+(?:e[-+]?\d+)?|NaN|[+-]Inf)$/;
			$fam{$name}{samples}{$labels} = $value;
		}
		else
		{
			die "not exposition format: $line\n";
		}
	}
	return \%fam;
}

my $text = pgpart_ok($node, 'pgpart metrics', 'metrics');
my $m = eval { parse_exposition($text) };
ok($m, 'valid text exposition format (HELP, TYPE, samples, each family once)') or diag($@);
$m //= {};
my $rev = '{table="public.revenues"}';
my $status = decode_json(pgpart_ok($node, 'status --json', 'status', 'revenues', '--json'));
my $st = ref $status eq 'HASH' && $status->{tables} ? $status->{tables}[0] : (ref $status eq 'ARRAY' ? $status->[0] : $status);
is($m->{pgpart_up}{samples}{''}, 1, 'pgpart_up 1');
is($m->{pgpart_managed_tables}{samples}{''}, 2, 'two managed tables');
is($m->{pgpart_future_partitions}{samples}{$rev}, $st->{future_partitions}, "future partitions as status says ($st->{future_partitions})");
cmp_ok($m->{pgpart_future_partitions}{samples}{$rev}, '>=', 2, 'premake 2: at least 2 ahead');
is($m->{pgpart_premake}{samples}{$rev}, 2, 'premake');
is($m->{pgpart_default_partition_rows}{samples}{$rev}, 1, 'one row in the default partition');
cmp_ok($m->{pgpart_default_partition_bytes}{samples}{$rev}, '>', 0, 'default partition bytes');
my $nparts = psql_ok($node, q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'revenues'::regclass}) - 1;
is($m->{pgpart_partitions}{samples}{'{table="public.revenues",tier="hot",tablespace="pg_default"}'}, $nparts,
	"partitions by tier and tablespace ($nparts, the default not counted)");
my $bytes = psql_ok($node, q{SELECT sum(pg_table_size(inhrelid) + pg_indexes_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'revenues'::regclass});
is($m->{pgpart_tier_bytes}{samples}{'{table="public.revenues",tier="hot",tablespace="pg_default"}'}, $bytes, 'bytes per tier');
my $ts = $m->{pgpart_last_maintenance_success_timestamp_seconds}{samples}{$rev};
ok($ts && abs($ts - time) < 120, 'last successful maintenance: a moment ago');
my $dur = $m->{pgpart_last_maintenance_duration_seconds}{samples}{$rev};
ok(defined $dur && $dur >= 0 && $dur < 120, 'its duration: seconds, as run_log recorded it (' . ($dur // 'none') . ')');
is($m->{pgpart_last_maintenance_ok}{samples}{$rev}, 1, 'last maintenance ok');
is($m->{pgpart_maintenance_failures_total}{samples}{$rev}, 0, 'no failures');
is($m->{pgpart_maintenance_failures_total}{type}, 'counter', 'failures are a counter');
is($m->{pgpart_lock_retries_total}{samples}{$rev}, 0, 'lock retries: none, nothing else held a lock');
is($m->{pgpart_migration_phase}{samples}{'{table="public.ledger",phase="backfilling"}'}, 1, 'migration phase backfilling');
is($m->{pgpart_migration_phase}{samples}{'{table="public.ledger",phase="switched"}'}, 0, 'other phases 0');
is($m->{pgpart_migration_rows_copied}{samples}{'{table="public.ledger"}'}, 0, 'rows copied so far');
is($m->{pgpart_migration_active}{samples}{'{table="public.ledger"}'}, 1, 'migration active');
is($m->{pgpart_future_partitions}{samples}{'{table="Odd Schema.Weird \\"T\\""}'}, 1, 'odd table name escaped in the label');

# archive / restore outcomes, from pgpart.archive_job: a real archive of the
# first quarter to a directory, then its restore
my $archive_dir = $node->basedir . '/archive';
mkdir $archive_dir or die;
pgpart_ok($node, 'archive a closed quarter', 'archive', 'revenues', 'revenues_2025_q1', '--to', "file://$archive_dir");
my $a = parse_exposition(pgpart_ok($node, 'metrics after an archive', 'metrics'));
is($a->{pgpart_archive_operations_total}{samples}{'{table="public.revenues",operation="archive",result="ok"}'}, 1,
	'archive outcomes: one archive');
cmp_ok($a->{pgpart_archive_bytes}{samples}{'{table="public.revenues"}'} // 0, '>', 0, 'bytes held in archives');
ok(!exists $a->{pgpart_archive_oldest_unfinished_seconds}{samples}{'{table="public.revenues"}'},
	'no unfinished archive');
my ($manifest) = glob("$archive_dir/*/*manifest*.json $archive_dir/*manifest*.json $archive_dir/*/*/*manifest*.json");
ok($manifest, 'the archive wrote a manifest') or diag(`find $archive_dir`);
pgpart_ok($node, 'restore it', 'restore', 'revenues', '--from', "file://$manifest");
$a = parse_exposition(pgpart_ok($node, 'metrics after the restore', 'metrics'));
is($a->{pgpart_archive_operations_total}{samples}{'{table="public.revenues",operation="restore",result="ok"}'}, 1,
	'restore outcomes');
is($a->{pgpart_partitions}{samples}{'{table="public.revenues",tier="hot",tablespace="pg_default"}'}, $nparts,
	'every partition back in the hot tier');

my $j = decode_json(pgpart_ok($node, 'metrics --json', 'metrics', '--json'));
ok((grep { $_->{name} eq 'pgpart_future_partitions' } @{ $j->{metrics} }), '--json has the same families');

pgpart_fails($node, 'metrics with an argument', 2, qr/unexpected argument "x"/, 'metrics', 'x');
my ($urc, $uout, $uerr) = PgpartTest::run_raw('-d', 'host=127.0.0.1 port=1 connect_timeout=2', 'metrics');
is($urc, 1, 'unreachable server: exit 1');
like($uerr, qr/^pgpart: error: /m, 'unreachable server: clear error');
is($uout, '', 'and nothing on stdout');

# ---- the HTTP endpoint -----------------------------------------------------------
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dir = $ENV{TESTDIR};
# --metrics-cache 0: every scrape reads the database, so the values follow the
# cycles at once (the cache itself is tested in 152)
my $run = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'run', '--every', '1s',
		'--metrics-addr', "127.0.0.1:$port", '--metrics-cache', '0' ], '<', \undef, '>', "$dir/run150.log", '2>', "$dir/run150.err");
my $http = HTTP::Tiny->new(timeout => 10);
my $res;
for (1 .. 200)
{
	$res = $http->get("http://127.0.0.1:$port/metrics");
	# once the first cycle has moved the far row out of the default partition
	# (creating one more future partition) the values stay put
	last if $res->{success} && $res->{content} =~ /^pgpart_scheduler_leader 1$/m
	  && $res->{content} =~ /^pgpart_scheduler_cycles_total [1-9]/m;
	sleep 0.1;
}
ok($res->{success}, 'GET /metrics: 200') or diag("$res->{status} $res->{content}");
like($res->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4}, 'content type of the text format');
my $hm = eval { parse_exposition($res->{content}) };
ok($hm, 'valid exposition over HTTP') or diag($@);
is($hm->{pgpart_scheduler_leader}{samples}{''}, 1, 'this instance is the leader');
is($hm->{pgpart_up}{samples}{''}, 1, 'pgpart_up 1 over HTTP');
is($hm->{pgpart_default_partition_rows}{samples}{$rev}, 0, 'the scheduler emptied the default partition');
is($hm->{pgpart_future_partitions}{samples}{$rev}, $m->{pgpart_future_partitions}{samples}{$rev} + 1,
	'and made a partition for the far row: one more future partition');
is($http->get("http://127.0.0.1:$port/nothing")->{status}, 404, 'other paths: 404');

# the dashboard and the alert rules use only metrics pgpart serves
for my $file ("$ENV{TOP}/contrib/grafana/pgpart-dashboard.json", "$ENV{TOP}/contrib/prometheus/pgpart-alerts.yml")
{
	open(my $fh, '<', $file) or die "$file: $!";
	my $content = do { local $/; <$fh> };
	decode_json($content) if $file =~ /\.json$/;    # valid JSON, or the test dies
	my %used = map { $_ => 1 } $content =~ /\b(pgpart_[a-z_]+)/g;
	my @unknown = grep { !$hm->{$_} } sort keys %used;
	cmp_ok(scalar keys %used, '>=', 5, "$file uses pgpart's metrics");
	is("@unknown", '', "$file: every metric it uses is served");
}
my $bad = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'run', '--metrics-addr', "127.0.0.1:$port" ],
	'<', \undef, '>', \my $bout, '2>', \my $berr);
$bad->finish;
is($? >> 8, 1, 'a second instance on the same port: exit 1');
like($berr, qr/pgpart: error: cannot serve metrics on 127\.0\.0\.1:$port/, 'says it cannot listen');

# ---- promtool and a real Prometheus ------------------------------------------------------
my $rules = "$ENV{TOP}/contrib/prometheus/pgpart-alerts.yml";
SKIP:
{
	skip 'prometheus (Debian package) is not installed', 8 unless -x '/usr/bin/prometheus' && -x '/usr/bin/promtool';
	my ($pout, $perr) = ('', '');
	IPC::Run::run([ 'promtool', 'check', 'rules', $rules ], '>', \$pout, '2>', \$perr);
	is($? >> 8, 0, 'promtool check rules passes') or diag("$pout$perr");
	IPC::Run::run([ 'promtool', 'test', 'rules', "$ENV{TOP}/contrib/prometheus/pgpart-alerts.test.yml" ], '>', \$pout, '2>', \$perr);
	is($? >> 8, 0, 'promtool test rules: the alerts fire as designed') or diag("$pout$perr");

	my $pport = PostgreSQL::Test::Cluster::get_free_port();
	open(my $cf, '>', "$dir/prometheus.yml") or die;
	print $cf <<"EOF";
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $rules
scrape_configs:
  - job_name: pgpart
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
	close $cf;
	my $prom = IPC::Run::start([ 'prometheus', "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/prom-data",
			"--web.listen-address=127.0.0.1:$pport", '--log.level=warn' ],
		'<', \undef, '>', "$dir/prometheus.out", '2>', "$dir/prometheus.err");
	my $ready = 0;
	for (1 .. 300)
	{
		my $r = $http->get("http://127.0.0.1:$pport/-/ready");
		if ($r->{success}) { $ready = 1; last }
		sleep 0.1;
	}
	ok($ready, 'prometheus is ready');
	my ($series, $result);
	for (1 .. 200)
	{
		my $r = $http->get("http://127.0.0.1:$pport/api/v1/query?query=pgpart_future_partitions");
		$result = $r->{success} ? decode_json($r->{content}) : undef;
		$series = $result ? $result->{data}{result} : [];
		last if @$series >= 2;
		sleep 0.1;
	}
	is(scalar @$series, 2, 'prometheus has pgpart_future_partitions for both tables');
	my ($s) = grep { $_->{metric}{table} eq 'public.revenues' } @$series;
	ok($s && $s->{metric}{job} eq 'pgpart', 'labelled with the table and the scrape job');
	is($s ? $s->{value}[1] : undef, $hm->{pgpart_future_partitions}{samples}{$rev}, 'the same value as the endpoint serves');
	my $r = decode_json($http->get("http://127.0.0.1:$pport/api/v1/query?query=pgpart_scheduler_leader")->{content});
	is($r->{data}{result}[0]{value}[1], '1', 'prometheus sees the leader');
	my $rules_api = decode_json($http->get("http://127.0.0.1:$pport/api/v1/rules")->{content});
	my @names = map { $_->{name} } map { @{ $_->{rules} } } @{ $rules_api->{data}{groups} };
	ok((grep { $_ eq 'PgpartNoFuturePartition' } @names) && (grep { $_ eq 'PgpartMigrationStuck' } @names),
		'prometheus loaded the alert rules: ' . join(' ', @names));
	$prom->signal('TERM');
	$prom->finish;
}

$run->signal('TERM');
$run->finish;
is($? >> 8, 0, 'run with --metrics-addr stops cleanly on SIGTERM');
my $rerr = '';
if (open(my $fh, '<', "$dir/run150.err")) { local $/; $rerr = <$fh> // ''; }
is($rerr, '', 'nothing on its stderr');

done_testing();
