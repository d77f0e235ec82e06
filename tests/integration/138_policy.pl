# The tier policy: bad input is refused and changes nothing; status shows
# the policy and each partition's tier; maintain --dry-run lists the planned
# warm moves, archives and drops without doing them; maintain applies the
# policy (archive after an age, retention drops archived first, or unarchived
# when the policy says so) and records what retention dropped; rollup
# summaries survive the archive and are not doubled by a restore.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use File::Path qw(make_path);

my $node = new_cluster('policy');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
for my $t (qw(revenues expenses))
{
	pgpart_ok($node, "create $t", 'create', $t, '--column', 'occurred_at', '--start', '2024-10-01',
		'--premake', '1');
}
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=10000', '-v', 'orgs=20',
		'-v', 'future_rows=0', '-d', $node->connstr('postgres'), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load rows');
psql_ok($node, q{CREATE TABLE plain (id int)});
my $base = PostgreSQL::Test::Utils::tempdir();
make_path("$base/arch", "$base/ts");
my $url = "file://$base/arch";
my $all = table_fingerprint($node, 'revenues');
sub parts
{
	my ($t) = @_;
	return psql_ok($node, qq{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid WHERE h.inhparent = '$t'::regclass});
}
my $parts = parts('revenues');

# ---- bad input
pgpart_fails($node, 'unconfigured table', 2, qr/table "plain" is not managed by pgpart/, 'policy', 'plain',
	'--archive-after', '1 year', '--archive-to', $url);
pgpart_fails($node, 'unknown table', 2, qr/table "nope" does not exist/, 'policy', 'nope',
	'--archive-after', '1 year', '--archive-to', $url);
pgpart_fails($node, 'unknown tablespace', 2, qr/tablespace "nowhere" does not exist/, 'policy', 'revenues',
	'--warm-after', '1 quarter', '--warm-tablespace', 'nowhere');
pgpart_fails($node, 'bad age', 2, qr/invalid --archive-after "a while"/, 'policy', 'revenues',
	'--archive-after', 'a while', '--archive-to', $url);
pgpart_fails($node, 'bad url', 2, qr/invalid archive location "ftp:\/\/x"/, 'policy', 'revenues',
	'--archive-after', '1 year', '--archive-to', 'ftp://x');
pgpart_fails($node, 'archive without location', 2, qr/--archive-after needs --archive-to/, 'policy',
	'revenues', '--archive-after', '1 year');
pgpart_fails($node, 'warm without tablespace', 2, qr/go together/, 'policy', 'revenues',
	'--warm-after', '1 quarter');
pgpart_fails($node, 'drop without archive', 2, qr/--drop-after archives a partition before dropping it/,
	'policy', 'revenues', '--drop-after', '7 years');
is(psql_ok($node, 'SELECT count(*) FROM pgpart.tier_policy'), '0', 'bad input stored nothing');
like(pgpart_ok($node, 'no policy yet', 'policy', 'revenues'), qr/no tier policy/, 'shows no policy');

# ---- the warm step, planned only (the move itself is tested with "pgpart move")
psql_ok($node, "CREATE TABLESPACE warm LOCATION '$base/ts'");
like(pgpart_ok($node, 'policy with warm', 'policy', 'revenues', '--warm-after', '1 quarter',
		'--warm-tablespace', 'warm', '--archive-after', '1 year', '--archive-to', $url, '--drop-after',
		'18 months'),
	qr/warm after 1 quarter: tablespace warm\n  archive after 1 year: to \Q$url\E\n  drop after 18 months \(archived first\)/,
	'policy stored and shown, ages normalised');
my $st = pgpart_ok($node, 'status with policy', 'status', 'revenues');
like($st, qr/tier policy: warm after 1 quarter \(tablespace warm\), archive after 1 year to \Q$url\E, drop after 18 months/,
	'status shows the policy');
