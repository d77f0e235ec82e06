# pgpart move: a closed partition goes to another tablespace and back with
# every row, index, trigger, grant and setting; readers are not blocked by
# the copy, writers to that range are refused with a clear error, writers to
# other partitions go on; kill -9 at any step leaves the rows in place and a
# re-run finishes; bad input changes nothing.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PgpartTest;
use Test::More;

my $node = new_cluster('tiermove');
my $test_build = `$ENV{PGPART} --version` =~ /test build/;

# two tablespace directories, owned by the server's (and the test's) OS user
my %ts;
for my $name ('warm', 'Cold Space')
{
	(my $dir = $node->basedir . "/ts_$name") =~ s/ /_/g;
	mkdir $dir or die "mkdir $dir: $!";
	$ts{$name} = $dir;
	psql_ok($node, qq{CREATE TABLESPACE "$name" LOCATION '$dir'});
}

seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01',
	'--interval', 'quarter', '--premake', '1');
# rows in 2025 Q1 with TOASTed (incompressible) and NULL descriptions, and some this quarter
psql_ok($node, q{
	INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, description)
	SELECT g % 40, g % 7, timestamptz '2025-01-01' + g * interval '7 minutes', g / 100.0,
	  CASE WHEN g % 3 = 0 THEN 'approved' ELSE 'pending' END,
	  CASE WHEN g % 500 = 0 THEN (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 300) i)
	       WHEN g % 5 = 0 THEN NULL ELSE 'rent ' || g END
	FROM generate_series(1, 12000) g;
	INSERT INTO revenues (org_id, property_id, occurred_at, amount)
	SELECT g, 1, now() - interval '1 hour', 1 FROM generate_series(1, 10) g});
pgpart_ok($node, 'an index on the table', 'index', 'add', 'revenues', '--name', 'revenues_org',
	'(org_id, occurred_at)');
pgpart_ok($node, 'a rollup', 'rollup', 'add', 'revenues', '--name', 'revenues_daily', '--grain',
	'day', '--group-by', 'org_id, status', '--measures', 'sum(amount), count(*)');
# things that belong to the partition itself
psql_ok($node, q{
	CREATE ROLE reader;
	CREATE INDEX revenues_2025_q1_status ON revenues_2025_q1 (status) WHERE status = 'approved';
	COMMENT ON INDEX revenues_2025_q1_status IS 'approved only';
	COMMENT ON TABLE revenues_2025_q1 IS 'first quarter of 2025';
	GRANT SELECT ON revenues_2025_q1 TO reader;
	ALTER TABLE revenues_2025_q1 SET (fillfactor = 90, autovacuum_enabled = false);
	ALTER TABLE revenues_2025_q1 ALTER COLUMN org_id SET STATISTICS 500;
	CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
	CREATE TRIGGER q1_audit AFTER DELETE ON revenues_2025_q1 FOR EACH STATEMENT EXECUTE FUNCTION audit();
	ALTER TABLE revenues_2025_q1 DISABLE TRIGGER q1_audit});

my $part = 'revenues_2025_q1';
my $before = table_fingerprint($node, $part);
my $all_before = table_fingerprint($node, 'revenues');
my $toasted = psql_ok($node, qq{SELECT count(*) FROM $part WHERE length(description) > 5000});
cmp_ok($toasted, '>', 0, "$toasted rows with TOASTed values");

sub tablespace_of
{
	my ($rel) = @_;
	return psql_ok($node, qq{SELECT coalesce(t.spcname, 'pg_default') FROM pg_class c
		LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.oid = '$rel'::regclass});
}

