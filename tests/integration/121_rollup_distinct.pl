# Exact distinct counts from a rollup (rollup add --distinct): a cross-org
# report counts its orgs from per-chunk bitmaps of a rollup that is not
# grouped by org, and equals count(DISTINCT) of the detail rows, for values
# in many chunks, negative ones, NULLs and the ends of bigint; after writes
# (changed buckets read from the detail rows beside the bitmaps), refresh,
# and after the partition is archived.  Run by a non-superuser owner on a
# table whose schema, name and columns need quoting; read by a reporting role
# with the grants docs/security.md documents.  Bad input leaves nothing.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;

my $node = new_cluster('rollup_distinct');
create_owner_role($node);
$PgpartTest::ROLE = 'app_owner';
psql_as($node, 'app_owner', q{
	CREATE SCHEMA "Fin Ops";
	CREATE TABLE "Fin Ops"."Rev""s" (
		id bigint GENERATED ALWAYS AS IDENTITY,
		"Org Id" bigint,
		"When" timestamptz NOT NULL,
		amount numeric(12,2) NOT NULL,
		status text NOT NULL,
		note text);
});
pgpart_ok($node, 'init', 'init');
my $t = '"Fin Ops"."Rev""s"';
pgpart_ok($node, 'create', 'create', $t, '--column', 'When', '--interval', 'month',
	'--start', '2025-01-01', '--premake', '1');
# orgs over many chunks of 16384, negative ones, NULLs and both ends of bigint
psql_as($node, 'app_owner', qq{
	INSERT INTO $t ("Org Id", "When", amount, status)
	SELECT CASE WHEN g % 97 = 0 THEN NULL
	            WHEN g % 89 = 0 THEN -(g * 37)
	            ELSE (g * 7919) % 300000 END,
	       timestamptz '2025-01-01 00:00+00' + (g % 150) * interval '1 day' + (g % 24) * interval '1 hour',
	       (g % 1000) / 10.0, (ARRAY['approved', 'pending', 'void'])[1 + g % 3]
	FROM generate_series(1, 60000) g;
	INSERT INTO $t ("Org Id", "When", amount, status) VALUES
	  (9223372036854775807, '2025-02-10', 1, 'approved'),
	  (-9223372036854775808, '2025-02-11', 1, 'approved'),
	  (0, '2025-02-12', 1, 'approved'), (-1, '2025-02-12', 1, 'approved'),
	  (16383, '2025-02-12', 1, 'approved'), (16384, '2025-02-12', 1, 'approved');
	ANALYZE $t;
});

# ---- bad input: a clear error, nothing made
my @add = ('rollup', 'add', $t, '--grain', 'day', '--group-by', 'status', '--measures', 'sum(amount), count(*)');
pgpart_fails($node, 'not an integer column', 2, qr/--distinct needs an integer column; status is text/,
	@add, '--name', 'x', '--distinct', 'status');
pgpart_fails($node, 'grouped by it', 2, qr/--distinct Org Id: the rollup is already grouped by Org Id/,
	'rollup', 'add', $t, '--grain', 'day', '--group-by', 'status, "Org Id"', '--measures', 'count(*)',
	'--name', 'x', '--distinct', 'Org Id');
pgpart_fails($node, 'no such column', 2, qr/column "nope" does not exist/, @add, '--name', 'x', '--distinct', 'nope');
pgpart_fails($node, 'only for add', 2, qr/--distinct is an option of rollup add/, 'rollup', 'refresh', $t,
	'--distinct', 'Org Id');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'x'}) . ' '
	. psql_ok($node, q{SELECT count(*) FROM pgpart.rollup}), '0 0', 'nothing left behind');
my $dry = pgpart_ok($node, 'dry-run', '--dry-run', @add, '--name', 'x', '--distinct', 'Org Id');
like($dry, qr/pg_catalog\.bit_or\(pg_catalog\.set_bit\(B'0'::pg_catalog\.bit\(16384\), \(s\."Org Id" & 16383\)::integer, 1\)\)/,
	'--dry-run prints the bitmap aggregate, the column quoted');
is(psql_ok($node, q{SELECT count(*) FROM pgpart.rollup}), '0', '--dry-run makes nothing');

# ---- the rollup: by status only, the orgs as bitmaps
pgpart_ok($node, 'add --distinct', @add, '--name', 'Org "Counts"', '--distinct', 'Org Id');
like(pgpart_ok($node, 'rollup status', 'rollup', 'status', '--name', '"Fin Ops"."Org ""Counts"""'),
	qr/distinct values\s+Org Id counted exactly: \d+ bitmaps of 16384 values, [\d.]+ % of their bits set/,
	'status shows the bitmaps and how full they are');
is(psql_ok($node, q{SELECT count(*) FROM "Fin Ops"."Org ""Counts""" WHERE distinct_chunk IS NULL AND distinct_bits IS NULL}),
	psql_ok($node, qq{SELECT count(DISTINCT ("When" AT TIME ZONE 'UTC')::date || status) FROM $t WHERE "Org Id" IS NULL}),
	'rows without an org keep their sums under a NULL chunk, with no bitmap');

