# Names that need quoting work everywhere: a schema with capitals and a space,
# a table name with quotes and a space, a column with capitals; and the
# --like and take-over forms of create.
use strict;
use warnings;
use PgpartTest;
use Test::More;

my $node = new_cluster('quoting');
pgpart_ok($node, 'init', 'init');
psql_ok($node, q{
	CREATE SCHEMA "Fin Ance";
	CREATE TABLE "Fin Ance"."Tmpl" (
		"Org Id" bigint NOT NULL,
		"When" timestamptz NOT NULL,
		amount numeric(12,2),
		"Note" text,
		PRIMARY KEY ("Org Id", "When"));
	COMMENT ON COLUMN "Fin Ance"."Tmpl"."Note" IS 'free text';
});
my $table = q{"Fin Ance"."Weird ""name"" 2"};

my $out = pgpart_ok($node, 'create --like', 'create', $table, '--like', '"Fin Ance"."Tmpl"',
	'--column', 'When', '--interval', 'month', '--start', '2026-01-01', '--premake', '1');
like($out, qr/created Fin Ance\.Weird "name" 2/, 'create --like reports the new table');
is(psql_ok($node, qq{SELECT relkind FROM pg_class WHERE oid = '$table'::regclass}), 'p',
	'partitioned table created');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'Weird "name" 2_2026_01'}), '1',
	'partition named after the quoted table');
is(psql_ok($node, qq{SELECT col_description('$table'::regclass, 4)}), 'free text',
	'column comment copied from the template');

psql_ok($node, qq{INSERT INTO $table SELECT g, timestamptz '2026-01-01' + g * interval '1 day', g, 'n'
	FROM generate_series(1, 400) g});
my $before = table_fingerprint($node, $table);
like(pgpart_ok($node, 'maintain quoted', 'maintain', $table), qr/rows moved/, 'maintain on a quoted name');
is(table_fingerprint($node, $table), $before, 'rows unchanged');
is(psql_ok($node, qq{SELECT count(*) FROM "Fin Ance"."Weird ""name"" 2_default"}), '0',
	'default partition emptied');

$out = pgpart_ok($node, 'index add on quoted names', 'index', 'add', $table, '--name',
	'Idx "Org"', '("Org Id", "When")');
like($out, qr/valid/, 'index is valid');
is(psql_ok($node, qq{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	WHERE c.relname LIKE 'Idx "Org"%' AND i.indisvalid}),
	psql_ok($node, qq{SELECT count(*) + 1 FROM pg_inherits WHERE inhparent = '$table'::regclass}),
	'one valid index per partition plus the parent');
like(pgpart_ok($node, 'status quoted', 'status', $table), qr/Weird "name" 2_2026_02/, 'status on a quoted name');

# take over a table partitioned by hand
psql_ok($node, q{
	CREATE TABLE "Fin Ance".manual (id int, d date NOT NULL) PARTITION BY RANGE (d);
	CREATE TABLE "Fin Ance".manual_old PARTITION OF "Fin Ance".manual FOR VALUES FROM ('2026-01-01') TO ('2026-04-01');
	INSERT INTO "Fin Ance".manual VALUES (1, '2026-02-02');
});
$out = pgpart_ok($node, 'adopt', 'create', '"Fin Ance".manual', '--column', 'd', '--start', '2026-01-01');
like($out, qr/adopted Fin Ance\.manual/, 'existing partitioned table taken over');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'manual_default'}), '1',
	'take-over added a default partition');
is(psql_ok($node, q{SELECT count(*) FROM "Fin Ance".manual}), '1', 'rows kept');

done_testing();