# what a move must keep: one line per fact, compared before and after
sub catalog_facts
{
	my ($rel) = @_;
	return psql_ok($node, qq{
	SELECT string_agg(f, E'\\n' ORDER BY f) FROM (
	  SELECT 'bound ' || pg_get_expr(relpartbound, oid) AS f FROM pg_class WHERE oid = '$rel'::regclass
	  UNION ALL SELECT 'comment ' || coalesce(obj_description('$rel'::regclass, 'pg_class'), '-')
	  UNION ALL SELECT 'acl ' || coalesce(relacl::text, '-') || ' owner ' || relowner::regrole FROM pg_class WHERE oid = '$rel'::regclass
	  UNION ALL SELECT 'options ' || coalesce(reloptions::text, '-') FROM pg_class WHERE oid = '$rel'::regclass
	  UNION ALL SELECT 'stats ' || attname || ' ' || attstattarget FROM pg_attribute WHERE attrelid = '$rel'::regclass AND attnum > 0 AND attstattarget >= 0
	  UNION ALL SELECT 'index ' || c.relname || ' ' || regexp_replace(pg_get_indexdef(i.indexrelid), ' ON [^ ]+ ', ' ON x ')
	           || ' valid ' || i.indisvalid || ' parent ' || coalesce((SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = i.indexrelid), '-')
	           || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
	    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = '$rel'::regclass
	  UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '$rel'::regclass
	  UNION ALL SELECT 'trigger ' || tgname || ' ' || tgenabled::text || ' ' || (tgparentid <> 0) FROM pg_trigger WHERE tgrelid = '$rel'::regclass AND NOT tgisinternal
	) x});
}
my $facts_before = catalog_facts($part);
like($facts_before, qr/trigger pgpart_rollup_\d+_insert A f/, 'the partition has rollup triggers');
my $coverage_before = psql_ok($node, 'SELECT count(*), sum(summary_rows) FROM pgpart.rollup_coverage');

# ---- bad input: clear error, exit 2, nothing changed
pgpart_fails($node, 'unknown tablespace', 2, qr/tablespace "nope" does not exist/, 'move',
	'revenues', $part, '--tablespace', 'nope');
pgpart_fails($node, 'open partition', 2, qr/is not closed: its range ends at/, 'move', 'revenues',
	psql_ok($node, q{SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
		WHERE h.inhparent = 'revenues'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE '%' || to_char(now(), 'YYYY-') || '%'
		ORDER BY c.relname DESC LIMIT 1}), '--tablespace', 'warm');
pgpart_fails($node, 'default partition', 2, qr/is the default partition/, 'move', 'revenues',
	'revenues_default', '--tablespace', 'warm');
pgpart_fails($node, 'not a partition of it', 2, qr/"expenses" is not a partition of public.revenues/,
	'move', 'revenues', 'expenses', '--tablespace', 'warm');
pgpart_fails($node, 'unknown table', 2, qr/table "nope" does not exist/, 'move', 'nope', $part,
	'--tablespace', 'warm');
pgpart_fails($node, 'not partitioned', 2, qr/is not a partitioned table/, 'move', 'expenses', $part,
	'--tablespace', 'warm');
pgpart_fails($node, 'no tablespace given', 2, qr/--tablespace is required/, 'move', 'revenues', $part);
pgpart_fails($node, 'pg_global', 2, qr/pg_global/, 'move', 'revenues', $part, '--tablespace', 'pg_global');
psql_ok($node, q{CREATE ROLE mover LOGIN; GRANT pg_read_all_data TO mover; GRANT USAGE ON SCHEMA pgpart TO mover;
	GRANT SELECT ON ALL TABLES IN SCHEMA pgpart TO mover});
{
	my ($rc, $out, $err) = PgpartTest::run_raw('-d', $node->connstr('postgres') . ' user=mover', 'move',
		'revenues', $part, '--tablespace', 'warm');
	is($rc, 2, 'no CREATE right on the tablespace: exit 2');
	like($err, qr/permission denied to create in tablespace "warm"/, 'no CREATE right: message');
}
is(tablespace_of($part), 'pg_default', 'after bad input the partition is where it was');
is(catalog_facts($part), $facts_before, 'after bad input the catalog is unchanged');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname ~ 'pgpart_(move|old)'}), '0',
	'after bad input no copy exists');

