# index add on a populated partitioned table: one valid index per partition,
# and a re-run after an interrupted build replaces the invalid leftover.
use strict;
use warnings;
use PgpartTest;
use Test::More;

my $node = new_cluster('indexadd');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01',
	'--premake', '1');
psql_ok($node, q{
	INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
	SELECT g % 97, g % 13, timestamptz '2025-01-01' + g * interval '7 minutes', 1,
	       (ARRAY['approved', 'pending', 'void'])[1 + g % 3], 'rent'
	FROM generate_series(1, 60000) g;
});

# an interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index behind;
# a failing unique build does the same, deterministically
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	'CREATE UNIQUE INDEX CONCURRENTLY idx_revenues_approved_2025_q2 ON revenues_2025_q2 (status)');
isnt($ret, 0, 'a failed concurrent build');
is(psql_ok($node, q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_revenues_approved_2025_q2'::regclass}),
	'f', 'left an invalid index');

my $status = pgpart_ok($node, 'status', 'status', 'revenues');
like($status, qr/invalid indexes: idx_revenues_approved_2025_q2/, 'status reports the invalid index');

my $dry = pgpart_ok($node, 'dry run', '--dry-run', 'index', 'add', 'revenues', '--name',
	'idx_revenues_approved', '(status)', '--where', "status = 'approved'");
like($dry, qr/CREATE INDEX "idx_revenues_approved" ON ONLY "public"\."revenues" USING "btree" \("status"\) WHERE \(status = 'approved'\)/,
	'dry run prints the parent index');
like($dry, qr/CREATE INDEX CONCURRENTLY/, 'dry run prints the concurrent builds');

my $out = pgpart_ok($node, 'index add partial', 'index', 'add', 'revenues', '--name',
	'idx_revenues_approved', '(status)', '--where', "status = 'approved'");
like($out, qr/1 replacing invalid leftovers/, 'invalid leftover was rebuilt');
like($out, qr/; valid;/, 'parent index valid');

$out = pgpart_ok($node, 'index add composite', 'index', 'add', 'revenues', '--name',
	'idx_revenues_org_property', '(org_id, property_id, occurred_at)');
my $parts = psql_ok($node, q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'revenues'::regclass});
for my $idx (qw(idx_revenues_approved idx_revenues_org_property))
{
	is(psql_ok($node, qq{SELECT count(*) FROM pg_inherits h JOIN pg_index i ON i.indexrelid = h.inhrelid
		WHERE h.inhparent = '$idx'::regclass AND i.indisvalid}),
		$parts, "$idx: one valid index attached per partition");
	is(psql_ok($node, qq{SELECT indisvalid FROM pg_index WHERE indexrelid = '$idx'::regclass}), 't',
		"$idx: parent index valid");
}
is(psql_ok($node, q{SELECT count(*) FROM pg_index WHERE NOT indisvalid}), '0', 'no invalid index left');
like(pgpart_ok($node, 'index add again', 'index', 'add', 'revenues', '--name',
		'idx_revenues_org_property', '(org_id, property_id, occurred_at)'),
	qr/0 built .* $parts already attached/, 'second run builds nothing');

# new partitions made by maintain get the indexes too
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
	VALUES (1, 1, '2035-01-01', 1, 'approved', 'rent')});
pgpart_ok($node, 'maintain', 'maintain');
is(psql_ok($node, q{SELECT count(*) FROM pg_indexes WHERE tablename = 'revenues_2035_q1'}), '3',
	'partition created later has primary key and both indexes');
unlike(pgpart_ok($node, 'status after', 'status', 'revenues'), qr/WARNING.*index/, 'status: indexes complete');

pgpart_fails($node, 'bad column', 2, qr/column "nope" does not exist/,
	'index', 'add', 'revenues', '--name', 'x', '(nope)');
pgpart_fails($node, 'name taken by a table', 2, qr/already exists and is not an index/,
	'index', 'add', 'revenues', '--name', 'revenues_2025_q1', '(org_id)');
pgpart_fails($node, 'malformed column list', 2, qr/invalid column list/,
	'index', 'add', 'revenues', '--name', 'x', '(org_id; drop table revenues)');

done_testing();
