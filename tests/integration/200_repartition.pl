# pgpart repartition: a quarterly table gets monthly partitions from a date on
# (the first boundary after its last partition, or --from), maintain makes
# them for rows in the default partition and premake makes the coming ones;
# rows land in the partition of their period; status shows the interval of
# each partition; metrics, archive and restore, retention, and rollups (the
# same report as from the detail rows) work on both sides of the change; back
# to quarters later is a second history row; bad input changes nothing; a
# hostile name works.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;

my $node = new_cluster('repartition');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
# quarters from 2025-01-01 through the current one (2026-12-03 when this was
# written; any later date works the same)
pgpart_ok($node, 'create quarterly', 'create', 'revenues', '--column', 'occurred_at', '--start',
	'2025-01-01', '--premake', '0');
# a table whose maintenance stopped in mid-2025: its partitions end 2025-07-01
psql_ok($node, q{DO $$ DECLARE r record; BEGIN
	FOR r IN SELECT c.oid::regclass AS p FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
		WHERE h.inhparent = 'revenues'::regclass AND c.relname NOT IN ('revenues_2025_q1', 'revenues_2025_q2', 'revenues_default')
	LOOP EXECUTE 'DROP TABLE ' || r.p; END LOOP; END $$});
sub parts
{
	my ($t) = @_;
	return psql_ok($node, qq{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits h
		JOIN pg_class c ON c.oid = h.inhrelid WHERE h.inhparent = '$t'::regclass});
}
is(parts('revenues'), 'revenues_2025_q1,revenues_2025_q2,revenues_default', 'two quarters and the default');
sub history
{
	return psql_ok($node, q{SELECT coalesce(string_agg(parent_table::text || ' ' || from_date || ' ' || part_interval,
		'; ' ORDER BY parent_table::text, from_date), '') FROM pgpart.interval_history});
}

# ---- bad input: a clear error, exit 2, nothing changed
pgpart_fails($node, 'no --interval', 2, qr/--interval is required/, 'repartition', 'revenues');
pgpart_fails($node, 'unknown unit', 2, qr/invalid --interval "fortnight" \(day, week, month, quarter or year\)/,
	'repartition', 'revenues', '--interval', 'fortnight');
pgpart_fails($node, 'not a date', 2, qr/invalid --from "2025-02-30"/, 'repartition', 'revenues',
	'--interval', 'month', '--from', '2025-02-30');
pgpart_fails($node, 'unmanaged table', 2, qr/table "expenses" is not managed by pgpart/, 'repartition',
	'expenses', '--interval', 'month');
pgpart_fails($node, 'unknown table', 2, qr/table "nope" does not exist/, 'repartition', 'nope',
	'--interval', 'month');
my $err = pgpart_fails($node, '--from inside the partitions', 2,
	qr/--from 2025-04-01 is inside the existing partitions of public\.revenues, which end at 2025-07-01/,
	'repartition', 'revenues', '--interval', 'month', '--from', '2025-04-01');
like($err, qr/hint: Allowed --from dates: 2025-07-01, 2025-10-01, 2026-01-01 .*nothing was changed/,
	'the hint lists the dates allowed');
$err = pgpart_fails($node, '--from inside a quarter', 2,
	qr/--from 2025-08-01 does not start both a quarter of public\.revenues and a month/,
	'repartition', 'revenues', '--interval', 'month', '--from', '2025-08-01');
like($err, qr/Allowed --from dates: 2025-07-01, 2025-10-01/, 'and says which are');
pgpart_fails($node, 'a year from a mid-year quarter', 2, qr/--from 2025-07-01 does not start both a quarter .* and a year/,
	'repartition', 'revenues', '--interval', 'year', '--from', '2025-07-01');
pgpart_fails($node, 'the same interval', 2, qr/public\.revenues already has quarter partitions from 2025-07-01 on/,
	'repartition', 'revenues', '--interval', 'quarter');
# another pgpart working on the table: repartition waits for nobody, changes nothing
my $other = $node->background_psql('postgres');
$other->query_safe(q{SET application_name = 'pgpart maintain'});
$other->query_safe(q{SELECT pg_advisory_lock(hashtext('pgpart'), 'revenues'::regclass::oid::integer)});
pgpart_fails($node, 'a busy table', 4, qr/another pgpart is working on public\.revenues: pgpart maintain/,
	'repartition', 'revenues', '--interval', 'month');
$other->quit;
is(history(), '', 'bad input recorded nothing');

