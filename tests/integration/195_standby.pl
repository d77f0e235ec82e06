# pgpart with a real streaming standby (issue 18, "Standbys").  After create,
# maintain (premake, the default partition drained), a rollup, a whole online
# migration and an archive on the primary, the standby's catalog and rows
# equal the primary's once it has replayed the primary's WAL, and the
# read-only commands (status, metrics, report from rollups and from detail
# rows, archive list, migrate status, check) work on the standby and give the
# primary's answers.  Every command that changes something refuses on the
# standby, with exit 5 and the hint to run it against the primary, before it
# sends anything (the standby's log shows only its session set-up and
# pg_is_in_recovery()).
# "pgpart run" against the standby idles as a follower that says it is on a
# standby (log line and metric) and, after pg_promote(), leads and acts.
# The backfill's --max-lag against a paused replay is 179_health_throttle.pl.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;
use HTTP::Tiny;
use Time::HiRes qw(time sleep);

my $primary = new_cluster('primary', allows_streaming => 1,
	conf => "shared_preload_libraries = 'pg_stat_statements'");
my $standby = new_standby($primary);
my $dir = $ENV{TESTDIR};

# the standby has replayed everything the primary has written so far
sub replayed
{
	my $lsn = psql_ok($primary, 'SELECT pg_current_wal_lsn()');
	$standby->poll_query_until('postgres', "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")
	  or die "the standby did not replay up to $lsn";
	return 1;
}

# the partitions of every table (bounds), the tables and indexes of public
# and pgpart, and every table's rows: what must be the same on both servers
sub catalog_state
{
	my ($node) = @_;
	my $shape = $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s.%s %s %s %s', n.nspname, c.relname, c.relkind,
			coalesce(pg_get_expr(c.relpartbound, c.oid), '-'),
			coalesce((SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
				WHERE i.inhrelid = c.oid), '-')), E'\n' ORDER BY n.nspname, c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('public', 'pgpart') AND c.relkind IN ('r', 'p', 'i', 'I', 'v', 'f')});
	my $tables = $node->safe_psql('postgres', q{
		SELECT string_agg(format('%I.%I', n.nspname, c.relname), ' ' ORDER BY n.nspname, c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('public', 'pgpart') AND c.relkind IN ('r', 'p') AND NOT c.relispartition});
	my $rows = join("\n", map { "$_ " . table_fingerprint($node, $_) } split / /, $tables);
	return "$shape\n$rows";
}

sub same_on_both
{
	my ($what) = @_;
	replayed();
	my $p = catalog_state($primary);
	is(catalog_state($standby), $p, "$what: the standby's catalog and rows equal the primary's");
}

# ---- the primary: create, maintain, rollup, migration, archive ----
seed_schema($primary);
# a plain table with rows, for "migrate plan" on the standby
psql_ok($primary, q{CREATE TABLE notes (id bigint, written_at timestamptz NOT NULL, body text, PRIMARY KEY (id, written_at));
	INSERT INTO notes SELECT g, timestamptz '2025-01-01' + g * interval '1 hour', 'n' || g
	FROM generate_series(1, 500) g;
	CREATE EXTENSION pg_stat_statements});
pgpart_ok($primary, 'init', 'init');
pgpart_ok($primary, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2024-10-01',
	'--premake', '1');
$primary->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=4000', '-v', 'orgs=20',
		'-v', 'future_rows=30', '-d', $primary->connstr('postgres'), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load 4000 rows into each table');
same_on_both('after create');
pgpart_ok($primary, 'maintain', 'maintain');
is(psql_ok($primary, 'SELECT count(*) FROM revenues_default'), '0', 'maintain drained the default partition');
same_on_both('after maintain');
pgpart_ok($primary, 'rollup', 'rollup', 'add', 'revenues', '--name', 'revenues_daily', '--grain', 'day',
	'--group-by', 'org_id, status, category', '--measures', 'sum(amount), count(*)');