# ---- --dry-run prints the statements and changes nothing
my $dry = pgpart_ok($node, 'dry run', 'move', 'revenues', $part, '--tablespace', 'warm', '--dry-run');
like($dry, qr/CREATE TRIGGER pgpart_tier_move_guard/, 'dry run shows the guard');
like($dry, qr/INSERT INTO "public"."revenues_2025_q1_pgpart_move"/, 'dry run shows the copy');
like($dry, qr/DETACH PARTITION "public"."revenues_2025_q1".*\n.*ATTACH PARTITION "public"."revenues_2025_q1_pgpart_move" FOR VALUES FROM/,
	'dry run shows the swap');
is(tablespace_of($part), 'pg_default', 'dry run moved nothing');
is(psql_ok($node, qq{SELECT count(*) FROM pg_trigger WHERE tgname ~ 'tier_move'}), '0', 'dry run left no guard');

# ---- the move
my $json = decode_json(pgpart_ok($node, 'move to warm', 'move', 'revenues', $part, '--tablespace',
		'warm', '--json'));
is($json->{to_tablespace}, 'warm', 'json: target');
is($json->{from_tablespace}, 'pg_default', 'json: source');
is($json->{rows}, psql_ok($node, "SELECT count(*) FROM $part"), 'json: rows copied');
cmp_ok($json->{swap_lock_held_ms}, '<', 1000, "swap held the table's lock $json->{swap_lock_held_ms} ms");
is(tablespace_of($part), 'warm', 'the partition is in warm');
is(psql_ok($node, qq{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
	WHERE i.indrelid = '$part'::regclass AND (t.spcname IS DISTINCT FROM 'warm' OR NOT i.indisvalid)}), '0',
	'every index of the partition is valid and in warm');
is(psql_ok($node, qq{SELECT t.spcname FROM pg_class c JOIN pg_class tc ON tc.oid = c.reltoastrelid
	JOIN pg_tablespace t ON t.oid = tc.reltablespace WHERE c.oid = '$part'::regclass}), 'warm',
	'its TOAST table too');
is(table_fingerprint($node, $part), $before, 'the rows are identical (count and checksum)');
is(table_fingerprint($node, 'revenues'), $all_before, 'the table as a whole is identical');
is(catalog_facts($part), $facts_before, 'bounds, comment, grants, owner, options, statistics, indexes, '
	. 'constraints and triggers are as before');
is(psql_ok($node, 'SELECT count(*), sum(summary_rows) FROM pgpart.rollup_coverage'), $coverage_before,
	'rollup coverage neither lost nor duplicated');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname ~ 'pgpart_(move|old)'}), '0',
	'no copy or former partition left');
is(psql_ok($node, q{SELECT count(*) FROM pg_trigger WHERE tgname ~ 'tier_move'}), '0', 'no guard left');
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2025-02-02', 5)});
is(psql_ok($node, q{SELECT count(*) FROM revenues_2025_q1 WHERE occurred_at = '2025-02-02'}), '1',
	'writes to the range go to the moved partition afterwards');
pgpart_ok($node, 'refresh', 'rollup', 'refresh');
is(psql_ok($node, q{SELECT sum(count) FROM revenues_daily WHERE bucket = '2025-02-02' AND org_id = 1}),
	psql_ok($node, q{SELECT count(*) FROM revenues WHERE occurred_at >= '2025-02-02' AND occurred_at < '2025-02-03' AND org_id = 1}),
	'the rollup still counts the moved partition exactly');
psql_ok($node, q{DELETE FROM revenues WHERE occurred_at = '2025-02-02'});
$before = table_fingerprint($node, $part);

like(pgpart_ok($node, 'again: nothing to do', 'move', 'revenues', $part, '--tablespace', 'warm'),
	qr/already in tablespace warm/, 'a second run says it is there');

# ---- and back to the hot tier, keeping the former partition
pgpart_ok($node, 'back to pg_default', 'move', 'revenues', $part, '--tablespace', 'pg_default',
	'--keep-old');
is(psql_ok($node, qq{SELECT reltablespace FROM pg_class WHERE oid = '$part'::regclass}), '0',
	'back in the database default tablespace (reltablespace 0)');
is(table_fingerprint($node, $part), $before, 'rows identical after moving back');
is(table_fingerprint($node, 'revenues_2025_q1_pgpart_old'), $before, '--keep-old kept the former partition');
is(psql_ok($node, q{SELECT relispartition FROM pg_class WHERE relname = 'revenues_2025_q1_pgpart_old'}), 'f',
	'detached');