# ---- --dry-run: the plan and its SQL, nothing changed
my $dry = pgpart_ok($node, 'repartition --dry-run', '--dry-run', 'repartition', 'revenues', '--interval', 'month');
like($dry, qr/INSERT INTO pgpart\.interval_history .*'2025-07-01'::date, 'month'/, 'dry run prints the statement');
like($dry, qr/public\.revenues: month partitions from 2025-07-01 on \(quarter before\); dry run, nothing changed/,
	'and the plan');
like($dry, qr/next: revenues_2025_07 \[2025-07-01, 2025-08-01\)/, 'with the first partitions of the new interval');
is(history(), '', '--dry-run recorded nothing');

# ---- months from where the partitions end
my $j = decode_json(pgpart_ok($node, 'repartition to months', '--json', 'repartition', 'revenues', '--interval', 'months'));
is($j->{from}, '2025-07-01', 'default --from: the end of the last partition');
is($j->{previous_interval}, 'quarter', 'from quarters');
is($j->{interval}, 'month', 'to months');
is_deeply($j->{first_partitions}, [ 'revenues_2025_07 [2025-07-01, 2025-08-01)', 'revenues_2025_08 [2025-08-01, 2025-09-01)',
	'revenues_2025_09 [2025-09-01, 2025-10-01)' ], 'json: the first partitions');
is(history(), 'revenues 2025-07-01 month', 'one history row');

# rows of both stretches; those after the change wait in the default partition
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=6000', '-v', 'orgs=20',
		'-v', 'future_rows=0', '-v', 'from=2025-01-01', '-v', 'to=2026-10-31', '-d', $node->connstr('postgres'),
		'-f', "$ENV{TOP}/scripts/seed-data.sql" ], 'load rows of 2025-01 .. 2026-10');
pgpart_ok($node, 'day rollup', 'rollup', 'add', 'revenues', '--name', 'revenues_daily', '--grain', 'day',
	'--group-by', 'org_id, status, category', '--measures', 'sum(amount), count(*)');
pgpart_ok($node, 'month rollup', 'rollup', 'add', 'revenues', '--name', 'revenues_monthly', '--grain', 'month',
	'--group-by', 'org_id, status, category', '--measures', 'sum(amount), count(*)');
my $all = table_fingerprint($node, 'revenues');
my $out = pgpart_ok($node, 'maintain', 'maintain', 'revenues');
is(table_fingerprint($node, 'revenues'), $all, 'maintain moved rows, lost none');
is(psql_ok($node, 'SELECT count(*) FROM revenues_default'), '0', 'the default partition is empty');
my $p = parts('revenues');
like($p, qr/revenues_2025_07,revenues_2025_08,.*revenues_2026_10,/, 'month partitions for the rows after the change');
unlike($p, qr/revenues_2025_q3|revenues_2026_q/, 'no quarter after the change');
like($p, qr/revenues_2026_12/, 'premake 0: the current month');
is(psql_ok($node, q{SELECT count(*) FROM revenues_2025_q2 WHERE occurred_at < '2025-04-01' OR occurred_at >= '2025-07-01'}), '0',
	'rows of the quarter in the quarter');
is(psql_ok($node, q{SELECT count(*) FROM revenues_2025_08 WHERE occurred_at < '2025-08-01' OR occurred_at >= '2025-09-01'}), '0',
	'rows of a month in its month');
is(psql_ok($node, q{SELECT count(*) > 0 FROM revenues_2025_08}), 't', 'and it has rows');
is(psql_ok($node, q{SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'revenues_2025_07'}),
	q{FOR VALUES FROM ('2025-07-01 00:00:00+00') TO ('2025-08-01 00:00:00+00')}, 'the first month starts at the change');
# a new row routes to its month
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2026-02-14 12:00+00', 10)});
is(psql_ok($node, q{SELECT tableoid::regclass FROM revenues WHERE occurred_at = '2026-02-14 12:00+00'}), 'revenues_2026_02',
	'an insert lands in its month');
$all = table_fingerprint($node, 'revenues');
like(pgpart_ok($node, 'maintain again', 'maintain', 'revenues'), qr/^public\.revenues: nothing to do$/m,
	'a second maintain has nothing to do');

# ---- status shows the interval of each partition
my $st = pgpart_ok($node, 'status', 'status', 'revenues');
like($st, qr/RANGE \(occurred_at\), quarter, month from 2025-07-01 partitions/, 'status: the intervals of the table');
like($st, qr/^\s+revenues_2025_q2\s+2025-04-01\s+2025-07-01\s+quarter\s/m, 'status: a quarter partition');
like($st, qr/^\s+revenues_2025_07\s+2025-07-01\s+2025-08-01\s+month\s/m, 'status: a month partition');
my $sj = decode_json(pgpart_ok($node, 'status --json', 'status', 'revenues', '--json'))->{tables}[0];
is($sj->{interval}, 'month', 'json: new partitions are months');
is_deeply($sj->{interval_history}, [ { from => undef, interval => 'quarter' }, { from => '2025-07-01', interval => 'month' } ],
	'json: the history of intervals');