same_on_both('after rollup add');

pgpart_ok($primary, 'migrate start', 'migrate', 'start', 'expenses', '--column', 'occurred_at',
	'--start', '2024-10-01', '--premake', '1');
pgpart_ok($primary, 'migrate backfill', 'migrate', 'backfill', 'expenses', '--batch-size', '1000');
same_on_both('after migrate start and backfill');
# mid-migration, the standby says what the primary says
for my $args ([ 'status', 'expenses' ], [ 'batch-sql', 'expenses' ])
{
	is(pgpart_ok($standby, "migrate @$args on the standby", '--json', 'migrate', @$args),
		pgpart_ok($primary, "migrate @$args on the primary", '--json', 'migrate', @$args),
		"migrate @$args: the standby answers as the primary");
}
pgpart_ok($primary, 'migrate verify', 'migrate', 'verify', 'expenses');
pgpart_ok($primary, 'migrate switch', 'migrate', 'switch', 'expenses');
pgpart_ok($primary, 'migrate verify after the switch', 'migrate', 'verify', 'expenses');
pgpart_ok($primary, 'migrate finish', 'migrate', 'finish', 'expenses');
same_on_both('after the whole migration');

my $arch = PostgreSQL::Test::Utils::tempdir() . '/arch';
mkdir $arch or die;
my $url = "file://$arch";
pgpart_ok($primary, 'archive', 'archive', 'revenues', 'revenues_2024_q4', '--to', $url);
same_on_both('after archive');


# ---- read-only commands on the standby give the primary's answers ----
# a command's JSON output without how long its query took
sub without_timing
{
	my ($json) = @_;
	my $o = decode_json($json);
	delete $o->{query_ms} if ref $o eq 'HASH';
	return JSON::PP->new->canonical->encode($o);
}
# (status and metrics carry sizes, which physical replication does not keep
# byte-equal in every fork; their facts are compared without them)
for my $args ([ 'report', 'yearly', 'revenues', '--org', '1', '--year', '2025' ],
	[ 'report', 'yearly', 'revenues', '--org', '1', '--year', '2025', '--source', 'detail' ],
	[ 'report', 'monthly', 'expenses', '--org', '2', '--month', '2025-03' ],
	[ 'report', 'cross-org', 'revenues', '--from', '2024-10-01', '--to', '2026-01-01', '--source', 'rollup' ],
	[ 'report', 'cross-org', 'revenues', '--from', '2025-01-01', '--to', '2025-07-01', '--source', 'detail' ],
	[ 'archive', 'list', $url ], [ 'rollup', 'status', 'revenues' ], [ 'policy', 'revenues' ],
	[ 'migrate', 'status', 'expenses' ])
{
	is(without_timing(pgpart_ok($standby, "@$args on the standby", '--json', @$args)),
		without_timing(pgpart_ok($primary, "@$args on the primary", '--json', @$args)),
		"@$args: the standby answers as the primary");
}
my $yearly = decode_json(pgpart_ok($standby, 'yearly', '--json', 'report', 'yearly', 'revenues', '--org', '1',
		'--year', '2025'));
like($yearly->{source}, qr/^rollup /, 'the yearly report on the standby comes from the rollup');