pgpart_fails($node, 'a kept former partition is in the way', 2, qr/kept by an earlier move/, 'move',
	'revenues', $part, '--tablespace', 'warm');
psql_ok($node, 'DROP TABLE revenues_2025_q1_pgpart_old');

# ---- PostgreSQL 15 locks only the partition an INSERT is routed to: a writer of the current
# partition holds no lock on the closed one, so installing the guard there never waits for it
{
	my $writer = $node->background_psql('postgres');
	$writer->query_safe(q{BEGIN; INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (5, 1000, now(), 1)});
	my $pid = $writer->query_safe('SELECT pg_backend_pid()');
	$pid =~ s/\s+//g;
	is(psql_ok($node, qq{SELECT count(*) FROM pg_locks WHERE pid = $pid AND relation = '$part'::regclass}), '0',
		'a writer routed to another partition holds no lock on the closed one');
	$writer->query_safe('ROLLBACK');
	$writer->quit;
}

# ---- readers of the whole table and writers of the current partition, while it moves back and forth:
# no statement waits longer than the lock timeout (statement_timeout = lock timeout fails it),
# no writer fails
{
	my $dir = $ENV{TESTDIR};
	open(my $fh, '>', "$dir/tm_reader.sql") or die;
	print $fh "SELECT count(*), sum(amount) FROM revenues WHERE occurred_at < '2025-07-01';\n";
	close $fh;
	open($fh, '>', "$dir/tm_writer.sql") or die;
	print $fh "\\set org random(1, 1000)\nINSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (:org, 1000, now(), 1);\n";
	close $fh;
	my ($bout, $berr) = ('', '');
	local $ENV{PGOPTIONS} = '-c statement_timeout=1000';
	my $bench = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '3', '-T', '5', '-f', "$dir/tm_reader.sql\@3", '-f', "$dir/tm_writer.sql\@1",
		  '--log', "--log-prefix=$dir/tm_pgb_$$", $node->connstr('postgres') ],
		'>', "$dir/tm_bench.out", '2>', "$dir/tm_bench.err");
	sleep 1;
	my $moves = 0;
	for my $target ('warm', 'pg_default', 'warm', 'pg_default')
	{
		my ($rc, $out, $err) = pgpart($node, '--lock-timeout', '1s', 'move', 'revenues', $part,
			'--tablespace', $target);
		$moves++ if $rc == 0;
	}
	$bench->finish;
	my $rc = $?;
	{ local $/; open(my $o, '<', "$dir/tm_bench.out") or die; $bout = <$o>; open($o, '<', "$dir/tm_bench.err") or die; $berr = <$o>; }
	note("pgbench: $bout$berr");
	is($moves, 4, 'four moves under load succeeded');
	is($rc, 0, 'no reader or writer failed (none waited 1 s)') or diag($berr);
	my ($txns) = $bout =~ /number of transactions actually processed: (\d+)/;
	ok($txns && $txns > 50, "readers and writers made progress ($txns transactions)");
	my $max_us = 0;
	for my $log (glob("$dir/tm_pgb_$$*"))
	{
		open(my $lf, '<', $log) or die;
		while (<$lf>) { my @f = split; $max_us = $f[2] if $f[2] > $max_us; }
	}
	cmp_ok($max_us / 1000, '<', 1000, sprintf('longest reader or writer statement %.0f ms', $max_us / 1000));
	is(table_fingerprint($node, $part), $before, 'rows identical after moving under load');
	psql_ok($node, 'DELETE FROM revenues WHERE property_id = 1000');
}

