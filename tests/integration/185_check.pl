# pgpart check: the statements pg_stat_statements recorded on a managed
# table, judged by their plans.  A pruning and a non-pruning statement of
# each kind (plain, and parameterized: PREPARE/EXECUTE or constants that
# pg_stat_statements turned into $n) are classified right, with the reasons;
# nothing but EXPLAIN runs (a statement whose execution would write to a log
# table leaves it empty, no call count moves, the server log shows only
# EXPLAIN and PREPARE of them); a data-modifying WITH is never explained;
# without pg_stat_statements the command says how to enable it (exit 1).
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use PostgreSQL::Test::Utils qw(slurp_file);

# --- without pg_stat_statements ---
my $plain = new_cluster('nopgss');
seed_schema($plain);
pgpart_ok($plain, 'init', 'init');
pgpart_ok($plain, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01');
my $e = pgpart_fails($plain, 'not installed', 1, qr/pg_stat_statements is not installed in this database/,
	'check');
like($e, qr/hint: .*shared_preload_libraries.*CREATE EXTENSION pg_stat_statements/s,
	'the hint says how to enable it');
psql_ok($plain, 'CREATE EXTENSION pg_stat_statements');
pgpart_fails($plain, 'installed but not loaded', 1,
	qr/pg_stat_statements is installed but not loaded.*shared_preload_libraries/, 'check');
$plain->stop;

# --- with it ---
my $node = new_cluster('check', conf => "shared_preload_libraries = 'pg_stat_statements'");
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01',
	'--premake', '2');
pgpart_ok($node, 'create expenses', 'create', 'expenses', '--column', 'occurred_at', '--start', '2025-01-01');
psql_ok($node, q{
	INSERT INTO revenues (org_id, property_id, occurred_at, amount)
	SELECT g % 50, g % 7, timestamptz '2025-01-01' + (g % 700) * interval '1 day', g
	FROM generate_series(1, 7000) g;
	ANALYZE revenues;
	CREATE TABLE check_log (at timestamptz);
	-- what running (not explaining) a statement calling it would leave behind
	CREATE FUNCTION noisy(bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE
		AS $$ BEGIN INSERT INTO check_log VALUES (now()); RETURN true; END $$;
	-- found by its plan, though its text never names revenues
	CREATE VIEW revenue_view AS SELECT * FROM revenues;
	CREATE EXTENSION pg_stat_statements;
	SELECT pg_stat_statements_reset();});
my $nparts = psql_ok($node, q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'revenues'::regclass});
cmp_ok($nparts, '>=', 8, "revenues has $nparts partitions");

# each its own psql call: top-level statements, as an application sends them
my %q = (
	# plain (no constants): now() is stable, so pruning happens at executor start-up
	plain_prunes => q{SELECT count(*) FROM revenues WHERE occurred_at > now()},
	plain_scans => q{SELECT count(*) FROM revenues WHERE org_id = property_id},
	# constants, recorded as $1, $2: judged by the generic plan
	const_prunes => q{SELECT sum(amount) FROM revenues WHERE occurred_at >= '2025-04-01' AND occurred_at < '2025-05-01'},
	const_trunc => q{SELECT sum(amount) FROM revenues WHERE date_trunc('month', occurred_at) = '2025-04-01'},
	# PREPARE/EXECUTE, as drivers do
	prep_prunes => q{PREPARE p1(timestamptz, timestamptz) AS SELECT count(*) FROM revenues WHERE occurred_at >= $1 AND occurred_at < $2; EXECUTE p1('2025-07-01', '2025-08-01')},
	prep_org => q{PREPARE p2(bigint) AS SELECT sum(amount), count(status) FROM revenues WHERE org_id = $1; EXECUTE p2(7)},
	noisy => q{SELECT count(*) FROM revenues WHERE occurred_at < '2025-03-01' OR noisy(org_id)},
	expenses => q{SELECT count(*) FROM expenses},
	view_scans => q{SELECT max(amount) FROM revenue_view},
	cte_delete => q{WITH d AS (DELETE FROM revenues WHERE id = -1 RETURNING id) SELECT count(*) FROM d},
);
psql_ok($node, $q{$_}) for sort keys %q;
my $logged = psql_ok($node, 'SELECT count(*) FROM check_log');
cmp_ok($logged, '>', 0, "running the noisy statement writes to check_log ($logged rows)");
psql_ok($node, 'TRUNCATE check_log');

my $calls_sql = q{SELECT string_agg(queryid || '=' || calls, ',' ORDER BY queryid) FROM pg_stat_statements
	WHERE query LIKE '%FROM revenues%' AND query NOT LIKE 'EXPLAIN%' AND query NOT LIKE 'PREPARE%'};
my $calls_before = psql_ok($node, $calls_sql);
my $log_offset = -s $node->logfile;

my ($rc, $out, $err) = pgpart($node, '--json', 'check');
is($rc, 3, 'exit 3: some statements do not prune') or diag($err);
my $r = decode_json($out);
note($out);

# find the judgement of a statement by a piece of its (normalized) text
sub verdict_of
{
	my ($re) = @_;
	my @s = grep { $_->{query} =~ $re } @{ $r->{statements} };
	return $s[0] // { verdict => 'missing', reason => undef };
}

my $s = verdict_of(qr/occurred_at > now\(\)/);
is($s->{verdict}, 'prunes at run time', 'plain, pruning: prunes at run time');
ok(!$s->{generic_plan}, 'plain: EXPLAINed as it is');
cmp_ok($s->{subplans_removed}, '>', 0, 'plain, pruning: Subplans Removed counted');
is($s->{partitions}, $nparts, 'the table\'s partitions counted');
is($s->{partitions_in_plan}, $nparts, 'all planned, some removed at start-up');
cmp_ok($s->{partitions_scanned}, '<', $nparts, 'fewer scanned');