sub status_facts
{
	my ($node) = @_;
	my $st = decode_json(pgpart_ok($node, 'status --json', '--json', 'status'));
	my @facts;
	for my $t (@{ $st->{tables} })
	{
		push @facts, join(' ', $t->{table}, map { "$_->{name}:" . ($_->{bounds} // '') } @{ $t->{partitions} });
		push @facts, "warnings: " . join('; ', @{ $t->{warnings} // [] });
	}
	return join("\n", @facts);
}
is(status_facts($standby), status_facts($primary), 'status on the standby: the primary\'s tables, partitions and warnings');

sub metric_samples
{
	my ($node) = @_;
	my $text = pgpart_ok($node, 'metrics', 'metrics');
	return join("\n", grep { /^pgpart_(?:up|managed_tables|partitions|future_partitions|default_partition_rows|migration|archive)\w*[ {]/ } split /\n/, $text);
}
my $pm = metric_samples($primary);
like($pm, qr/^pgpart_partitions\{/m, 'metrics has the partition counts');
is(metric_samples($standby), $pm, 'metrics on the standby: the primary\'s counts');

# migrate plan reads only: the standby plans as the primary
like(pgpart_ok($standby, 'migrate plan on the standby', 'migrate', 'plan', 'notes', '--column', 'written_at'),
	qr/notes/, 'migrate plan runs on the standby');

# check: EXPLAIN in a read-only transaction, on the standby's own statements
$standby->safe_psql('postgres', q{SELECT count(*) FROM revenues WHERE occurred_at >= '2025-04-01' AND occurred_at < '2025-05-01'});
$standby->safe_psql('postgres', q{SELECT count(*) FROM revenues WHERE org_id = property_id});
my ($crc, $cout, $cerr) = pgpart($standby, '--json', 'check', 'revenues');
is($crc, 3, 'check on the standby: exit 3, a statement does not prune') or diag($cerr);
my $check = eval { decode_json($cout) } // { statements => [] };
my ($scan) = grep { $_->{query} =~ /org_id = property_id/ } @{ $check->{statements} };
is($scan && $scan->{verdict}, 'does not prune', 'check on the standby judges the standby\'s statements');

# ---- what changes refuses on the standby, with exit 5, before anything runs ----
my @changing = (
	[ 'init' ],
	[ 'create', 'revenues', '--column', 'occurred_at' ],
	[ 'maintain' ],
	[ '--dry-run', 'maintain', 'revenues' ],
	[ 'index', 'add', 'revenues', '--name', 'rev_org', '(org_id)' ],
	[ 'migrate', 'start', 'notes', '--column', 'written_at' ],
	[ 'migrate', 'backfill', 'expenses' ],
	[ 'migrate', 'limits', 'expenses', '--rate', '10' ],
	[ 'rollup', 'refresh', 'revenues' ],
	[ 'vacuum', 'revenues' ],
	[ 'analyze', 'revenues' ],
	[ 'reindex', 'revenues' ],
	[ 'move', 'revenues', 'revenues_2025_q1', '--tablespace', 'pg_default' ],
	[ 'policy', 'revenues', '--drop-after', '7 years' ],
	[ 'archive', 'revenues', 'revenues_2025_q1', '--to', $url ],
	[ 'restore', 'revenues', '--from', "$url/x.manifest.json" ]);
my $log_offset = -s $standby->logfile;
for my $args (@changing)
{
	my $e = pgpart_fails($standby, "@$args on the standby", 5, qr/^pgpart: error: this server is a standby \(in recovery\)/m, @$args);
	like($e, qr/hint: Run it against the primary, e\.g\. with target_session_attrs=read-write/,
		"@$args: the hint says to run it against the primary");
}
like((pgpart($standby, 'migrate', 'start', 'notes', '--column', 'written_at'))[2],
	qr/"pgpart migrate start" changes things/, 'the refusal names the command and its subcommand');
# the server log: each refused command sent its session set-up and asked
# pg_is_in_recovery(), and nothing else
my $log = substr(PostgreSQL::Test::Utils::slurp_file($standby->logfile), $log_offset);
my @stmts = $log =~ /LOG:\s+(?:statement|execute [^:]*):\s*([^\n]*)/g;
my @other = grep { !/^SELECT pg_catalog\.(?:current_setting\('search_path'\)|pg_is_in_recovery\(\))/ } @stmts;
is(scalar(grep { /pg_is_in_recovery/ } @stmts), scalar(@changing) + 1, 'each refused command asked pg_is_in_recovery()');
is(join("\n", @other), '', 'and sent no other statement');
same_on_both('after the refusals');

# ---- pgpart run on the standby: a follower that says so; after promotion it leads ----
my ($orc, $oout) = pgpart($standby, 'run', '--once', '--log-format', 'json');
is($orc, 0, 'run --once on the standby: exit 0, nothing to do');
like($oout, qr/"action":"standby".*"detail":"the server is a standby \(in recovery\)/, 'and it says it is on a standby');
unlike($oout, qr/"action":"(?:maintain|vacuum|cycle)"/, 'run --once on the standby does nothing');

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $run = IPC::Run::start([ $ENV{PGPART}, '-d', $standby->connstr('postgres'), 'run', '--every', '1s',
		'--log-format', 'json', '--metrics-addr', "127.0.0.1:$port", '--metrics-cache', '0' ],
	'<', \undef, '>', "$dir/run195.log", '2>', "$dir/run195.err");
sub events
{
	open(my $fh, '<', "$dir/run195.log") or return ();
	return map { eval { decode_json($_) } // () } <$fh>;
}
sub wait_until
{
	my ($what, $cond) = @_;
	for (1 .. 300)
	{
		return 1 if $cond->();
		sleep 0.1;
	}
	fail("timed out waiting for $what");
	return 0;
}
my $http = HTTP::Tiny->new(timeout => 10);
sub scrape
{
	my $res = $http->get("http://127.0.0.1:$port/metrics");
	return $res->{success} ? $res->{content} : '';
}
wait_until('the standby log line', sub { grep { $_->{action} eq 'standby' } events() });
# a row in the far future lands in the primary's default partition: a leader would move it
psql_ok($primary, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, now() + interval '12 years', 1)});
replayed();
sleep 3;    # six polls of a follower at --every 1s
my @ev = events();
is(scalar(grep { $_->{action} eq 'standby' } @ev), 1, 'run on the standby says once that it is on a standby');
is(scalar(grep { $_->{action} =~ /^(?:leader|maintain|vacuum|analyze|cycle)$/ } @ev), 0,
	'and never leads nor acts');
my $m = scrape();
like($m, qr/^pgpart_scheduler_standby 1$/m, 'metric pgpart_scheduler_standby 1');
like($m, qr/^pgpart_scheduler_leader 0$/m, 'metric pgpart_scheduler_leader 0');
like($m, qr/^pgpart_up 1$/m, 'the standby\'s metrics are collected (pgpart_up 1)');
is(psql_ok($standby, 'SELECT count(*) FROM revenues_default'), '1', 'the far row waits in the default partition');

# failover: the primary goes away, the standby is promoted; the same instance leads and acts
$primary->stop('fast');
$standby->safe_psql('postgres', 'SELECT pg_promote()');
# a whole cycle: maintain of every table, then vacuum and analyze
wait_until('a cycle after the promotion', sub { grep { $_->{action} eq 'cycle' } events() });
@ev = events();
ok((grep { $_->{action} eq 'standby' && $_->{detail} =~ /promoted/ } @ev), 'run says the server was promoted');
ok((grep { $_->{action} eq 'leader' && $_->{result} eq 'ok' } @ev), 'and takes the leader lock');
ok((grep { $_->{action} eq 'maintain' && $_->{table} eq 'public.revenues' && $_->{result} eq 'ok' } @ev),
	'and maintains public.revenues');
is(psql_ok($standby, 'SELECT count(*) FROM revenues_default'), '0', 'the promoted server\'s instance moved the far row out');
wait_until('the metrics to follow', sub { scrape() =~ /^pgpart_scheduler_standby 0$/m });
like(scrape(), qr/^pgpart_scheduler_leader 1$/m, 'metric pgpart_scheduler_leader 1 after the promotion');
$run->signal('TERM');
$run->finish;
is($? >> 8, 0, 'run stops cleanly on SIGTERM');

done_testing();
