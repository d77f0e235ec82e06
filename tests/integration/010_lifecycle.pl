# The partition lifecycle on the seed schema: init, create (converting the
# empty plain tables), status, maintain moving rows out of the default
# partition without losing or duplicating one, idempotence.
use strict;
use warnings;
use PgpartTest;
use Test::More;

my $node = new_cluster('lifecycle');
seed_schema($node);

pgpart_fails($node, 'create before init', 1, qr/not initialised.*/, 'create', 'revenues',
	'--column', 'occurred_at');
like(pgpart_ok($node, 'init', 'init'), qr/created pgpart schema/, 'init reports creation');
like(pgpart_ok($node, 'init again', 'init'), qr/up to date/, 'init is idempotent');

# --dry-run prints SQL and changes nothing
my $dry = pgpart_ok($node, 'create --dry-run', '--dry-run', 'create', 'revenues',
	'--column', 'occurred_at', '--start', '2024-10-01');
like($dry, qr/CREATE TABLE "public"\."revenues_pgpart_new" \(LIKE "public"\."revenues"/, 'dry run shows the DDL');
is(psql_ok($node, "SELECT relkind FROM pg_class WHERE oid = 'revenues'::regclass"), 'r',
	'dry run changed nothing');

my $out = pgpart_ok($node, 'create revenues', 'create', 'revenues', '--column', 'occurred_at',
	'--interval', 'quarter', '--start', '2024-10-01', '--premake', '2');
like($out, qr/converted public\.revenues/, 'create converts the empty table');
is(psql_ok($node, "SELECT relkind FROM pg_class WHERE oid = 'revenues'::regclass"), 'p',
	'revenues is partitioned');
is(psql_ok($node, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'revenues'::regclass AND inhrelid = 'revenues_2024_q4'::regclass"),
	'1', 'first quarter partition exists');
is(psql_ok($node, "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'revenues_2025_q1'"),
	"FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-04-01 00:00:00+00')", 'quarter bounds');
is(psql_ok($node, "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'revenues_default'"),
	'DEFAULT', 'default partition');
# what the plain table had is still there
is(psql_ok($node, "SELECT obj_description('revenues'::regclass, 'pg_class') IS NOT NULL"), 't',
	'table comment kept');
is(psql_ok($node, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'revenues'::regclass AND contype = 'p'"),
	'1', 'primary key kept');
is(psql_ok($node, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'revenues'::regclass AND contype = 'c'"),
	'1', 'check constraint kept');
is(psql_ok($node, "SELECT attidentity FROM pg_attribute WHERE attrelid = 'revenues'::regclass AND attname = 'id'"),
	'a', 'identity column kept');

pgpart_ok($node, 'create expenses', 'create', 'expenses', '--column', 'occurred_at',
	'--start', '2024-10-01');

# rows everywhere, also far in the future (default partition) and the past
psql_ok($node, q{
	INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category, description)
	SELECT g % 50, g % 7, timestamptz '2024-10-01' + (g * interval '37 minutes'), g / 100.0,
	       'approved', 'rent', CASE WHEN g % 1000 = 0 THEN repeat('x', 5000) END
	FROM generate_series(1, 20000) g;
	INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
	SELECT g, 1, timestamptz '2031-02-03' + g * interval '11 days', 1, 'pending', 'fees'
	FROM generate_series(1, 60) g;
	INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
	VALUES (1, 1, '2019-05-05', 5, 'void', 'fees');
});
my $in_default = psql_ok($node, 'SELECT count(*) FROM ONLY revenues_default');
cmp_ok($in_default, '>', 0, "rows in the default partition ($in_default)");
my $before = table_fingerprint($node, 'revenues');

my $status = pgpart_ok($node, 'status', 'status', 'revenues');
like($status, qr/WARNING: \d+ rows in the default partition/, 'status warns about the default partition');
like($status, qr/revenues_2025_q1\s+2025-01-01\s+2025-04-01/, 'status lists partitions with bounds');
my ($rc) = pgpart($node, 'status', 'revenues', '--check');
is($rc, 3, 'status --check exits 3 when there are warnings');

$out = pgpart_ok($node, 'maintain', 'maintain');
like($out, qr/public\.revenues: \d+ partitions? created, $in_default rows moved/, 'maintain reports the move');
is(psql_ok($node, 'SELECT count(*) FROM ONLY revenues_default'), '0', 'default partition is empty');
is(table_fingerprint($node, 'revenues'), $before, 'same rows, same contents after maintain');
is(psql_ok($node, "SELECT count(*) FROM revenues_2019_q2"), '1', 'a partition was made for the past row');
like(pgpart_ok($node, 'maintain again', 'maintain'), qr/revenues: nothing to do/, 'second run does nothing');

# JSON has the same facts
my $json = pgpart_ok($node, 'status --json', '--json', 'status', 'revenues');
like($json, qr/"default_rows": 0/, 'json status');
like($json, qr/"name": "revenues_2031_q1"/, 'json lists partitions');
($rc) = pgpart($node, 'status', 'revenues', '--check');
is($rc, 0, 'status --check exits 0 without warnings');

done_testing();
