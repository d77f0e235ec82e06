# vacuum / analyze / reindex -j 2 on a populated partitioned table: every
# partition done, indexes valid after reindex, --only-needed skips untouched
# partitions and says why, --partitions, a lock held on one partition fails
# only that one (exit 1), Ctrl-C cancels the statement on the server, bad input.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PgpartTest;
use Test::More;

# no autovacuum: the statistics --only-needed reads change only by what the test does
my $node = new_cluster('parallel', conf => 'autovacuum = off');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01',
	'--premake', '0');
psql_ok($node, q{
INSERT INTO revenues (org_id, property_id, occurred_at, amount, status)
SELECT g % 100, g % 7, timestamptz '2025-01-01' + (g % 365) * interval '1 day', g, 'approved'
FROM generate_series(1, 40000) g;
CREATE INDEX revenues_org ON revenues (org_id, occurred_at);
});
# a table whose names need quoting, in a schema that does too
psql_ok($node, q{
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."Weird ""T""" (id int, "At" date NOT NULL) PARTITION BY RANGE ("At");
CREATE TABLE "Odd Schema"."P ""1""" PARTITION OF "Odd Schema"."Weird ""T""" FOR VALUES FROM ('2025-01-01') TO ('2025-07-01');
CREATE TABLE "Odd Schema"."p 2" PARTITION OF "Odd Schema"."Weird ""T""" FOR VALUES FROM ('2025-07-01') TO ('2026-01-01');
CREATE INDEX "Idx ""x""" ON "Odd Schema"."Weird ""T""" (id);
INSERT INTO "Odd Schema"."Weird ""T""" SELECT g, date '2025-01-01' + g % 365 FROM generate_series(1, 1000) g;
});

my @leaves = split /\n/, psql_ok($node, q{
	SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
	WHERE h.inhparent = 'revenues'::regclass ORDER BY 1});
cmp_ok(scalar @leaves, '>=', 5, 'revenues has its partitions: ' . join(' ', @leaves));
my $nleaves = scalar @leaves;

sub outcomes
{
	my ($json) = @_;
	my $o = decode_json($json);
	return ($o, { map { $_->{partition} => $_ } @{ $o->{partitions} } });
}

# ---- vacuum -j 2: every partition -------------------------------------------
my $out = pgpart_ok($node, 'vacuum -j 2', 'vacuum', 'revenues', '-j', '2');
like($out, qr/vacuum of public\.revenues: $nleaves done, 0 failed, 0 skipped/, 'summary line');
like($out, qr/^  revenues_2025_q1\s+done\s+\d+ ms/m, 'one line per partition with its duration');
is(psql_ok($node, q{SELECT count(*) FROM pg_stat_user_tables s JOIN pg_inherits h ON h.inhrelid = s.relid
	WHERE h.inhparent = 'revenues'::regclass AND s.last_vacuum IS NOT NULL}), $nleaves,
	'pg_stat_user_tables: every partition vacuumed');

# biggest first (sizes from the catalog, which the vacuum just updated)
$out = pgpart_ok($node, 'analyze -j 1 --json', 'analyze', 'revenues', '-j', '1', '--json');
my ($o, $by) = outcomes($out);
is($o->{done}, $nleaves, 'analyze: every partition done');
my @bytes = map { $_->{bytes} } @{ $o->{partitions} };
my @sorted = sort { $b <=> $a } @bytes;
is_deeply(\@bytes, \@sorted, 'partitions in order of size, biggest first');
cmp_ok($bytes[0], '>', 0, 'sizes are known');
is(psql_ok($node, q{SELECT count(*) FROM pg_stat_user_tables s JOIN pg_inherits h ON h.inhrelid = s.relid
	WHERE h.inhparent = 'revenues'::regclass AND s.last_analyze IS NOT NULL}), $nleaves,
	'pg_stat_user_tables: every partition analysed');

# ---- reindex -j 2: every partition index rebuilt, all valid, no leftovers ----
my $idx_sql = q{SELECT string_agg(i.indexrelid::regclass::text || '=' || c.relfilenode || '/' || i.indisvalid, ' ' ORDER BY i.indexrelid::regclass::text)
	FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_inherits h ON h.inhrelid = i.indrelid
	WHERE h.inhparent = 'revenues'::regclass};
my %before = map { split /=/ } split / /, psql_ok($node, $idx_sql);
is(scalar keys %before, 2 * $nleaves, 'two indexes per partition before');
$out = pgpart_ok($node, 'reindex -j 2', 'reindex', 'revenues', '-j', '2');
like($out, qr/reindex of public\.revenues: $nleaves done, 0 failed/, 'reindex summary');
my %after = map { split /=/ } split / /, psql_ok($node, $idx_sql);
is_deeply([ sort keys %after ], [ sort keys %before ], 'the same index names after');
is(scalar(grep { $before{$_} ne $after{$_} } keys %before), scalar keys %before,
	'every partition index was rebuilt (new relfilenode)');