like($st, qr/revenues_2025_q1 .* hot /, 'status shows tiers');
my $dry = pgpart_ok($node, 'maintain --dry-run', '--dry-run', 'maintain', 'revenues');
like($dry, qr/-- public.revenues: would move public.revenues_2025_q4 to tablespace warm/,
	'dry run plans the warm move of a closed quarter');
like($dry, qr/-- public.revenues: would archive public.revenues_2025_q3 to \Q$url\E\n/,
	'dry run plans an archive');
like($dry, qr/would archive public.revenues_2024_q4 .*\(retention: past --drop-after\)/,
	'dry run plans a retention drop, archived first');
unlike($dry, qr/revenues_2026_q4/, 'the current quarter is never planned');
is(parts('revenues'), $parts, 'dry run changed nothing');
is(psql_ok($node, 'SELECT count(*) FROM pgpart.archive_job'), '0', 'dry run recorded no job');
is(`ls -A $base/arch`, '', 'dry run wrote nothing');

# ---- the warm step for real: maintain moves every closed quarter older than
# one quarter to the warm tablespace (online, with "pgpart move")
pgpart_ok($node, 'policy: warm only', 'policy', 'revenues', '--warm-after', '1 quarter',
	'--warm-tablespace', 'warm');
my $w = pgpart_ok($node, 'maintain moves to warm', 'maintain', 'revenues');
like($w, qr/note: moved public.revenues_2025_q4 to tablespace warm/, 'maintain moved a closed quarter');
my $spc = q{SELECT string_agg(c.relname || ':' || COALESCE(t.spcname, 'pg_default'), ',' ORDER BY c.relname)
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
	WHERE i.inhparent = 'revenues'::regclass AND c.relname IN ('revenues_2025_q3', 'revenues_2025_q4', 'revenues_2026_q4')};
is(psql_ok($node, $spc), 'revenues_2025_q3:warm,revenues_2025_q4:warm,revenues_2026_q4:pg_default',
	'closed quarters warm, the current one hot');
is(table_fingerprint($node, 'revenues'), $all, 'the move kept every row');
like(pgpart_ok($node, 'status shows warm', 'status', 'revenues'), qr/revenues_2025_q4 .* warm /, 'status: tier warm');
like(pgpart_ok($node, 'metrics show warm', 'metrics'), qr/pgpart_partitions\{table="public.revenues",tier="warm",tablespace="warm"\} [1-9]/,
	'metrics: partitions in the warm tier');
like(pgpart_ok($node, 'maintain again after warm', 'maintain', 'revenues'), qr/nothing to do/, 'warm moves are done once');

# ---- a rollup, so we can see that its summaries survive archiving
pgpart_ok($node, 'rollup', 'rollup', 'add', 'revenues', '--name', 'revenues_monthly', '--grain', 'month',
	'--group-by', 'org_id, status', '--measures', 'sum(amount), count(*)');
sub report
{
	my ($rc, $out, $err) = pgpart($node, 'report', 'yearly', 'revenues', '--org', '1', '--year', '2025',
		'--source', 'rollup', '--json');
	die "report failed: $err" if $rc;
	my $j = decode_json($out);
	my $strip;
	$strip = sub {
		my ($x) = @_;
		if (ref $x eq 'HASH') { delete $x->{$_} for grep { /_ms$|source|why/ } keys %$x; $strip->($_) for values %$x }
		elsif (ref $x eq 'ARRAY') { $strip->($_) for @$x }
	};
	$strip->($j);
	return JSON::PP->new->canonical->encode($j);
}
my $report_before = report();

# ---- maintain applies the policy (without the warm step here)
pgpart_ok($node, 'policy without warm', 'policy', 'revenues', '--archive-after', '1 year', '--archive-to',
	$url, '--drop-after', '18 months');
my $m = pgpart_ok($node, 'maintain applies', 'maintain', 'revenues');
like($m, qr/note: archived public.revenues_2025_q3 to/, 'maintain archived q3 2025 (ended over a year ago)');
like($m, qr/note: archived public.revenues_2024_q4 .*retention/, 'retention archived q4 2024 first');
is(parts('revenues'), 'revenues_2025_q4,revenues_2026_q1,revenues_2026_q2,revenues_2026_q3,revenues_2026_q4,revenues_2027_q1,revenues_default',
	'only partitions younger than a year stay');