# ---- writers and readers during the copy (the pause hook exists only in the test build)
SKIP:
{
	skip 'the pause hook exists only in the test build', 28 unless $test_build;

	sub start_move
	{
		my ($pause, @args) = @_;
		my ($out, $err) = ('', '');
		local $ENV{PGPART_TEST_MOVE_PAUSE} = $pause;
		my $h = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'move', @args ],
			'>', \$out, '2>', \$err);
		my $t0 = time;
		while ($err !~ /paused at/ && time - $t0 < 30)
		{
			$h->pump_nb;
			select(undef, undef, undef, 0.1);
			last unless $h->pumpable;
		}
		return ($h, \$out, \$err);
	}

	my ($h, $out, $err) = start_move('copy:4', 'revenues', $part, '--tablespace', 'Cold Space');
	like($$err, qr/paused at copy/, 'the move is copying');
	my ($rc, $sout, $serr) = ('', '', '');
	my $t0 = time;
	my $n = $node->safe_psql('postgres', "SET statement_timeout = '1s'; SELECT count(*) FROM revenues WHERE occurred_at < '2025-04-01'");
	is($n, psql_ok($node, "SELECT count(*) FROM ONLY $part"), 'a reader of the range is not blocked by the copy');
	$rc = $node->psql('postgres', q{SET statement_timeout = '1s';
		INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2025-03-03', 1)},
		stdout => \$sout, stderr => \$serr);
	isnt($rc, 0, 'a writer to the range is refused');
	like($serr, qr/partition public.revenues_2025_q1 is being moved to tablespace Cold Space by pgpart; retry after the move finishes/,
		'with a clear error');
	$rc = $node->psql('postgres', q{SET statement_timeout = '1s'; UPDATE revenues SET amount = 2 WHERE id = 1},
		stdout => \$sout, stderr => \$serr);
	like($serr, qr/is being moved/, 'an UPDATE of the range is refused too');
	# TRUNCATE needs ACCESS EXCLUSIVE, so it waits for the copy's read (then the guard refuses it)
	$rc = $node->psql('postgres', q{SET lock_timeout = '200ms'; TRUNCATE revenues_2025_q1}, stdout => \$sout, stderr => \$serr);
	like($serr, qr/lock timeout/, 'a TRUNCATE of the partition waits for the copy');
	$rc = $node->psql('postgres', q{SET statement_timeout = '1s'; SET session_replication_role = replica;
		DELETE FROM revenues_2025_q1 WHERE id = 2}, stdout => \$sout, stderr => \$serr);
	like($serr, qr/is being moved/, 'a DELETE naming the partition in replica mode is refused too');
	$rc = $node->psql('postgres', q{SET statement_timeout = '1s';
		INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (77, 1, now() - interval '1 minute', 1)},
		stdout => \$sout, stderr => \$serr);
	is($rc, 0, 'a writer to another partition is neither blocked nor refused') or diag($serr);
	$h->finish;
	is($?, 0, 'the move finished') or diag($$err);
	is(tablespace_of($part), 'Cold Space', 'the partition is in "Cold Space"');
	is(table_fingerprint($node, $part), $before, 'rows identical: refused writes changed nothing');

	# Ctrl-C while copying: the move stops, drops its copy and guard, exit 1
	($h, $out, $err) = start_move('copy:2', 'revenues', $part, '--tablespace', 'warm');
	$h->signal('INT');
	$h->finish;
	is($? >> 8, 1, 'interrupted move: exit 1');
	like($$err, qr/interrupted; nothing was changed/, 'interrupted move: message');
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname ~ 'pgpart_(move|old)'}) . ' '
		. psql_ok($node, q{SELECT count(*) FROM pg_trigger WHERE tgname ~ 'tier_move'}) . ' ' . tablespace_of($part),
		'0 0 Cold Space', 'interrupted move: no copy, no guard, not moved');

	# kill -9 while copying: the partition is untouched, writes are refused until a re-run
	($h, $out, $err) = start_move('copy:60', 'revenues', $part, '--tablespace', 'warm');
	$h->signal('KILL');
	$h->finish;
	is(tablespace_of($part), 'Cold Space', 'killed mid-copy: the partition is where it was');
	is(table_fingerprint($node, $part), $before, 'killed mid-copy: rows intact');
	pgpart_ok($node, 're-run after kill mid-copy', 'move', 'revenues', $part, '--tablespace', 'warm');
	is(tablespace_of($part), 'warm', 're-run finished the move');

	# kill -9 after the copy committed, before the swap: a leftover copy, dropped by the re-run
	($h, $out, $err) = start_move('swap:60', 'revenues', $part, '--tablespace', 'pg_default');
	$h->signal('KILL');
	$h->finish;
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'revenues_2025_q1_pgpart_move'}), '1',
		'killed before the swap: the copy is left over');
	my $j = decode_json(pgpart_ok($node, 're-run after kill before swap', 'move', 'revenues', $part,
			'--tablespace', 'pg_default', '--json'));
	is($j->{leftovers_dropped}, 1, 'the re-run dropped the leftover copy');
	is(tablespace_of($part), 'pg_default', 're-run finished the move');
	is(table_fingerprint($node, $part), $before, 'rows identical after both kills');

	# --abort after a kill: the guard goes, writes are accepted again, nothing moved
	($h, $out, $err) = start_move('swap:60', 'revenues', $part, '--tablespace', 'warm');
	$h->signal('KILL');
	$h->finish;
	$rc = $node->psql('postgres', q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2025-03-03', 1)},
		stdout => \$sout, stderr => \$serr);
	like($serr, qr/is being moved/, 'after a kill the guard still refuses writes');
	like(pgpart_ok($node, 'abort', 'move', 'revenues', $part, '--abort'), qr/removed/, 'abort reports');
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname ~ 'pgpart_(move|old)'}) . ' '
		. psql_ok($node, q{SELECT count(*) FROM pg_trigger WHERE tgname ~ 'tier_move'}), '0 0',
		'abort removed the copy and the guard');
	psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2025-03-03', 1);
		DELETE FROM revenues WHERE occurred_at = '2025-03-03'});
	is(tablespace_of($part), 'pg_default', 'abort moved nothing');
}