sub report
{
	my ($source, @args) = @_;
	my ($rc, $out, $err) = pgpart($node, 'report', 'cross-org', $t, '--org-column', 'Org Id', @args,
		'--source', $source, '--json');
	die "report @args failed: $err" if $rc;
	return decode_json($out);
}
# count(DISTINCT) straight from the detail rows, by status, as text lines
sub truth
{
	my ($from, $to, $by) = @_;
	my $group = $by ? 'status' : '()';
	my $col = $by ? q{status || ' ' ||} : '';
	return psql_ok($node, qq{SELECT $col count(*) || ' ' || sum(amount) || ' ' || count(DISTINCT "Org Id")
		FROM $t WHERE "When" >= '$from' AND "When" < '$to' GROUP BY $group ORDER BY 1});
}
sub lines
{
	my ($rep, $by) = @_;
	return join("\n", map { ($by ? "$_->{status} " : '') . "$_->{rows} $_->{amount} $_->{orgs}" } @{ $rep->{rows} });
}
my @ranges = ([ '2025-01-01', '2025-04-01' ], [ '2025-02-03', '2025-02-17' ], [ '2025-01-15', '2025-05-20' ],
	[ '2025-02-10', '2025-02-13' ]);
sub check_all
{
	my ($when, $source_re) = @_;
	for my $r (@ranges)
	{
		for my $by ('status', '')
		{
			my $rep = report('auto', '--from', $r->[0], '--to', $r->[1], '--by', $by);
			like($rep->{source}, $source_re, "$when: @$r by '$by' answered from $rep->{source}");
			is(lines($rep, $by), truth($r->[0], $r->[1], $by), "$when: @$r by '$by' equals count(DISTINCT) of the detail rows");
		}
	}
}
check_all('summarised', qr/^rollup Fin Ops\.Org "Counts"$/);
is_deeply(report('auto', '--from', '2025-01-01', '--to', '2025-04-01', '--by', 'status')->{rows},
	report('detail', '--from', '2025-01-01', '--to', '2025-04-01', '--by', 'status')->{rows},
	'the rollup answers as the detail report does');

# ---- writes: the changed buckets come from the detail rows, merged into the bitmaps
psql_as($node, 'app_owner', qq{
	INSERT INTO $t ("Org Id", "When", amount, status) VALUES (777777, '2025-02-05', 5, 'approved'),
	  (-5, '2025-02-05', 5, 'void'), (12, '2025-03-01', 5, 'pending');
	UPDATE $t SET "Org Id" = 4242424 WHERE "Org Id" = 16384;
	DELETE FROM $t WHERE "Org Id" = -9223372036854775808;
	UPDATE $t SET "When" = '2025-02-14' WHERE "Org Id" = 0;
});
my $rep = report('auto', '--from', '2025-02-03', '--to', '2025-02-17', '--by', 'status');
cmp_ok($rep->{buckets_from_detail}, '>=', 3, 'changed buckets are read from the detail rows');
check_all('after writes, before refresh', qr/^rollup /);
pgpart_ok($node, 'refresh', 'rollup', 'refresh', $t);
is(report('auto', '--from', '2025-02-03', '--to', '2025-02-17', '--by', 'status')->{buckets_from_detail}, 0, 'refreshed');
check_all('after refresh', qr/^rollup /);

# ---- a reporting role with the documented grants reads the counts
psql_ok($node, q{CREATE ROLE reporting LOGIN;
	GRANT USAGE ON SCHEMA pgpart TO reporting;
	GRANT SELECT ON ALL TABLES IN SCHEMA pgpart TO reporting;
	GRANT USAGE ON SCHEMA "Fin Ops" TO reporting;
	GRANT SELECT ON "Fin Ops"."Rev""s", "Fin Ops"."Rev""s_default" TO reporting;
	GRANT SELECT ON "Fin Ops"."Org ""Counts""" TO reporting});
{
	local $PgpartTest::ROLE = 'reporting';
	my $as_reporter = report('auto', '--from', '2025-01-01', '--to', '2025-04-01', '--by', '');
	is(lines($as_reporter, ''), truth('2025-01-01', '2025-04-01', ''), 'the reporting role gets the same exact count');
	pgpart_fails($node, 'the reporting role cannot add one', 1, qr/permission denied|must be owner/,
		@add, '--name', 'y', '--distinct', 'Org Id');
}

# ---- archived: the partition goes, its bitmaps stay and keep counting
my $feb = truth('2025-02-01', '2025-03-01', 'status');
my $archive = $node->basedir . '/archive';
mkdir $archive;
pgpart_ok($node, 'archive February', 'archive', $t, '"Fin Ops"."Rev""s_2025_02"', '--to', "file://$archive");
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'Rev"s_2025_02'}), '0', 'the partition is gone');
$rep = report('auto', '--from', '2025-02-01', '--to', '2025-03-01', '--by', 'status');
like($rep->{source}, qr/^rollup /, 'the archived month is answered from the rollup');
is(lines($rep, 'status'), $feb, 'and counts its orgs as before archiving');
done_testing();