is(psql_ok($node, q{SELECT string_agg(partition_name || ':' || (archive_job IS NOT NULL), ',' ORDER BY partition_name) FROM pgpart.retention_log}),
	'revenues_2024_q4:true,revenues_2025_q1:true', 'retention recorded what it dropped, with its archive');
is(psql_ok($node, q{SELECT count(*) FROM pgpart.archive_job WHERE phase = 'archived'}), '4', 'four archives');
like(pgpart_ok($node, 'status after', 'status', 'revenues'), qr/archived revenues_2025_q2 \[.*\): archived, \d+ rows/,
	'status lists archived partitions');
is(report(), $report_before, 'rollup summaries survive the archive');
like(pgpart_ok($node, 'maintain again', 'maintain', 'revenues'), qr/nothing to do/, 'maintain again: nothing to do');

# a row arriving late for an archived range waits in the default partition:
# no partition is made anew for it (it would collide with the restore, and its
# summary would replace the archived one in the rollup)
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2025-08-15', 5)});
my $late = pgpart_ok($node, 'maintain with a late row', 'maintain', 'revenues');
like($late, qr/no partition made for .*that range is archived \(revenues_2025_q3, archived\)/,
	'maintain says why the late row stays in the default partition');
is(parts('revenues'), 'revenues_2025_q4,revenues_2026_q1,revenues_2026_q2,revenues_2026_q3,revenues_2026_q4,revenues_2027_q1,revenues_default',
	'no partition made for the archived range');
is(psql_ok($node, q{SELECT count(*) FROM ONLY revenues_default WHERE occurred_at = '2025-08-15'}), '1', 'the row is kept');
# the report is exact: the archived summary plus the late row (from the default partition)
my $expect = decode_json($report_before);
for my $r (@{ $expect->{rows} })
{
	next unless $r->{month} eq '2025-08-01' && $r->{status} eq 'pending';
	$r->{rows} = "" . ($r->{rows} + 1);
	$r->{amount} = sprintf('%.2f', $r->{amount} + 5);
}
is(report(), JSON::PP->new->canonical->encode($expect), 'the archived summary and the late row, each once');
psql_ok($node, q{DELETE FROM revenues WHERE occurred_at = '2025-08-15' AND amount = 5});
is(report(), $report_before, 'and without it again');
pgpart_ok($node, 'refresh after the late row went', 'rollup', 'refresh', 'revenues');

# restore everything; the rollup is not doubled
for my $mf (pgpart_ok($node, 'list', 'archive', 'list', $url) =~ m{(file://\S+\.manifest\.json)}g)
{
	pgpart_ok($node, "restore $mf", 'restore', 'revenues', '--from', $mf);
}
is(table_fingerprint($node, 'revenues'), $all, 'every row back');
pgpart_ok($node, 'clear policy', 'policy', 'revenues', '--clear');
pgpart_ok($node, 'maintain after restore', 'maintain', 'revenues');
is(report(), $report_before, 'restored partitions are not summarised twice');

# ---- retention without archiving, when the policy says so
my $exp_parts = parts('expenses');
pgpart_ok($node, 'unarchived retention policy', 'policy', 'expenses', '--drop-after', '18 months',
	'--drop-unarchived');
like(pgpart_ok($node, 'maintain drops', 'maintain', 'expenses'), qr/note: dropped public.expenses_2024_q4 \(retention, not archived\)/,
	'dropped without archive');
is(psql_ok($node, q{SELECT count(*) FROM pgpart.retention_log WHERE parent_name = 'expenses' AND archive_job IS NULL}),
	'2', 'retention log records the unarchived drops');
is(psql_ok($node, q{SELECT to_regclass('expenses_2025_q1') IS NULL AND to_regclass('expenses_2025_q2') IS NOT NULL}),
	't', 'only partitions past --drop-after were dropped');
done_testing();