$s = verdict_of(qr/org_id = property_id/);
is($s->{verdict}, 'does not prune', 'plain, not pruning');
is($s->{reason}, 'no condition on occurred_at', 'plain, not pruning: the reason');
is($s->{partitions_scanned}, $nparts, 'every partition scanned');

$s = verdict_of(qr/occurred_at >= \$1 AND occurred_at < \$2/);
is($s->{verdict}, 'prunes at run time', 'constants as parameters, pruning: the generic plan prunes at start-up');
ok($s->{generic_plan}, 'parameterized: by its generic plan');
cmp_ok($s->{partitions_scanned}, '<=', 2, 'now() as the representative value: at most two partitions left');

$s = verdict_of(qr/date_trunc/);
is($s->{verdict}, 'does not prune', 'date_trunc: does not prune');
is($s->{reason}, 'occurred_at wrapped in date_trunc()', 'date_trunc: named');

$s = verdict_of(qr/occurred_at >= \$1 AND occurred_at < \$2/);
ok(scalar(grep { $_->{query} =~ /PREPARE|occurred_at >= \$1 AND occurred_at < \$2/ } @{ $r->{statements} }) >= 1,
	'the prepared range statement is there');

$s = verdict_of(qr/org_id = \$1/);
is($s->{verdict}, 'does not prune', 'prepared, per org: does not prune');
is($s->{reason}, 'no condition on occurred_at; no index on (org_id, occurred_at): each partition scanned by its heap',
	'prepared, per org: no condition, and the index it lacks');
ok($s->{generic_plan}, 'prepared: generic plan');
cmp_ok($s->{heap_scans}, '>=', $nparts - 1, 'heap scans counted');

$s = verdict_of(qr/FROM revenue_view/);
is($s->{verdict}, 'does not prune', 'a view over the table: judged by its plan');

ok(!grep({ $_->{query} =~ /DELETE/ } @{ $r->{statements} }), 'the data-modifying WITH is not judged');
cmp_ok($r->{refused}, '>=', 1, 'it was refused by the screen');
ok(verdict_of(qr/noisy/)->{verdict} ne 'missing', 'the noisy statement was judged');

my ($t) = grep { $_->{table} eq 'revenues' } @{ $r->{tables} };
ok(grep({ /an index on \(org_id, occurred_at\) INCLUDE \(amount, status\)/ } @{ $t->{advice} }),
	'advice: the covering index with the columns the report reads')
  or diag(explain $t->{advice});

# nothing was executed
is(psql_ok($node, 'SELECT count(*) FROM check_log'), '0', 'the noisy statement was not run');
is(psql_ok($node, $calls_sql), $calls_before, 'no statement on revenues was called again');
my $log = slurp_file($node->logfile, $log_offset);
my @ran = grep { !/(?:statement|execute [^:]*): (?:EXPLAIN|PREPARE) / } grep { /FROM revenues/ && /(?:statement|execute [^:]*): / }
  split /\n/, $log;
is(scalar @ran, 0, 'the server ran only EXPLAIN and PREPARE of them') or diag(join("\n", @ran));
is(psql_ok($node, 'SELECT count(*) FROM pg_prepared_statements'), '0', 'no prepared statement left');

# text output and --top
($rc, $out, $err) = pgpart($node, 'check');
like($out, qr/^\d+ statements judged, \d+ do not prune/m, 'text: the summary line');
($rc, $out, $err) = pgpart($node, 'check', '--top', '1');
is($rc, $out =~ /does not prune/ ? 3 : 0, 'text: exit status follows the verdicts');
like($out, qr/^1\. (?:prunes|prunes at run time|does not prune) on public\.revenues/m, 'text: a verdict line');
unlike($out, qr/^2\. /m, '--top 1: one statement');

# advice from the table: rows in the default partition, an index never
# scanned, a partition far bigger than the median
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2035-01-01', 1);
	INSERT INTO revenues (org_id, property_id, occurred_at, amount)
	SELECT g % 50, g % 7, timestamptz '2025-04-01' + (g % 90) * interval '1 day', g
	FROM generate_series(1, 40000) g;
	CREATE INDEX revenues_category ON revenues (category);});
$r = decode_json((pgpart($node, '--json', 'check'))[1]);
($t) = grep { $_->{table} eq 'revenues' } @{ $r->{tables} };
ok(grep({ /default partition revenues_default holds 1 rows/ } @{ $t->{advice} }), 'advice: rows in the default partition')
  or diag(explain $t->{advice});
ok(grep({ /partition revenues_2025_q2 holds .* times the median partition/ } @{ $t->{advice} }),
	'advice: a partition far bigger than the median')
  or diag(explain $t->{advice});
ok(grep({ /index revenues_category was never scanned/ } @{ $t->{advice} }), 'advice: an index never scanned')
  or diag(explain $t->{advice});

pgpart_fails($node, 'bad --top', 2, qr/invalid --top/, 'check', '--top', '0');
pgpart_fails($node, 'bad --statement-timeout', 2, qr/invalid --statement-timeout/, 'check',
	'--statement-timeout', '0');
pgpart_fails($node, 'a table pgpart does not manage', 2, qr/nosuch/, 'check', 'nosuch');
($rc, $out) = pgpart($node, '--json', 'check');
is(scalar(grep { $_->{table} eq 'public.expenses' } @{ decode_json($out)->{statements} }), 1,
	'every managed table: the expenses statement too');
($rc, $out) = pgpart($node, '--json', 'check', 'revenues');
is(scalar(grep { $_->{table} ne 'public.revenues' } @{ decode_json($out)->{statements} }), 0,
	'check TABLE: only that table');
done_testing();
