# The verifier must be able to fail: a test build's fault-injection hook
# damages one batch of the copy after it committed (a dropped row, a
# duplicated row, one changed character of a TOASTed value, two swapped
# values); verify must flag the right key range and switch must refuse.
# Also: checksums stable across types with tricky text forms, derived names
# within 63 bytes, and a backfill that ends under an insert storm.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use IPC::Run;

my $node = new_cluster('verifier');
pgpart_ok($node, 'init', 'init');
my ($rc, $version) = PgpartTest::run_raw('--version');
my $hooks = $version =~ /fault-injection/;

SKIP:
{
	skip 'the release build has no fault-injection hook', 1 unless $hooks;
	for my $case ([ 'drop', '' ], [ 'dup', '' ], [ 'byte', 'note' ], [ 'swap', 'amount' ])
	{
		my ($kind, $col) = @$case;
		my $t = "c_$kind";
		psql_ok($node, qq{
			CREATE TABLE $t (id int, at date NOT NULL, amount numeric, note text, PRIMARY KEY (id, at));
			ALTER TABLE $t ALTER COLUMN note SET STORAGE EXTERNAL;
			INSERT INTO $t SELECT g, date '2025-01-01' + g % 300, g * 1.5,
			  CASE WHEN g % 10 = 5 THEN repeat(md5(g::text), 300) ELSE 'n' || g END
			  FROM generate_series(1, 1000) g});
		pgpart_ok($node, "$kind: start", 'migrate', 'start', $t, '--column', 'at', '--start', '2025-01-01');
		{
			local $ENV{PGPART_TEST_CORRUPT} = "$kind:3" . ($col ? ":$col" : '');
			# fixed batches of 100: batch 3 is keys (200, 300]
			pgpart_ok($node, "$kind: backfill with the hook", 'migrate', 'backfill', $t,
				'--batch-size', '100', '--batch-time', '0');
		}
		# batch 3 copied keys (200, 300]
		my ($vrc, $out) = pgpart($node, 'migrate', 'verify', $t, '--batch-size', '100', '--json');
		is($vrc, 3, "$kind: verify fails with exit code 3");
		my $facts = decode_json($out)->{facts};
		my @bad = ref $facts->{mismatch} ? @{ $facts->{mismatch} } : ($facts->{mismatch} // ());
		is(scalar @bad, 1, "$kind: exactly one range flagged");
		like($bad[0] // '', qr/^keys \(200, [^]]*\] \.\. \[300, /, "$kind: the range of batch 3");
		pgpart_fails($node, "$kind: switch refuses", 2, qr/verify/, 'migrate', 'switch', $t);
		like(pgpart_ok($node, "$kind: repair", 'migrate', 'verify', $t, '--repair'), qr/repaired/,
			"$kind: repaired");
		like(pgpart_ok($node, "$kind: verify after repair", 'migrate', 'verify', $t),
			qr/result\s+equal/, "$kind: equal after repair");
		pgpart_ok($node, "$kind: rollback", 'migrate', 'rollback', $t);
	}
}

# text forms that differ for equal-looking values must still compare equal
# when copied, and a change between them must be seen
psql_ok($node, q{
	CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
	CREATE DOMAIN positive AS numeric CHECK (VALUE > 0);
	CREATE TABLE ty (id int, at timestamptz NOT NULL, n numeric, f float8, r real, j jsonb,
		a int[], m mood, d positive, c text COLLATE "C", b bytea, PRIMARY KEY (id, at));
	INSERT INTO ty VALUES
		(1, '2025-01-01', 1.0, 'NaN', '-0', '{"b": 1, "a": [1, 2.50]}', '{1,NULL,3}', 'ok', 1.10, 'Zürich', '\x00ff'),
		(2, '2025-02-01', 1.00, '-0', 'Infinity', '{"a": null}', '{}', 'happy', 2, 'a b', ''),
		(3, '2025-03-01', -0.000, '1e-300', '3.4e38', '[]', '{{1,2},{3,4}}', NULL, 3.000, NULL, NULL),
		(4, '2025-04-01', 'NaN', '-Infinity', 'NaN', '"x"', '{-1}', 'sad', 0.5, '', '\x');
});
pgpart_ok($node, 'types: start', 'migrate', 'start', 'ty', '--column', 'at', '--start', '2025-01-01');
pgpart_ok($node, 'types: backfill', 'migrate', 'backfill', 'ty');
like(pgpart_ok($node, 'types: verify', 'migrate', 'verify', 'ty'), qr/result\s+equal/, 'types: equal');
for my $change ("n = 1.000 WHERE id = 1", "f = 0 WHERE id = 2", "j = '{\"a\": [1, 2.5], \"b\": 1}' WHERE id = 1",
	"a = '{1,3}' WHERE id = 1", "d = 1.1 WHERE id = 1", "r = 0 WHERE id = 1")
{
	psql_ok($node, "UPDATE ty_pgpart_new SET $change");
	pgpart_fails($node, "types: verify sees $change", 3, qr/differ/, 'migrate', 'verify', 'ty');
	pgpart_ok($node, "types: repair", 'migrate', 'verify', 'ty', '--repair');
}
pgpart_ok($node, 'types: rollback', 'migrate', 'rollback', 'ty');

# the batch's own check sees them too: it hashes values, but the text of the
# types whose equal values can print differently
for my $change ("n = 1.000 WHERE id = 1", "f = 0 WHERE id = 2", "j = '{\"a\": [1, 2.5], \"b\": 1}' WHERE id = 1",
	"a = '{1,3}' WHERE id = 1", "d = 1.1 WHERE id = 1", "r = 0 WHERE id = 1", "c = 'Zurich' WHERE id = 1",
	"b = '\\x00fe' WHERE id = 1", "m = 'sad' WHERE id = 2")
{
	pgpart_ok($node, "batch check: start ($change)", 'migrate', 'start', 'ty', '--column', 'at', '--start', '2025-01-01');
	# a copy row that differs from the source before the batch reaches it
	psql_ok($node, "INSERT INTO ty_pgpart_new SELECT * FROM ty; UPDATE ty_pgpart_new SET $change");
	pgpart_fails($node, "batch check sees $change", 3, qr/batch check failed/, 'migrate', 'backfill', 'ty');
	pgpart_ok($node, 'batch check: rollback', 'migrate', 'rollback', 'ty');
}

# derived names of two long table names sharing their first 60 bytes
my $long = 'x' x 60;
psql_ok($node, qq{
	CREATE TABLE ${long}_one (id int, at date NOT NULL, PRIMARY KEY (id, at));
	CREATE TABLE ${long}_two (id int, at date NOT NULL, PRIMARY KEY (id, at));
	INSERT INTO ${long}_one VALUES (1, '2025-05-05'); INSERT INTO ${long}_two VALUES (1, '2025-05-05');
});
for my $s ('one', 'two')
{
	pgpart_ok($node, "long name $s: start", 'migrate', 'start', "${long}_$s", '--column', 'at',
		'--start', '2025-01-01');
}
my $names = psql_ok($node, q{SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class
	WHERE relname LIKE 'xxxxxxxxxx%' AND relkind IN ('r', 'p')});
my @names = split / /, $names;
ok(!grep({ length($_) > 63 } @names), 'every derived name fits in 63 bytes');
my %seen;
ok(!grep({ $seen{$_}++ } @names), 'and none collides: ' . scalar(@names) . ' tables');
for my $s ('one', 'two')
{
	pgpart_ok($node, "long name $s: backfill", 'migrate', 'backfill', "${long}_$s");
	pgpart_ok($node, "long name $s: verify", 'migrate', 'verify', "${long}_$s");
	pgpart_ok($node, "long name $s: switch", 'migrate', 'switch', "${long}_$s");
	pgpart_ok($node, "long name $s: verify", 'migrate', 'verify', "${long}_$s");
	pgpart_ok($node, "long name $s: finish", 'migrate', 'finish', "${long}_$s");
}

# liveness: inserts arrive several times faster than the (throttled)
# backfill copies; the backfill still ends, as it copies only the rows that
# existed when the triggers were created, and switch happens under the storm
psql_ok($node, q{
	CREATE TABLE storm (id bigserial, at timestamptz NOT NULL DEFAULT now(), v int, PRIMARY KEY (id, at));
	INSERT INTO storm (at, v) SELECT now() - g * interval '1 minute', g FROM generate_series(1, 4000) g;
});
pgpart_ok($node, 'storm: start', 'migrate', 'start', 'storm', '--column', 'at', '--interval', 'month');
my $script = $node->basedir . '/storm.sql';
open(my $fh, '>', $script) or die;
print $fh "INSERT INTO storm (v) SELECT g FROM generate_series(1, 5) g;\n";
close $fh;
my $before = psql_ok($node, 'SELECT count(*) FROM storm');
my ($pout, $perr) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '3', '-T', '60', '-f', $script, $node->connstr('postgres') ],
	'>', \$pout, '2>', \$perr);
sleep 1;
my $t0 = time;
pgpart_ok($node, 'storm: throttled backfill ends', 'migrate', 'backfill', 'storm', '--batch-size', '200',
	'--rate', '1000');
my $secs = time - $t0 || 1;
my $during = psql_ok($node, 'SELECT count(*) FROM storm') - $before;
note("storm: $during rows inserted while the backfill copied $before rows in ~$secs s");
cmp_ok($during, '>', $before, 'the storm inserted more rows than the backfill copied');
like(pgpart_ok($node, 'storm: verify', 'migrate', 'verify', 'storm'), qr/result\s+equal/, 'storm: equal');
pgpart_ok($node, 'storm: switch under load', 'migrate', 'switch', 'storm', '--lock-timeout', '2s');
$bench->kill_kill;
$bench->finish;
like(pgpart_ok($node, 'storm: verify after switch', 'migrate', 'verify', 'storm'), qr/result\s+equal/,
	'storm: equal after switch');
pgpart_ok($node, 'storm: finish', 'migrate', 'finish', 'storm');

done_testing();