# ---- a reader holding a lock on the table: the swap gives up cleanly and undoes everything
{
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN; SELECT count(*) FROM revenues;');
	pgpart_fails($node, 'swap blocked by a long reader', 1, qr/could not get the locks/, 'move',
		'revenues', $part, '--tablespace', 'warm', '--lock-timeout', '100ms', '--retries', '2');
	is(tablespace_of($part), 'pg_default', 'a refused swap leaves the partition in place');
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname ~ 'pgpart_(move|old)'}), '0',
		'and drops its copy');
	# the reader still holds the partition: the guard cannot be dropped, but it is disabled
	is(psql_ok($node, q{SET statement_timeout = '2s'; INSERT INTO revenues (org_id, property_id, occurred_at, amount)
		VALUES (1, 1, '2025-03-03', 1); WITH d AS (DELETE FROM revenues WHERE occurred_at = '2025-03-03' RETURNING 1)
		SELECT count(*) FROM d}), '1', 'writers to the range are accepted again at once: the row went in and out');
	$holder->query_safe('COMMIT');
	$holder->quit;
	pgpart_ok($node, 'abort drops the disabled guard', 'move', 'revenues', $part, '--abort');
	is(psql_ok($node, q{SELECT count(*) FROM pg_trigger WHERE tgname ~ 'tier_move'}), '0', 'no guard left');
	is(table_fingerprint($node, $part), $before, 'rows identical after the refused swap');
}