is(scalar(grep { !/\/true$/ } values %after), 0, 'every partition index valid');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname ~ '_cc(new|old)'}), '0',
	'no _ccnew/_ccold leftovers');
is(psql_ok($node, q{SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid = 'revenues'::regclass}), 't',
	'parent indexes valid');

# ---- --only-needed: only the changed partition -------------------------------
$out = pgpart_ok($node, 'vacuum --only-needed (nothing changed)', 'vacuum', 'revenues', '--only-needed', '--json');
($o, $by) = outcomes($out);
is($o->{skipped}, $nleaves, 'every partition skipped');
like($by->{revenues_2025_q1}{detail}, qr/no dead rows/, 'and says why');

psql_ok($node, q{UPDATE revenues SET amount = amount + 1 WHERE occurred_at >= '2025-04-01' AND occurred_at < '2025-07-01'});
for my $cmd ('vacuum', 'analyze', 'reindex')
{
	$out = pgpart_ok($node, "$cmd --only-needed after an update of Q2", $cmd, 'revenues', '-j', '2',
		'--only-needed', '--json');
	($o, $by) = outcomes($out);
	is($by->{revenues_2025_q2}{result}, 'done', "$cmd: the updated partition is done");
	like($by->{revenues_2025_q2}{detail}, qr/done/, "$cmd: its outcome");
	is($o->{skipped}, $nleaves - 1, "$cmd: the others are skipped");
	like($by->{revenues_2025_q1}{detail},
		$cmd eq 'vacuum' ? qr/no dead rows/ : $cmd eq 'analyze' ? qr/unchanged since the last analyse/
		: qr/no update or delete/, "$cmd: says why it skipped Q1");
}
# reindexed once, the updated partition is not reindexed again until it changes again
$out = pgpart_ok($node, 'reindex --only-needed again', 'reindex', 'revenues', '--only-needed', '--json');
($o, $by) = outcomes($out);
is($o->{skipped}, $nleaves, 'reindex --only-needed right after: every partition skipped');
like($by->{revenues_2025_q2}{detail}, qr/no update or delete since the last reindex/, 'Q2 too, since its last reindex');
psql_ok($node, q{DELETE FROM revenues WHERE occurred_at >= '2025-05-01' AND occurred_at < '2025-05-02'});
$out = pgpart_ok($node, 'reindex --only-needed after a delete', 'reindex', 'revenues', '--only-needed', '--json');
($o, $by) = outcomes($out);
is($by->{revenues_2025_q2}{result}, 'done', 'a delete in Q2: reindexed again');
is($o->{skipped}, $nleaves - 1, 'the others skipped');
is(psql_ok($node, q{SELECT count(*) FROM pgpart.run_log WHERE command IN ('vacuum', 'analyze', 'reindex')
	AND parent_table = 'revenues'::regclass AND ok}) > 5 ? 'yes' : 'no', 'yes', 'runs recorded in pgpart.run_log');
$out = pgpart_ok($node, 'vacuum --only-needed text', 'vacuum', 'revenues', '--only-needed');
like($out, qr/^  revenues_2025_q3\s+skipped\s.*no dead rows/m, 'text summary says skipped and why');

# ---- --partitions --------------------------------------------------------------
$out = pgpart_ok($node, 'vacuum --partitions', 'vacuum', 'revenues', '--partitions', '2025-03-15..2025-07-01', '--json');
($o, $by) = outcomes($out);
is_deeply([ sort keys %$by ], [ 'revenues_2025_q1', 'revenues_2025_q2' ], 'only the partitions overlapping the range');

# ---- quoted names ----------------------------------------------------------------
$out = pgpart_ok($node, 'reindex of a table with odd names', 'reindex', '"Odd Schema"."Weird ""T"""', '-j', '2', '--json');
($o, $by) = outcomes($out);
is($o->{done}, 2, 'both odd partitions reindexed');
ok($by->{'P "1"'} && $by->{'p 2'}, 'names as they are');
is(psql_ok($node, q{SELECT bool_and(indisvalid) FROM pg_index WHERE indrelid::regclass::text LIKE '"Odd Schema".%'}), 't',
	'their indexes valid');

# ---- dry run -------------------------------------------------------------------------
$out = pgpart_ok($node, 'reindex --dry-run', 'reindex', 'revenues', '--dry-run', '--partitions', '2025-01-01..2025-04-01');
like($out, qr/^REINDEX TABLE CONCURRENTLY "public"\."revenues_2025_q1";?$/m, '--dry-run prints the statement');

