# pgpart split / merge, online, by the non-superuser owner of a table whose
# schema, name and columns need quoting: a quarter of 300k rows split into
# months while writers insert, update (also across the new boundaries and out
# of the quarter) and delete in it, each writer transaction changing a
# control table the same way: the table's rows equal the control's after,
# the writers saw no error, log_lock_waits shows no writer waiting long;
# indexes, tablespace, grants and rollups carried over (reports from the
# rollup equal the detail rows); kill -9 at each step and a re-run finishes
# (or --abort undoes) with the rows intact; twelve months merged into their
# year and split back; bad input refused with nothing changed; --dry-run.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;

my $node = new_cluster('split_merge');
my $test_build = `$ENV{PGPART} --version` =~ /test build/;
create_owner_role($node);
psql_ok($node, q{CREATE ROLE reader LOGIN});
(my $tsdir = $node->basedir . '/ts_cold') =~ s/ /_/g;
mkdir $tsdir or die "mkdir $tsdir: $!";
psql_ok($node, qq{CREATE TABLESPACE "Cold Space" LOCATION '$tsdir'; GRANT CREATE ON TABLESPACE "Cold Space" TO app_owner});
$PgpartTest::ROLE = 'app_owner';
psql_as($node, 'app_owner', q{
	CREATE SCHEMA "Fin Ops";
	GRANT USAGE ON SCHEMA "Fin Ops" TO reader;
	CREATE TABLE "Fin Ops"."Rev""s" (
		id bigint GENERATED ALWAYS AS IDENTITY,
		"Org Id" integer NOT NULL,
		"When" timestamptz NOT NULL,
		amount numeric(12,2) NOT NULL,
		note text,
		PRIMARY KEY (id, "When"));
	CREATE TABLE "Fin Ops".control (id bigint PRIMARY KEY, "Org Id" integer, "When" timestamptz,
		amount numeric(12,2), note text);
});
my $t = '"Fin Ops"."Rev""s"';
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', $t, '--column', 'When', '--interval', 'quarter',
	'--start', '2025-01-01', '--premake', '1');
pgpart_ok($node, 'index', 'index', 'add', $t, '--name', 'Rev by org', '("Org Id", "When")');
psql_as($node, 'app_owner', qq{
	INSERT INTO $t ("Org Id", "When", amount, note)
	SELECT g % 500, timestamptz '2025-01-01 00:00+00' + (g % 7776000) * interval '1 second'
	       + (g % 90) * interval '1 day', (g % 10000) / 100.0, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END
	FROM generate_series(1, 300000) g;
	INSERT INTO $t ("Org Id", "When", amount)
	SELECT g % 50, timestamptz '2025-04-01 00:00+00' + g * interval '7 minutes', g / 10.0
	FROM generate_series(1, 20000) g;
	INSERT INTO "Fin Ops".control SELECT id, "Org Id", "When", amount, note FROM $t;
	GRANT SELECT ON $t, "Fin Ops"."Rev""s_2025_q1" TO reader;
	ANALYZE $t;
});
pgpart_ok($node, 'rollup', 'rollup', 'add', $t, '--name', 'Rev daily', '--grain', 'day',
	'--group-by', '"Org Id"', '--measures', 'sum(amount), count(*)');