my %iv = map { $_->{name} => $_->{interval} } @{ $sj->{partitions} };
is($iv{revenues_2025_q1}, 'quarter', 'json: a quarter');
is($iv{revenues_2026_03}, 'month', 'json: a month');
is($iv{revenues_default}, undef, 'json: the default has no interval');
my $metrics = pgpart_ok($node, 'metrics', 'metrics');
like($metrics, qr/^pgpart_future_partitions\{table="public.revenues"\} $sj->{future_partitions}$/m,
	'metrics: future partitions as status says');

# ---- rollups across the change: the same as the detail rows
sub report
{
	my ($source, @args) = @_;
	my ($rc, $o, $e) = pgpart($node, 'report', @args, '--source', $source, '--json');
	die "report @args failed: $e" if $rc;
	return decode_json($o);
}
for my $r ([ 'yearly', 'revenues', '--org', '1', '--year', '2025' ],
	[ 'monthly', 'revenues', '--org', '2', '--month', '2025-06' ],
	[ 'monthly', 'revenues', '--org', '2', '--month', '2025-07' ],
	[ 'daily', 'revenues', '--org', '1', '--date', '2025-06-30' ],
	[ 'cross-org', 'revenues', '--from', '2025-05-01', '--to', '2025-09-01' ],
	[ 'cross-org', 'revenues', '--from', '2025-06-20', '--to', '2025-07-10', '--by', 'status' ])
{
	my $auto = report('auto', @$r);
	is_deeply($auto->{rows}, report('detail', @$r)->{rows}, "@$r: the rollup's answer equals the detail rows'");
	like($auto->{source}, qr/^rollup/, "@$r: answered from a rollup");
}
pgpart_fails($node, 'days with a month rollup', 2, qr/has the month rollup .*revenues_monthly: its partitions must be a month or longer/,
	'repartition', 'revenues', '--interval', 'day');

# ---- archive and restore a quarter and a month; retention of both
my $base = PostgreSQL::Test::Utils::tempdir();
my $url = "file://$base";
for my $part (qw(revenues_2025_q2 revenues_2025_08))
{
	my $before = psql_ok($node, "SELECT count(*) FROM $part");
	like(pgpart_ok($node, "archive $part", 'archive', 'revenues', $part, '--to', $url), qr/archived public.$part .*: $before rows/,
		"archive $part");
	# (read in place under the companion, with its name: no longer the table's partition)
	is(psql_ok($node, "SELECT coalesce((SELECT relkind::text FROM pg_class WHERE oid = to_regclass('$part')), 'none')"), 'f',
		"$part dropped, its archive read in place");
	my ($manifest) = glob("$base/public.revenues/$part*manifest.json");
	ok($manifest, "$part: a manifest");
	like(pgpart_ok($node, "restore $part", 'restore', 'revenues', '--from', "file://$manifest"), qr/$part/,
		"restore $part: back under its name");
	is(psql_ok($node, "SELECT count(*) FROM $part"), $before, "$part: its rows are back");
}
is(table_fingerprint($node, 'revenues'), $all, 'archive and restore kept every row');
my ($rc, $o, $e) = pgpart($node, 'report', 'yearly', 'revenues', '--org', '1', '--year', '2025', '--source', 'auto', '--json');
is_deeply(decode_json($o)->{rows}, report('detail', 'yearly', 'revenues', '--org', '1', '--year', '2025')->{rows},
	'rollups unchanged by the archive and restore');
# retention: everything that ended more than a year ago (quarters and months) is dropped
pgpart_ok($node, 'retention policy', 'policy', 'revenues', '--drop-after', '1 year', '--drop-unarchived');
pgpart_ok($node, 'maintain applies it', 'maintain', 'revenues');
my $dropped = psql_ok($node, q{SELECT string_agg(partition_name, ',' ORDER BY lo) FROM pgpart.retention_log});
like($dropped, qr/^revenues_2025_q1,revenues_2025_q2,revenues_2025_07,revenues_2025_08,/, 'retention dropped quarters and months');
unlike(parts('revenues'), qr/revenues_2025_q|revenues_2025_0[78]/, 'they are gone');
pgpart_ok($node, 'no policy', 'policy', 'revenues', '--clear');

