# Bad input: a clear one-line error, a non-zero exit code, and nothing changed.
use strict;
use warnings;
use PgpartTest;
use Test::More;

my $node = new_cluster('badinput');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
psql_ok($node, q{
	CREATE TABLE texty (id int PRIMARY KEY, t text);
	CREATE TABLE full_table (id int, at timestamptz NOT NULL, PRIMARY KEY (id, at));
	INSERT INTO full_table VALUES (1, now());
	CREATE TABLE keyed (id int PRIMARY KEY, at timestamptz NOT NULL);
	CREATE TABLE viewed (id int, at date, PRIMARY KEY (id, at));
	CREATE VIEW v AS SELECT * FROM viewed;
});

# a snapshot of everything a failed command could have touched
my $snapshot_sql = q{
	SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname)
	  || '|' || (SELECT count(*) FROM pgpart.part_config)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname IN ('public', 'pgpart')};
my $before = psql_ok($node, $snapshot_sql);

pgpart_fails($node, 'unknown table', 2, qr/table "nosuch" does not exist/,
	'create', 'nosuch', '--column', 'at');
pgpart_fails($node, 'unknown column', 2, qr/column "nope" does not exist/,
	'create', 'revenues', '--column', 'nope');
pgpart_fails($node, 'wrong column type', 2, qr/column "t" of public\.texty has type text/,
	'create', 'texty', '--column', 't');
my $err = pgpart_fails($node, 'non-empty table', 2, qr/table public\.full_table is not empty/,
	'create', 'full_table', '--column', 'at');
like($err, qr/hint: .*pgpart migrate/, 'non-empty table: hint points to online migration');
$err = pgpart_fails($node, 'key without partition column', 2,
	qr/unique key without the partition column "at": primary key keyed_pkey/,
	'create', 'keyed', '--column', 'at');
like($err, qr/detail: PostgreSQL enforces uniqueness in each partition/, 'key error explains why');
pgpart_fails($node, 'dependent view', 2, qr/view public\.v depends on it/,
	'create', 'viewed', '--column', 'at');
pgpart_fails($node, 'invalid interval', 2, qr/invalid --interval "fortnight" \(day, week, month, quarter or year\)/,
	'create', 'revenues', '--column', 'occurred_at', '--interval', 'fortnight');
pgpart_fails($node, 'invalid start', 2, qr/invalid --start "2025-02-30" \(YYYY-MM-DD\)/,
	'create', 'revenues', '--column', 'occurred_at', '--start', '2025-02-30');
pgpart_fails($node, 'invalid time zone', 2, qr/unknown time zone "Mars\/Olympus"/,
	'create', 'revenues', '--column', 'occurred_at', '--time-zone', 'Mars/Olympus');
pgpart_fails($node, 'too many partitions', 2, qr/more than 10000 partitions/,
	'create', 'revenues', '--column', 'occurred_at', '--interval', 'day', '--start', '1900-01-01');
pgpart_fails($node, 'missing --column', 2, qr/--column is required/, 'create', 'revenues');
pgpart_fails($node, 'bad lock timeout', 2, qr/invalid --lock-timeout/,
	'create', 'revenues', '--column', 'occurred_at', '--lock-timeout', 'soon');
pgpart_fails($node, 'unknown command', 2, qr/unknown command "frobnicate"/, 'frobnicate');
pgpart_fails($node, 'status of unmanaged table', 2, qr/is not managed by pgpart/,
	'status', 'texty');
pgpart_fails($node, 'maintain of unknown table', 2, qr/does not exist/, 'maintain', 'nosuch');
pgpart_fails($node, 'index on plain table', 2, qr/is not a partitioned table/,
	'index', 'add', 'texty', '--name', 'i', '(id)');
pgpart_fails($node, 'malformed name', 2, qr/invalid table name/, 'status', 'a.b.c.d');

# an unknown option: one error line naming it as typed, one hint to the command's --help,
# and nothing from getopt (which would name the command as if it were the program)
for my $cmd ([qw(init)], [qw(create revenues -c occurred_at)], [qw(maintain)], [qw(index add)],
	[qw(move revenues p)], [qw(vacuum revenues)], [qw(analyze revenues)], [qw(reindex revenues)])
{
	my $name = $cmd->[0];
	for my $bad ('--frobnicate', '-Z')
	{
		my $e = pgpart_fails($node, "@$cmd $bad", 2, qr/^pgpart: error: unrecognized option "\Q$bad\E"$/m,
			@$cmd, $bad);
		my @lines = split /\n/, $e;
		is(scalar @lines, 2, "$name $bad: two lines on stderr");
		is($lines[1], qq{pgpart: hint: Try "pgpart $name --help" for more information.},
			"$name $bad: the hint names the command's help");
	}
}
pgpart_fails($node, 'a missing value', 2, qr/option "--jobs" needs a value/,
	'vacuum', 'revenues', '--jobs');

is(psql_ok($node, $snapshot_sql), $before, 'nothing was changed by the failed commands');

# overlapping configuration: the second create of the same table is refused
pgpart_ok($node, 'create revenues', 'create', 'revenues', '--column', 'occurred_at');
pgpart_fails($node, 'already managed', 2, qr/already managed by pgpart/,
	'create', 'revenues', '--column', 'occurred_at');

# taking over a table partitioned differently is refused before anything changes
psql_ok($node, q{
	CREATE TABLE monthly (id int, at date NOT NULL) PARTITION BY RANGE (at);
	CREATE TABLE monthly_jan PARTITION OF monthly FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
});
pgpart_fails($node, 'adopting with another interval', 2, qr/do not fit --interval quarter/,
	'create', 'monthly', '--column', 'at', '--start', '2026-01-01');
is(psql_ok($node, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'monthly'::regclass"), '1',
	'refused adoption created no partition');

# unreachable server: exit 1, says what to check
my ($rc, $out, $stderr) = PgpartTest::run_raw('-d', 'host=/nonexistent-dir port=1 connect_timeout=2',
	'status');
is($rc, 1, 'unreachable server: exit code 1');
like($stderr, qr/pgpart: error: could not connect to the server/, 'unreachable server: message');

# --help everywhere, exit 0
for my $cmd ([], ['init'], ['create'], ['maintain'], ['status'], ['index', 'add'], ['index'],
	['move'], ['vacuum'], ['analyze'], ['reindex'])
{
	my ($hrc, $hout) = PgpartTest::run_raw(@$cmd, '--help');
	is($hrc, 0, "pgpart @$cmd --help exits 0");
	like($hout, qr/Usage:/, "pgpart @$cmd --help shows usage");
}

done_testing();