# ---- quoted names: schema, table and partition with spaces, capitals and quotes
psql_ok($node, q{
	CREATE SCHEMA "Billing Dept";
	CREATE TABLE "Billing Dept"."Org" (id bigint PRIMARY KEY);
	INSERT INTO "Billing Dept"."Org" SELECT generate_series(0, 99);
	CREATE TABLE "Billing Dept"."Org Ref" (id bigint PRIMARY KEY);
	INSERT INTO "Billing Dept"."Org Ref" SELECT generate_series(0, 99);
	CREATE TABLE "Billing Dept"."Rev ""Q"" Table" (id bigint, junk int, "Occurred At" date NOT NULL, note text,
	  "Twice" bigint GENERATED ALWAYS AS (id * 2) STORED, org bigint REFERENCES "Billing Dept"."Org")
	  PARTITION BY RANGE ("Occurred At");
	ALTER TABLE "Billing Dept"."Rev ""Q"" Table" DROP COLUMN junk;
	-- attached from a table of its own: other column order, a dropped column of its own
	CREATE TABLE "Billing Dept"."Old ""Part"" 2024" (gone int, note text, "Occurred At" date NOT NULL, id bigint,
	  "Twice" bigint GENERATED ALWAYS AS (id * 2) STORED, org bigint,
	  CONSTRAINT "Own FK" FOREIGN KEY (org) REFERENCES "Billing Dept"."Org Ref");
	ALTER TABLE "Billing Dept"."Old ""Part"" 2024" DROP COLUMN gone;
	ALTER TABLE "Billing Dept"."Rev ""Q"" Table" ATTACH PARTITION "Billing Dept"."Old ""Part"" 2024"
	  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
	CREATE TABLE "Billing Dept"."Cur" PARTITION OF "Billing Dept"."Rev ""Q"" Table"
	  FOR VALUES FROM ('2025-01-01') TO (MAXVALUE);
	CREATE INDEX "Idx ""Note""" ON "Billing Dept"."Rev ""Q"" Table" (note);
	INSERT INTO "Billing Dept"."Rev ""Q"" Table" (id, "Occurred At", note, org)
	  SELECT g, date '2024-01-01' + g % 366, CASE WHEN g % 9 <> 0 THEN 'n' || g END, g % 100 FROM generate_series(1, 2000) g});
my $fks = q{SELECT string_agg(conname || ' ' || (conparentid <> 0) || ' ' || convalidated || ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conname)
	FROM pg_constraint WHERE conrelid = '"Billing Dept"."Old ""Part"" 2024"'::regclass AND contype = 'f'};
my $fks_before = psql_ok($node, $fks);
like($fks_before, qr/Own FK false true.*; .+_org_fkey true true FOREIGN KEY/, 'the partition has its own and an inherited foreign key');
my $qbefore = table_fingerprint($node, q{"Billing Dept"."Old ""Part"" 2024"});
my $qparent = table_fingerprint($node, q{"Billing Dept"."Rev ""Q"" Table"});
pgpart_ok($node, 'move with quoted names', 'move', q{"Billing Dept"."Rev ""Q"" Table"},
	q{"Billing Dept"."Old ""Part"" 2024"}, '--tablespace', 'Cold Space');
is(tablespace_of(q{"Billing Dept"."Old ""Part"" 2024"}), 'Cold Space', 'quoted partition moved');
is(table_fingerprint($node, q{"Billing Dept"."Old ""Part"" 2024"}), $qbefore, 'quoted partition rows identical');
is(table_fingerprint($node, q{"Billing Dept"."Rev ""Q"" Table"}), $qparent,
	'rows through the parent identical (other column order, dropped and generated columns)');
psql_ok($node, q{INSERT INTO "Billing Dept"."Rev ""Q"" Table" (id, "Occurred At") VALUES (9999, '2024-06-01')});
is(psql_ok($node, q{SELECT "Twice" FROM "Billing Dept"."Old ""Part"" 2024" WHERE id = 9999}), '19998',
	'the generated column still works in the moved partition');
is(psql_ok($node, $fks), $fks_before, 'foreign keys carried over, valid, the inherited one attached to the parent\'s');
{
	my ($frc, $fout, $ferr) = ('', '', '');
	$frc = $node->psql('postgres', q{INSERT INTO "Billing Dept"."Rev ""Q"" Table" (id, "Occurred At", org) VALUES (1, '2024-02-02', 12345)},
		stdout => \$fout, stderr => \$ferr);
	like($ferr, qr/violates foreign key constraint/, 'and enforced');
}
is(psql_ok($node, q{SELECT count(*) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
	WHERE h.inhparent = '"Billing Dept"."Idx ""Note"""'::regclass AND c.reltablespace <> 0}), '1',
	'its index is attached to the parent index and in the tablespace');
pgpart_fails($node, 'MAXVALUE partition', 2, qr/never closed/, 'move', q{"Billing Dept"."Rev ""Q"" Table"},
	q{"Billing Dept"."Cur"}, '--tablespace', 'warm');

done_testing();