# ---- back to quarters: a second history row
$err = pgpart_fails($node, 'quarters from inside a quarter', 2, qr/--from 2027-02-01 does not start both a month .* and a quarter/,
	'repartition', 'revenues', '--interval', 'quarter', '--from', '2027-02-01');
$j = decode_json(pgpart_ok($node, 'back to quarters', '--json', 'repartition', 'revenues', '--interval', 'quarter'));
my $qfrom = $j->{from};
like($qfrom, qr/^\d{4}-(01|04|07|10)-01$/, "quarters from the first quarter start after the last month ($qfrom)");
is(history(), "revenues 2025-07-01 month; revenues $qfrom quarter", 'two history rows');
my ($qy, $qm) = $qfrom =~ /^(\d{4})-(\d\d)/;
my $qname = sprintf('revenues_%s_q%d', $qy, ($qm + 2) / 3);
psql_ok($node, qq{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (3, 1, '$qfrom'::date + 40, 7)});
pgpart_ok($node, 'maintain makes the quarter', 'maintain', 'revenues');
is(psql_ok($node, qq{SELECT tableoid::regclass FROM revenues WHERE org_id = 3 AND amount = 7}), $qname,
	"the row lands in the quarter $qname");
$st = pgpart_ok($node, 'status after the second change', 'status', 'revenues');
like($st, qr/quarter, month from 2025-07-01, quarter from $qfrom partitions/, 'status: both changes');
like($st, qr/^\s+\Q$qname\E\s+$qfrom\s+\S+\s+quarter\s/m, 'status: the new quarter');

# ---- a hostile name; premake follows the months
psql_ok($node, q{CREATE SCHEMA "Sales Dept";
	CREATE TABLE "Sales Dept"."Order ""Lines"" Q" ("Id" bigint, "At" timestamptz NOT NULL, v int)});
my $t = q{"Sales Dept"."Order ""Lines"" Q"};
my $today = psql_ok($node, q{SELECT current_date});
my ($ty, $tm) = $today =~ /^(\d{4})-(\d\d)/;
my $qstart = sprintf('%s-%02d-01', $ty, int(($tm - 1) / 3) * 3 + 1);
pgpart_ok($node, 'create hostile', 'create', $t, '--column', 'At', '--start', $qstart, '--premake', '2');
# only the current quarter remains: the next partition would start at its end
my $keep = psql_ok($node, qq{SELECT min(c.relname) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
	WHERE h.inhparent = '$t'::regclass AND c.relname <> 'Order "Lines" Q_default'});
psql_ok($node, qq{DO \$\$ DECLARE r record; BEGIN
	FOR r IN SELECT c.oid::regclass AS p FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
		WHERE h.inhparent = '$t'::regclass AND c.relname NOT IN ('$keep', 'Order "Lines" Q_default')
	LOOP EXECUTE 'DROP TABLE ' || r.p; END LOOP; END \$\$});
$j = decode_json(pgpart_ok($node, 'repartition hostile', '--json', 'repartition', $t, '--interval', 'month'));
is($j->{schema}, 'Sales Dept', 'json: the schema');
is($j->{table}, 'Order "Lines" Q', 'json: the table');
my $mfrom = $j->{from};
my ($my, $mm) = $mfrom =~ /^(\d{4})-(\d\d)/;
pgpart_ok($node, 'maintain hostile', 'maintain', $t);
my $hp = parts($t);
my $m1 = sprintf('Order "Lines" Q_%s_%s', $my, $mm);
my $m2 = sprintf('Order "Lines" Q_%04d_%02d', $mm == 12 ? $my + 1 : $my, $mm == 12 ? 1 : $mm + 1);
like($hp, qr/\Q$m1\E,\Q$m2\E,/, "premake 2 after the current quarter: the months $m1 and $m2");
unlike($hp, qr/_q\d,.*_q\d/, 'no second quarter');
psql_ok($node, qq{INSERT INTO $t VALUES (1, '$mfrom'::date + 3, 1)});
is(psql_ok($node, qq{SELECT tableoid::regclass::text FROM $t WHERE "Id" = 1}), qq{"Sales Dept"."$m1"} =~ s/"Lines"/""Lines""/r,
	'a row lands in the first month');
like(pgpart_ok($node, 'status hostile', 'status', $t), qr/quarter, month from $mfrom partitions/, 'status of the hostile table');
pgpart_fails($node, 'hostile: inside', 2, qr/--from \Q$qstart\E is inside the existing partitions of Sales Dept\.Order "Lines" Q/,
	'repartition', $t, '--interval', 'month', '--from', $qstart);

done_testing();