# ---- a lock on one partition: that one fails, the others are done -------------------
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; LOCK TABLE revenues_2025_q3 IN ACCESS EXCLUSIVE MODE;');
my ($rc, $sout, $serr) = pgpart($node, 'vacuum', 'revenues', '-j', '2', '--lock-timeout', '200ms');
is($rc, 1, 'vacuum with one partition locked: exit 1');
like($sout, qr/^  revenues_2025_q3\s+FAILED\s.*lock timeout/m, 'the locked partition failed on its lock timeout');
is(scalar(() = $sout =~ /^  \S+\s+done\s/mg), $nleaves - 1, 'every other partition done');
like($serr, qr/pgpart: error: vacuum failed on 1 of $nleaves partitions/, 'the error says how many failed');

# ---- Ctrl-C cancels the waiting statement on the server ---------------------------------
my ($cout, $cerr) = ('', '');
my $h = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'vacuum', 'revenues', '-j', '2',
		'--lock-timeout', '60s' ], '<', \undef, '>', \$cout, '2>', \$cerr);
my $waiting = 0;
for (1 .. 100)
{
	$waiting = psql_ok($node, q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'VACUUM %revenues_2025_q3%' AND wait_event_type = 'Lock'});
	last if $waiting;
	select(undef, undef, undef, 0.1);
}
is($waiting, '1', 'the vacuum of the locked partition waits on the server');
my $t0 = time;
$h->signal('INT');
$h->finish;
my $crc = $? >> 8;
cmp_ok(time - $t0, '<=', 5, 'pgpart stopped promptly after SIGINT');
is($crc, 1, 'exit 1 after Ctrl-C');
like($cerr, qr/pgpart: error: cancelled/, 'says it was cancelled');
unlike($cerr, qr/AddressSanitizer|runtime error/, 'clean exit');
is(psql_ok($node, q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'VACUUM %' AND state = 'active'}), '0',
	'no vacuum left running on the server');
$holder->query_safe('COMMIT;');

# ---- an interrupted reindex leaves no invalid index behind --------------------------------
# an open transaction with a snapshot makes REINDEX CONCURRENTLY wait for it
# (a lock on its virtual transaction ID), so the short lock timeout fires
# after the new index was created
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pgpart.part_config;');
($rc, $sout, $serr) = pgpart($node, 'reindex', 'revenues', '--partitions', '2025-01-01..2025-04-01', '--lock-timeout', '300ms');
is($rc, 1, 'reindex interrupted by its lock timeout: exit 1');
like($sout, qr/FAILED/, 'the partition failed');
$holder->query_safe('COMMIT;');
my $left = psql_ok($node, q{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname ~ '_cc(new|old)'});
if ($left ne '0')
{
	# could not be dropped while the old transaction was open; the next run does it
	$out = pgpart_ok($node, 'reindex again', 'reindex', 'revenues', '--partitions', '2025-01-01..2025-04-01');
	like($out, qr/note: dropped \S+_ccnew\S*, an invalid leftover/, 'the next run drops the leftover and says so');
}
else
{
	like($sout, qr/note: dropped \S+_ccnew\S*, an invalid leftover/, 'the leftover was dropped and said so');
}
is(psql_ok($node, q{SELECT string_agg(relnamespace::regnamespace || '.' || relname, ' ') FROM pg_class WHERE relname ~ '_cc(new|old)'}), '', 'no leftover index');
is(psql_ok($node, q{SELECT count(*) FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid
	WHERE h.inhparent = 'revenues'::regclass AND NOT i.indisvalid}), '0', 'every partition index valid');
$holder->quit;

# ---- bad input ------------------------------------------------------------------------------
pgpart_fails($node, 'unknown table', 2, qr/table "nosuch" does not exist/, 'vacuum', 'nosuch');
pgpart_fails($node, '-j 0', 2, qr/invalid --jobs "0"/, 'vacuum', 'revenues', '-j', '0');
pgpart_fails($node, '-j junk', 2, qr/invalid --jobs "x"/, 'analyze', 'revenues', '-j', 'x');
pgpart_fails($node, 'not partitioned', 2, qr/is not a partitioned table/, 'vacuum', 'pgpart.part_config');
pgpart_fails($node, 'bad --partitions', 2, qr/invalid --partitions/, 'vacuum', 'revenues', '--partitions', '2025-04-01..2025-01-01');
pgpart_fails($node, 'no table', 2, qr/give exactly one partitioned table/, 'reindex');
my ($urc, undef, $uerr) = PgpartTest::run_raw('-d', 'host=127.0.0.1 port=1 connect_timeout=2', 'vacuum', 'revenues');
is($urc, 1, 'unreachable server: exit 1');
like($uerr, qr/pgpart: error: .*(connect|connection)/i, 'unreachable server: clear error');

done_testing();