sub same_as_control
{
	my ($what) = @_;
	is(table_fingerprint($node, $t), table_fingerprint($node, '"Fin Ops".control'), "$what: the rows equal the control's");
}
sub partitions
{
	return psql_ok($node, qq{SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '$t'::regclass AND c.relname LIKE 'Rev"s_2025%'});
}
sub leftovers
{
	return psql_ok($node, q{SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE '%pgpart_reshape%' OR relname LIKE '%pgpart_old%')
		|| ' ' || (SELECT count(*) FROM pg_proc WHERE proname LIKE 'reshape_%')
		|| ' ' || (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgpart_reshape_%')});
}
sub report_matches
{
	my ($what, @args) = @_;
	my ($r1, $o1) = pgpart($node, 'report', 'monthly', $t, '--org-column', 'Org Id', '--by', '', @args, '--source', 'auto', '--json');
	my ($r2, $o2) = pgpart($node, 'report', 'monthly', $t, '--org-column', 'Org Id', '--by', '', @args, '--source', 'detail', '--json');
	my ($a, $b) = (decode_json($o1), decode_json($o2));
	like($a->{source}, qr/^rollup/, "$what: answered from the rollup");
	is_deeply($a->{rows}, $b->{rows}, "$what: the rollup's report equals the detail rows'");
}
same_as_control('loaded');
is(partitions(), 'Rev"s_2025_q1 Rev"s_2025_q2 Rev"s_2025_q3 Rev"s_2025_q4', 'quarters');

# ---- bad input: a clear error, nothing changed
pgpart_fails($node, 'not a partition', 2, qr/"nope" is not a partition of Fin Ops.Rev"s/, 'split', $t, 'nope', '--interval', 'month');
pgpart_fails($node, 'the default partition', 2, qr/has no bounded range to split/, 'split', $t, '"Fin Ops"."Rev""s_default"', '--interval', 'month');
pgpart_fails($node, 'an interval that does not divide', 2, qr/cannot split: the partition begins on 2025-01-01, which does not begin a week/,
	'split', $t, '"Fin Ops"."Rev""s_2025_q1"', '--interval', 'week');
pgpart_fails($node, 'no split into itself', 2, qr/already one quarter/, 'split', $t, '"Fin Ops"."Rev""s_2025_q1"', '--interval', 'quarter');
pgpart_fails($node, 'no interval', 2, qr/--interval is required/, 'split', $t, '"Fin Ops"."Rev""s_2025_q1"');
pgpart_fails($node, 'not adjacent', 2, qr/not adjacent: nothing between 2025-04-01 and 2025-07-01/, 'merge', $t,
	'"Fin Ops"."Rev""s_2025_q1"', '"Fin Ops"."Rev""s_2025_q3"');
pgpart_fails($node, 'overlapping: the same twice', 2, qr/is named twice/, 'merge', $t,
	'"Fin Ops"."Rev""s_2025_q1"', '"Fin Ops"."Rev""s_2025_q1"');
pgpart_fails($node, 'not one period', 2, qr/2025-01-01 \.\. 2025-07-01 is not one day, week, month, quarter or year/, 'merge', $t,
	'"Fin Ops"."Rev""s_2025_q1"', '"Fin Ops"."Rev""s_2025_q2"');
pgpart_fails($node, 'a table that is not managed', 2, qr/not managed by pgpart/, 'split', '"Fin Ops".control', 'x', '--interval', 'month');
pgpart_fails($node, 'nothing to abort', 2, qr/no split of Fin Ops.Rev"s is in progress/, 'split', $t, '"Fin Ops"."Rev""s_2025_q1"', '--abort');
{
	local $PgpartTest::ROLE = 'reader';
	pgpart_fails($node, 'a role that does not own the table', 1, qr/permission denied|must be owner/, 'split', $t,
		'"Fin Ops"."Rev""s_2025_q2"', '--interval', 'month');
}
psql_as($node, 'app_owner', qq{CREATE TABLE "Fin Ops".orgs (id integer PRIMARY KEY);
	INSERT INTO "Fin Ops".orgs SELECT generate_series(0, 499);
	ALTER TABLE $t ADD CONSTRAINT "Rev org" FOREIGN KEY ("Org Id") REFERENCES "Fin Ops".orgs});
pgpart_fails($node, 'a foreign key of the table', 2, qr/has foreign key "Rev org" to "Fin Ops"\.orgs \(ATTACH would check every row/,
	'split', $t, '"Fin Ops"."Rev""s_2025_q1"', '--interval', 'month');
psql_as($node, 'app_owner', qq{ALTER TABLE $t DROP CONSTRAINT "Rev org"});
psql_as($node, 'app_owner', q{CREATE TABLE "Fin Ops"."Rev""s_2025_q1_pgpart_old" (x int)});
pgpart_fails($node, 'the name the old partition takes is taken', 2, qr/a table Fin Ops\.Rev"s_2025_q1_pgpart_old exists already/,
	'split', $t, '"Fin Ops"."Rev""s_2025_q1"', '--interval', 'month');
psql_as($node, 'app_owner', q{DROP TABLE "Fin Ops"."Rev""s_2025_q1_pgpart_old"});
is(leftovers() . ' ' . psql_ok($node, q{SELECT count(*) FROM pgpart.reshape_job}), '0 0 0 0', 'bad input left nothing');
is(partitions(), 'Rev"s_2025_q1 Rev"s_2025_q2 Rev"s_2025_q3 Rev"s_2025_q4', 'and changed no partition');

# ---- --dry-run prints the first step and changes nothing
my $dry = pgpart_ok($node, 'dry-run', '--dry-run', 'split', $t, '"Fin Ops"."Rev""s_2025_q1"', '--interval', 'month');
like($dry, qr/CREATE TABLE "Fin Ops"\."Rev""s_2025_02" \(LIKE "Fin Ops"\."Rev""s_2025_q1"/, '--dry-run prints the new partitions');
like($dry, qr/CREATE TRIGGER/, 'and the mirror triggers');
is(leftovers() . ' ' . psql_ok($node, q{SELECT count(*) FROM pgpart.reshape_job}), '0 0 0 0', '--dry-run made nothing');

# ---- the split under writers
my $script = $node->basedir . '/writers.sql';
open(my $fh, '>', $script) or die;
print $fh <<'SQL';
\set id random(1, 300000)
\set r random(1, 5)
BEGIN;
\if :r = 1
WITH n AS (INSERT INTO "Fin Ops"."Rev""s" ("Org Id", "When", amount, note)
  VALUES (:id % 500, timestamptz '2025-01-01' + (:id % 89) * interval '1 day' + random() * interval '1 day', 1, 'new')
  RETURNING id, "Org Id", "When", amount, note)
INSERT INTO "Fin Ops".control SELECT * FROM n;
\elif :r = 2
UPDATE "Fin Ops"."Rev""s" SET amount = amount + 1 WHERE id = :id;
UPDATE "Fin Ops".control SET amount = amount + 1 WHERE id = :id;
\elif :r = 3
UPDATE "Fin Ops"."Rev""s" SET "When" = "When" + interval '25 days' WHERE id = :id;
UPDATE "Fin Ops".control SET "When" = "When" + interval '25 days' WHERE id = :id;
\elif :r = 4
DELETE FROM "Fin Ops"."Rev""s" WHERE id = :id;
DELETE FROM "Fin Ops".control WHERE id = :id;
\else
UPDATE "Fin Ops"."Rev""s" SET note = 'moved' WHERE id = :id + 1;
UPDATE "Fin Ops".control SET note = 'moved' WHERE id = :id + 1;
\endif
END;
SQL
close $fh;
my $summary_before = table_fingerprint($node, '"Fin Ops"."Rev daily"');
my ($bout, $berr) = ('', '');
my $bench = IPC::Run::start([ 'pgbench', '-n', '-c', '3', '-j', '3', '-T', '12', '-f', $script,
		connstr_as($node, 'app_owner') ], '>', \$bout, '2>', \$berr);
select(undef, undef, undef, 1);
my ($rc, $out, $err) = pgpart($node, '--json', 'split', $t, '"Fin Ops"."Rev""s_2025_q1"', '--interval', 'month',
	'--batch-rows', '20000');
is($rc, 0, 'split while writers write') or diag($err);
$bench->finish;
like($bout, qr/number of transactions actually processed: [1-9]/, 'the writers wrote') or diag($berr);
unlike($bout . $berr, qr/ERROR|aborted/, 'the writers saw no error');
my $j = decode_json($out || '{}');
is($j->{phase}, 'done', 'json: done');
is_deeply($j->{targets}, [ 'Rev"s_2025_01 [2025-01-01, 2025-02-01)', 'Rev"s_2025_02 [2025-02-01, 2025-03-01)',
	'Rev"s_2025_03 [2025-03-01, 2025-04-01)' ], 'json: the new partitions');
cmp_ok($j->{rows_verified}, '>=', 250000, "json: $j->{rows_verified} rows verified");
ok(defined $j->{writers_wait_ms}, 'json: what writers could have felt');
same_as_control('split under writers');
is(partitions(), 'Rev"s_2025_01 Rev"s_2025_02 Rev"s_2025_03 Rev"s_2025_q2 Rev"s_2025_q3 Rev"s_2025_q4', 'the quarter is three months');
is(leftovers(), '0 0 0', 'no shadow, old partition, function or trigger left');
is(psql_ok($node, q{SELECT string_agg(phase, ' ') FROM pgpart.reshape_job}), 'done', 'the job is done');
is(psql_ok($node, q{SELECT count(*) FROM pg_indexes WHERE tablename = 'Rev"s_2025_02'}), '2', 'each month has the primary key and the org index');
is(psql_as($node, 'reader', qq{SELECT count(*) > 0 FROM "Fin Ops"."Rev""s_2025_02"}), 't', 'the grant to reader carried over');
is(psql_ok($node, q{SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'Rev"s_2025_03'}), 'app_owner', 'owned by the owner');
is(table_fingerprint($node, '"Fin Ops"."Rev daily"'), $summary_before,
	'the rollup\'s summary is untouched by the split (writers only mark buckets)');
is(psql_ok($node, q{SELECT count(*) FROM pgpart.rollup_coverage WHERE partition_name LIKE 'Rev"s_2025_0_'}), '3',
	'its coverage names the three months, so refresh does not summarise them again');
report_matches('after the split', '--org', '7', '--month', '2025-02');
like(pgpart_ok($node, 'status', 'status', $t), qr/Rev"s_2025_02\s+2025-02-01\s+2025-03-01/, 'status shows the months beside the quarters');
like(pgpart_ok($node, 'maintain', 'maintain', $t), qr/nothing to do|partition/, 'maintain accepts the months');
unlike(pgpart_ok($node, 'maintain again', 'maintain', $t), qr/overlaps|conflict/, 'and sees no conflict');
my $log = slurp_file($node->logfile);
my @waits = $log =~ /acquired \w+ on relation \d+ of database \d+ after ([\d.]+) ms/g;
my ($longest) = sort { $b <=> $a } @waits, 0;
note(scalar(@waits) . " lock waits over 100 ms logged, the longest $longest ms");
cmp_ok($longest, '<', 2000, 'log_lock_waits: no writer waited 2 s for a lock');
like(pgpart_ok($node, 'log', 'log', $t, '--limit', '200'), qr/ATTACH PARTITION/, 'the swap is in the change log');

# ---- a partition in another tablespace: its months stay there
psql_ok($node, q{ALTER TABLE "Fin Ops"."Rev""s_2025_q3" SET TABLESPACE "Cold Space"});
pgpart_fails($node, 'a health limit this role cannot watch', 2, qr/pg_read_all_stats/, 'split', $t,
	'"Fin Ops"."Rev""s_2025_q3"', '--interval', 'month', '--max-xact-age', '1h');
is(leftovers() . ' ' . psql_ok($node, q{SELECT count(*) FROM pgpart.reshape_job WHERE phase <> 'done'}), '0 0 0 0',
	'refused before anything was made');
pgpart_ok($node, 'split a partition of Cold Space', 'split', $t, '"Fin Ops"."Rev""s_2025_q3"', '--interval', 'month',
	'--rate', '1000000', '--batch-time', '20ms');
is(psql_ok($node, q{SELECT string_agg(DISTINCT coalesce(t.spcname, 'pg_default'), ' ') FROM pg_class c
	LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.relname LIKE 'Rev"s_2025_0_' AND c.relname >= 'Rev"s_2025_07'}),
	'Cold Space', 'the new partitions are in the old one\'s tablespace');
same_as_control('split in Cold Space');
psql_ok($node, q{ALTER TABLE "Fin Ops"."Rev""s_2025_08" SET TABLESPACE pg_default});
pgpart_fails($node, 'a merge across tablespaces', 2, qr/different tablespaces \(Cold Space, the default\)/, 'merge', $t,
	map { qq{"Fin Ops"."Rev""s_2025_0$_"} } 7 .. 9);

# ---- merge back, keeping the old ones
$out = pgpart_ok($node, 'merge the months', 'merge', $t, '"Fin Ops"."Rev""s_2025_02"', '"Fin Ops"."Rev""s_2025_01"',
	'"Fin Ops"."Rev""s_2025_03"', '--keep-old');
like($out, qr/merged Rev"s_2025_01, Rev"s_2025_02, Rev"s_2025_03 into 1 quarter partition/, 'merged, in range order');
like($out, qr/kept "Fin Ops"\."Rev""s_2025_01_pgpart_old"/, '--keep-old keeps them, detached');
same_as_control('merged');
report_matches('after the merge', '--org', '7', '--month', '2025-03');
psql_ok($node, q{DROP TABLE "Fin Ops"."Rev""s_2025_01_pgpart_old", "Fin Ops"."Rev""s_2025_02_pgpart_old", "Fin Ops"."Rev""s_2025_03_pgpart_old"});

# ---- kill -9 at each step; a re-run finishes, or --abort undoes
SKIP:
{
	skip 'the pause hooks exist only in the test build', 26 unless $test_build;

	sub start_paused
	{
		my ($pause, @args) = @_;
		my ($o, $e) = ('', '');
		local $ENV{PGPART_TEST_RESHAPE_PAUSE} = "$pause:60";
		my $h = IPC::Run::start([ $ENV{PGPART}, '-d', connstr_as($node, 'app_owner'), @args ], '>', \$o, '2>', \$e);
		my $t0 = time;
		while ($e !~ /paused at/ && time - $t0 < 60)
		{
			$h->pump_nb;
			select(undef, undef, undef, 0.1);
			last unless $h->pumpable;
		}
		like($e, qr/paused at $pause/, "paused at $pause");
		$h->kill_kill(grace => 0);
		return $h;
	}
	sub write_some
	{
		psql_as($node, 'app_owner', q{
			WITH n AS (INSERT INTO "Fin Ops"."Rev""s" ("Org Id", "When", amount) VALUES (1, '2025-05-05', 5), (2, '2025-06-30 23:59', 6)
			  RETURNING id, "Org Id", "When", amount, note) INSERT INTO "Fin Ops".control SELECT * FROM n;
			UPDATE "Fin Ops"."Rev""s" SET amount = amount + 3 WHERE id % 97 = 0 AND "When" >= '2025-04-01' AND "When" < '2025-07-01';
			UPDATE "Fin Ops".control SET amount = amount + 3 WHERE id % 97 = 0 AND "When" >= '2025-04-01' AND "When" < '2025-07-01';
			DELETE FROM "Fin Ops"."Rev""s" WHERE id % 101 = 0 AND "When" >= '2025-04-01' AND "When" < '2025-07-01';
			DELETE FROM "Fin Ops".control WHERE id % 101 = 0 AND "When" >= '2025-04-01' AND "When" < '2025-07-01';
		});
	}
	my @q2 = ('"Fin Ops"."Rev""s_2025_q2"');
	my @months = map { qq{"Fin Ops"."Rev""s_2025_0$_"} } 4 .. 6;
	start_paused('prepared', 'split', $t, @q2, '--interval', 'month', '--batch-rows', '3000');
	is(psql_ok($node, q{SELECT count(*) || ' ' || count(*) FILTER (WHERE p.prosecdef AND p.proacl IS NOT NULL
		AND NOT EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0)) FROM pg_proc p
		WHERE p.pronamespace = 'pgpart'::regnamespace AND p.proname LIKE 'reshape_%'}), '2 2',
		'the mirror functions are SECURITY DEFINER with EXECUTE revoked from PUBLIC');
	write_some();
	same_as_control('killed after prepare');
	pgpart_ok($node, 'the split continues', 'split', $t, @q2, '--interval', 'month');
	same_as_control('split after a kill at prepare');

	start_paused('copy', 'merge', $t, @months, '--batch-rows', '3000');
	write_some();
	same_as_control('killed while copying');
	pgpart_fails($node, 'another request meanwhile', 2, qr/a merge of Fin Ops\.Rev"s is in progress/,
		'split', $t, '"Fin Ops"."Rev""s_2025_q4"', '--interval', 'month');
	pgpart_ok($node, 'the merge continues', 'merge', $t, @months);
	same_as_control('merged after a kill while copying');

	start_paused('copied', 'split', $t, @q2, '--interval', 'month');
	write_some();
	pgpart_ok($node, 'the split continues to its swap', 'split', $t, @q2, '--interval', 'month');
	same_as_control('split after a kill before the swap');

	start_paused('swapped', 'merge', $t, @months);
	is(partitions() =~ /Rev"s_2025_q2/ ? 1 : 0, 1, 'killed after the swap: the quarter is attached');
	write_some();
	same_as_control('killed after the swap');
	pgpart_ok($node, 'the merge drops the months', 'merge', $t, @months);
	is(leftovers(), '0 0 0', 'the old months are dropped');
	same_as_control('merged after a kill after the swap');

	start_paused('copy', 'split', $t, @q2, '--interval', 'month', '--batch-rows', '3000');
	write_some();
	like(pgpart_ok($node, 'status during a split', 'status', $t),
		qr/a split of Rev"s_2025_q2 into months is in progress \(phase copying, since .*or with --abort to undo it/,
		'status says a split is in progress and how to finish or undo it');
	pgpart_fails($node, 'no abort of another request', 2, qr/in progress/, 'merge', $t, @months, '--abort');
	pgpart_ok($node, 'abort', 'split', $t, @q2, '--abort');
	is(leftovers(), '0 0 0', 'abort: shadow, new partitions, functions and triggers gone');
	like(partitions(), qr/Rev"s_2025_q2/, 'abort: the quarter is still attached');
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'Rev"s_2025_05'}), '0', 'abort: no month left');
	write_some();
	same_as_control('after abort');

	# a mirror trigger turned off meanwhile: the swap refuses, nothing is lost
	my @q4 = ('"Fin Ops"."Rev""s_2025_q4"');
	start_paused('copied', 'split', $t, @q4, '--interval', 'month');
	my $jid = psql_ok($node, q{SELECT id FROM pgpart.reshape_job WHERE phase = 'copied'});
	psql_ok($node, qq{ALTER TABLE "Fin Ops"."Rev""s_2025_q4" DISABLE TRIGGER "pgpart_reshape_${jid}_0"});
	psql_as($node, 'app_owner', q{WITH n AS (INSERT INTO "Fin Ops"."Rev""s" ("Org Id", "When", amount) VALUES (9, '2025-11-11', 9)
		RETURNING id, "Org Id", "When", amount, note) INSERT INTO "Fin Ops".control SELECT * FROM n});
	pgpart_fails($node, 'a disabled mirror trigger stops the swap', 1,
		qr/the mirror triggers of "Fin Ops"\."Rev""s_2025_q4" are not all enabled: pgpart_reshape_\d+_0 \(disabled\)/,
		'split', $t, @q4, '--interval', 'month');
	like(partitions(), qr/Rev"s_2025_q4/, 'the quarter is still attached');
	pgpart_ok($node, 'abort it', 'split', $t, @q4, '--abort');
	same_as_control('after a refused swap');
}

# ---- twelve months into their year, and back
psql_as($node, 'app_owner', q{CREATE TABLE "Fin Ops".monthly (id bigint NOT NULL, at date NOT NULL, v integer)});
pgpart_ok($node, 'create monthly', 'create', '"Fin Ops".monthly', '--column', 'at', '--interval', 'month',
	'--start', '2024-01-01', '--premake', '1');
psql_as($node, 'app_owner', q{ALTER TABLE "Fin Ops".monthly ADD PRIMARY KEY (id, at);
	INSERT INTO "Fin Ops".monthly SELECT g, date '2024-01-01' + g % 366, g FROM generate_series(1, 20000) g});
my $before = table_fingerprint($node, '"Fin Ops".monthly');
my @m2024 = map { sprintf('"Fin Ops".monthly_2024_%02d', $_) } 1 .. 12;
like(pgpart_ok($node, 'merge twelve months', 'merge', '"Fin Ops".monthly', @m2024),
	qr/merged monthly_2024_01, .* into 1 year partition/, 'into their year');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'monthly_2024'}), '1', 'monthly_2024 exists');
is(table_fingerprint($node, '"Fin Ops".monthly'), $before, 'the year holds the same rows');
pgpart_fails($node, 'merge into the wrong period', 2, qr/is not one quarter/, 'merge', '"Fin Ops".monthly',
	'"Fin Ops".monthly_2025_01', '"Fin Ops".monthly_2025_02', '--interval', 'quarter');
pgpart_ok($node, 'split the year back', 'split', '"Fin Ops".monthly', '"Fin Ops".monthly_2024', '--interval', 'month');
is(psql_ok($node, q{SELECT count(*) FROM pg_inherits WHERE inhparent = '"Fin Ops".monthly'::regclass
	AND inhrelid::regclass::text LIKE '%monthly_2024_%'}), '12', 'twelve months again');
is(table_fingerprint($node, '"Fin Ops".monthly'), $before, 'with the same rows');
pgpart_ok($node, 'a month rollup', 'rollup', 'add', '"Fin Ops".monthly', '--name', '"Fin Ops".monthly_sums',
	'--grain', 'month', '--group-by', 'v', '--measures', 'count(*)');
pgpart_fails($node, 'no days under a month rollup', 2, qr/cannot split into days: rollup monthly_sums has month buckets/,
	'split', '"Fin Ops".monthly', '"Fin Ops".monthly_2024_03', '--interval', 'day');
pgpart_fails($node, 'a partition of another table', 2, qr/is not a partition of Fin Ops\.Rev"s/, 'split', $t,
	'"Fin Ops".monthly_2024_03', '--interval', 'day');
done_testing();
