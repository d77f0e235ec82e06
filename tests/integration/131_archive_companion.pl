# Archived rows of a table with a primary key stay queryable with plain SQL:
# the file_fdw partition goes under the companion TABLE_pgpart_foreign (no
# unique index), read with the table through the view TABLE_pgpart_all.
# Run as the non-superuser table owner; reports from detail rows over an
# archived quarter equal those from before it left; the planner prunes both
# branches; grants are kept, not widened; restore and retention find the
# companion's partitions; row security and hostile names.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Path qw(make_path);
use JSON::PP qw(decode_json);
use IPC::Run;

my $node = new_cluster('companion');
my $owner = create_owner_role($node);
psql_ok($node, q{CREATE ROLE reporting LOGIN; CREATE ROLE view_only LOGIN; CREATE ROLE late_reader LOGIN});
local $PgpartTest::ROLE = $owner;
seed_schema($node);
pgpart_ok($node, 'init', 'init');
# file_fdw runs "zstd -dc" on the server: what docs/security.md says a superuser grants once
psql_ok($node, qq{CREATE EXTENSION file_fdw SCHEMA pgpart;
	GRANT USAGE ON FOREIGN DATA WRAPPER file_fdw TO $owner;
	GRANT pg_execute_server_program TO $owner});
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2024-10-01',
	'--premake', '1');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=12000', '-v', 'orgs=20',
		'-v', 'future_rows=0', '-d', connstr_as($node, $owner), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load 12000 rows');
# the reporting role's documented grants: nothing on the companion or the view
psql_ok($node, q{GRANT USAGE ON SCHEMA pgpart TO reporting;
	GRANT SELECT ON ALL TABLES IN SCHEMA pgpart TO reporting;
	GRANT USAGE ON SCHEMA public TO reporting, view_only, late_reader;
	GRANT SELECT ON public.revenues, public.revenues_default TO reporting});

my $base = PostgreSQL::Test::Utils::tempdir();
make_path("$base/arch");
my $url = "file://$base/arch";

sub report
{
	my (@args) = @_;
	my ($rc, $out, $err) = pgpart($node, 'report', @args, '--source', 'detail', '--json');
	die "report @args failed: $err" if $rc;
	return decode_json($out);
}
sub rows_of { my ($r) = @_; return JSON::PP->new->canonical->encode($r->{rows}) }

my $q1 = q{(SELECT * FROM revenues WHERE occurred_at >= '2025-01-01' AND occurred_at < '2025-04-01')};
my $q1_before = table_fingerprint($node, $q1);
my $all_before = table_fingerprint($node, 'revenues');
my $yearly = report('yearly', 'revenues', '--org', '3', '--year', '2025');
my $cross = report('cross-org', 'revenues', '--from', '2025-01-01', '--to', '2026-01-01', '--by', 'status');
ok(@{ $yearly->{rows} } > 3 && @{ $cross->{rows} } > 1, 'reports have rows before');

# a default privilege of the owner must not reach the companion it makes
psql_ok($node, qq{ALTER DEFAULT PRIVILEGES FOR ROLE $owner IN SCHEMA public GRANT INSERT, SELECT ON TABLES TO view_only});

# ---- archive Q1: it stays queryable under the companion
my $out = pgpart_ok($node, 'archive q1', 'archive', 'revenues', 'revenues_2025_q1', '--to', $url);
like($out, qr/queryable in place: read-only file_fdw partition of public\.revenues_pgpart_foreign .* view public\.revenues_pgpart_all/,
	'the note names the companion and the view');
is(psql_ok($node, q{SELECT c.relkind::text || ' ' || h.inhparent::regclass::text FROM pg_class c JOIN pg_inherits h ON h.inhrelid = c.oid WHERE c.oid = 'revenues_2025_q1'::regclass}),
	'f revenues_pgpart_foreign', 'a foreign partition of the companion');
is(psql_ok($node, q{SELECT count(*) FROM pg_index WHERE indrelid = 'revenues_pgpart_foreign'::regclass}), '0',
	'the companion has no index');
is(psql_ok($node, q{SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid IN ('revenues_pgpart_foreign'::regclass, 'revenues_pgpart_all'::regclass) GROUP BY 1}),
	$owner, 'the table owner owns the companion and the view');
is(psql_ok($node, q{SELECT reloptions::text FROM pg_class WHERE oid = 'revenues_pgpart_all'::regclass}),
	'{security_invoker=true}', 'the view reads with the reader\'s own rights');
is(psql_ok($node, q{SELECT foreign_parent::text || ' ' || foreign_view::text FROM pgpart.part_config WHERE parent_table = 'revenues'::regclass}),
	'revenues_pgpart_foreign revenues_pgpart_all', 'recorded in part_config');
is(psql_ok($node, q{SELECT count(*) FROM revenues WHERE occurred_at >= '2025-01-01' AND occurred_at < '2025-04-01'}), '0',
	'the table itself no longer holds the range');
is(table_fingerprint($node, q{(SELECT * FROM revenues_pgpart_all WHERE occurred_at >= '2025-01-01' AND occurred_at < '2025-04-01')}),
	$q1_before, 'the view gives the archived rows exactly');
is(table_fingerprint($node, 'revenues_pgpart_all'), $all_before, 'and every row of the table');

# reports from detail rows: the same answers, read through the view
my $y2 = report('yearly', 'revenues', '--org', '3', '--year', '2025');
is(rows_of($y2), rows_of($yearly), 'yearly report over the archived quarter equals the one before');
like($y2->{source}, qr/with the archived and remote partitions of public\.revenues_pgpart_foreign/,
	'it says it read the companion too');
my $c2 = report('cross-org', 'revenues', '--from', '2025-01-01', '--to', '2026-01-01', '--by', 'status');
is(rows_of($c2), rows_of($cross), 'cross-org report over the year equals the one before');
my $c3 = report('cross-org', 'revenues', '--from', '2025-04-01', '--to', '2025-07-01', '--by', 'status');
is($c3->{source}, 'detail', 'a range that does not reach the archive reads the table alone');

# a rollup made after the archive never summarised it: the report must not trust it there
pgpart_ok($node, 'rollup after the archive', 'rollup', 'add', 'revenues', '--name', 'rev_m', '--grain', 'month',
	'--group-by', 'org_id, status', '--measures', 'sum(amount), count(*)');
{
	my ($rc, $o) = pgpart($node, 'report', 'yearly', 'revenues', '--org', '3', '--year', '2025', '--json');
	is($rc, 0, 'report with the source left to pgpart');
	is(rows_of(decode_json($o)), rows_of($yearly), 'it equals the report from before the archive');
	my ($rc2, $o2) = pgpart($node, 'report', 'yearly', 'revenues', '--org', '3', '--year', '2026', '--json');
	like(decode_json($o2)->{source}, qr/rollup public\.rev_m/, 'a year the archive does not reach comes from the rollup');
}
pgpart_ok($node, 'rollup drop', 'rollup', 'drop', '--name', 'rev_m');

# partition pruning on both branches
my $plan_q2 = psql_ok($node, q{EXPLAIN (COSTS OFF) SELECT count(*) FROM revenues_pgpart_all WHERE occurred_at >= '2025-04-01' AND occurred_at < '2025-07-01'});
like($plan_q2, qr/revenues_2025_q2/, 'Q2 through the view reads Q2');
unlike($plan_q2, qr/Foreign Scan|revenues_2025_q3|revenues_2024_q4/, 'and neither the archive nor other quarters');
my $plan_q1 = psql_ok($node, q{EXPLAIN (COSTS OFF) SELECT count(*) FROM revenues_pgpart_all WHERE occurred_at >= '2025-01-01' AND occurred_at < '2025-04-01'});
like($plan_q1, qr/Foreign Scan on revenues_2025_q1/, 'Q1 through the view reads the archive');
unlike($plan_q1, qr/revenues_2025_q2/, 'and no other quarter');

# grants: copied for SELECT only, never widened by the view
is($node->safe_psql('postgres', q{SELECT count(*) FROM revenues_pgpart_all WHERE org_id = 3}, extra_params => [ '-U', 'reporting' ]),
	$node->safe_psql('postgres', q{SELECT count(*) FROM revenues_pgpart_all WHERE org_id = 3}),
	'the reporting role reads through the view with its grants on the table');
{
	local $PgpartTest::ROLE = 'reporting';
	my ($rc, $o) = pgpart($node, 'report', 'yearly', 'revenues', '--org', '3', '--year', '2025', '--source', 'detail', '--json');
	is($rc, 0, 'report as the reporting role');
	is(rows_of(decode_json($o)), rows_of($yearly), 'with the same answer');
}
is(psql_ok($node, q{SELECT has_table_privilege('reporting', 'revenues_pgpart_foreign', 'INSERT')::text || has_table_privilege('reporting', 'revenues_pgpart_all', 'SELECT')::text}),
	'falsetrue', 'the reporting role got SELECT, not more');
is(psql_ok($node, q{SELECT has_table_privilege('view_only', 'revenues_pgpart_foreign', 'SELECT')::text || has_table_privilege('view_only', 'revenues_pgpart_foreign', 'INSERT')::text}),
	'falsefalse', 'the owner\'s default privileges gave nothing on the companion');
psql_ok($node, qq{SET ROLE $owner; GRANT SELECT ON revenues_pgpart_all TO view_only});
my ($rcv, undef, $errv) = $node->psql('postgres', 'SELECT count(*) FROM revenues_pgpart_all', extra_params => [ '-U', 'view_only' ]);
ok($rcv != 0 && $errv =~ /permission denied for table revenues/, 'the view gives nothing to a role without rights on the table');

# the application's writes keep going to the table with its keys
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category) VALUES (3, 1, '2025-02-02', 1.00, 'approved', 'rent')});
is(psql_ok($node, q{SELECT tableoid::regclass FROM revenues WHERE occurred_at = '2025-02-02' AND amount = 1.00 AND org_id = 3}),
	'revenues_default', 'a late row of the archived range goes to the default partition');
is(psql_ok($node, q{SELECT count(*) FROM revenues_pgpart_all WHERE occurred_at = '2025-02-02' AND amount = 1.00 AND org_id = 3}),
	'1', 'and is read through the view once');
psql_ok($node, q{DELETE FROM revenues WHERE occurred_at = '2025-02-02' AND amount = 1.00 AND org_id = 3});

# a dropped view hides nothing from report, and the next archive makes it again
psql_ok($node, qq{SET ROLE $owner; DROP VIEW revenues_pgpart_all});
is(rows_of(report('yearly', 'revenues', '--org', '3', '--year', '2025')), rows_of($yearly),
	'without the view, the report still reads the archived quarter');
my $st = pgpart_ok($node, 'status without the view', 'status', 'revenues');
like($st, qr/revenues_2025_q1 .*queryable in place\)/, 'status: still queryable in place');
unlike($st, qr/through the view/, 'and names no view (nor an OID)');

# a second archive reuses the companion, and carries grants given since
my $q2_before = table_fingerprint($node, q{(SELECT * FROM revenues WHERE occurred_at >= '2025-04-01' AND occurred_at < '2025-07-01')});
psql_ok($node, qq{SET ROLE $owner; GRANT SELECT ON revenues TO late_reader});
my $out2 = pgpart_ok($node, 'archive q2', 'archive', 'revenues', 'revenues_2025_q2', '--to', $url);
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE 'revenues_pgpart_foreign%'}), '1', 'one companion');
is(psql_ok($node, q{SELECT foreign_view::text FROM pgpart.part_config WHERE parent_table = 'revenues'::regclass}),
	'revenues_pgpart_all', 'the view is made again');
is(psql_ok($node, q{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid WHERE h.inhparent = 'revenues_pgpart_foreign'::regclass}),
	'revenues_2025_q1,revenues_2025_q2', 'holding both archived quarters');
is($node->safe_psql('postgres', q{SELECT count(*) FROM revenues_pgpart_all}, extra_params => [ '-U', 'late_reader' ]),
	(split ' ', $all_before)[0], 'a grant given on the table since reaches the view at the next archive');
is(rows_of(report('yearly', 'revenues', '--org', '3', '--year', '2025')), rows_of($yearly), 'yearly report over two archived quarters');
like(pgpart_ok($node, 'status', 'status', 'revenues'), qr/revenues_2025_q1 .*archived.*revenues_pgpart_all/s,
	'status lists the archived quarters and the view');

# a column added to the table since: the companion cannot take new archives in place
psql_ok($node, qq{SET ROLE $owner; ALTER TABLE revenues ADD COLUMN note2 text});
my $q3 = pgpart_ok($node, 'archive q3 after a new column', 'archive', 'revenues', 'revenues_2025_q3', '--to', $url);
like($q3, qr/not queryable in place: the table's columns differ from those of its companion public\.revenues_pgpart_foreign/,
	'says the columns changed');
my ($m3) = $q3 =~ m{(file://\S+\.manifest\.json)};
pgpart_ok($node, 'restore q3', 'restore', 'revenues', '--from', $m3);
psql_ok($node, qq{SET ROLE $owner; ALTER TABLE revenues DROP COLUMN note2});

# a REVOKE on the table reaches the companion and the view at the next maintain
psql_ok($node, qq{SET ROLE $owner; REVOKE SELECT ON revenues FROM late_reader});
pgpart_ok($node, 'maintain after a revoke', 'maintain', 'revenues');
is(psql_ok($node, q{SELECT has_table_privilege('late_reader', 'revenues_pgpart_foreign', 'SELECT')::text || has_table_privilege('late_reader', 'revenues_pgpart_all', 'SELECT')::text}),
	'falsefalse', 'revoked on both');

# row security turned on later: the companion (no policies) shuts, and report refuses the range
psql_ok($node, qq{SET ROLE $owner; ALTER TABLE revenues ENABLE ROW LEVEL SECURITY; CREATE POLICY everyone ON revenues USING (true)});
pgpart_ok($node, 'maintain after row security', 'maintain', 'revenues');
is(psql_ok($node, q{SELECT relrowsecurity FROM pg_class WHERE oid = 'revenues_pgpart_foreign'::regclass}), 't',
	'the companion has row security too');
is($node->safe_psql('postgres', q{SELECT count(*) FROM revenues_pgpart_foreign}, extra_params => [ '-U', 'reporting' ]),
	'0', 'and without policies the reporting role reads none of it');
pgpart_fails($node, 'report refuses the archived range under row security', 2, qr/has row security/,
	'report', 'yearly', 'revenues', '--org', '3', '--year', '2025', '--source', 'detail');
psql_ok($node, qq{SET ROLE $owner; DROP POLICY everyone ON revenues; ALTER TABLE revenues DISABLE ROW LEVEL SECURITY});
pgpart_ok($node, 'maintain after row security is off', 'maintain', 'revenues');
is(rows_of(report('yearly', 'revenues', '--org', '3', '--year', '2025')), rows_of($yearly), 'and reports again');

# ---- restore Q1: back under the table, out of the companion
my ($m1) = $out =~ m{(file://\S+\.manifest\.json)};
{
	# a reader of the view holds the companion: restore waits for it holding nothing of the table,
	# so the application's writers never queue behind that reader
	my $reader = $node->background_psql('postgres', extra_params => [ '-U', 'reporting' ]);
	$reader->query_safe(q{BEGIN; SELECT count(*) FROM revenues_pgpart_all WHERE occurred_at < '2025-04-01'});
	my ($rout, $rerr) = ('', '');
	my $h = IPC::Run::start([ $ENV{PGPART}, '-d', connstr_as($node, $owner), 'restore', 'revenues', '--from', $m1,
			'--lock-timeout', '2s', '--retries', '30' ], '<', \undef, '>', \$rout, '2>', \$rerr);
	my $seen = '';
	for (my $i = 0; $i < 600 && $seen eq ''; $i++)
	{
		$seen = psql_ok($node, q{SELECT 'holds the table: ' || coalesce(bool_or(l.relation = 'revenues'::regclass), false)::text FROM pg_locks w
			JOIN pg_stat_activity a ON a.pid = w.pid AND a.application_name LIKE 'pgpart%'
			LEFT JOIN pg_locks l ON l.pid = w.pid AND l.granted AND l.locktype = 'relation'
			WHERE w.relation = 'revenues_pgpart_foreign'::regclass AND NOT w.granted GROUP BY w.pid});
		select(undef, undef, undef, 0.05) if $seen eq '';
	}
	is($seen, 'holds the table: false', 'restore waits for the view\'s reader holding no lock on the table')
		or diag(psql_ok($node, q{SELECT string_agg(a.application_name || ' ' || l.pid || ' ' || coalesce(l.relation::regclass::text, l.locktype) || ' ' || l.mode || ' ' || l.granted, E'\n') FROM pg_locks l JOIN pg_stat_activity a USING (pid)}));
	$reader->query_safe('COMMIT');
	$reader->quit;
	$h->finish;
	is($? >> 8, 0, 'restore q1 once the reader is gone') or diag($rerr);
	note("restore: $rout$rerr");
}
is(psql_ok($node, q{SELECT c.relkind::text || ' ' || h.inhparent::regclass::text FROM pg_class c JOIN pg_inherits h ON h.inhrelid = c.oid WHERE c.oid = 'revenues_2025_q1'::regclass}),
	'r revenues', 'restored as a partition of the table');
is(table_fingerprint($node, $q1), $q1_before, 'with the archived rows');
is(table_fingerprint($node, 'revenues_pgpart_all'), $all_before, 'the view still gives every row once');

# the companion's partition of a range under another name: restoring the range would read it twice
my ($m2) = $out2 =~ m{(file://\S+\.manifest\.json)};
psql_ok($node, qq{SET ROLE $owner; ALTER TABLE revenues_2025_q2 RENAME TO "old q2"});
pgpart_fails($node, 'restore over a range the companion holds', 2, qr/"?old q2"?, a partition of public\.revenues_pgpart_foreign, already holds rows of the range/,
	'restore', 'revenues', '--from', $m2);
is(psql_ok($node, q{SELECT to_regclass('revenues_2025_q2') IS NULL}), 't', 'nothing restored');
psql_ok($node, qq{SET ROLE $owner; ALTER TABLE "old q2" RENAME TO revenues_2025_q2});

# ---- retention drops the companion's partition; the archive stays
pgpart_ok($node, 'policy', 'policy', 'revenues', '--drop-after', '17 months', '--drop-unarchived');
my $m = pgpart_ok($node, 'maintain applies retention', 'maintain', 'revenues');
like($m, qr/dropped the foreign partition public\.revenues_2025_q2/, 'retention drops the archived quarter');
is(psql_ok($node, q{SELECT to_regclass('revenues_2025_q2') IS NULL}), 't', 'gone');
is(psql_ok($node, q{SELECT count(*) FROM pgpart.retention_log WHERE partition_name = 'revenues_2025_q2'}), '1', 'logged');
pgpart_ok($node, 'policy clear', 'policy', 'revenues', '--clear');

# ---- row security: the companion would bypass its policies, so none is made
psql_ok($node, qq{SET ROLE $owner; CREATE TABLE guarded (id bigint, at timestamptz NOT NULL, v int, PRIMARY KEY (id, at))});
pgpart_ok($node, 'create guarded', 'create', 'guarded', '--column', 'at', '--start', '2025-01-01', '--interval', 'month', '--premake', '0');
psql_ok($node, qq{SET ROLE $owner; ALTER TABLE guarded ENABLE ROW LEVEL SECURITY});
psql_ok($node, q{INSERT INTO guarded SELECT g, '2025-01-01'::timestamptz + g * interval '1 hour', g FROM generate_series(1, 300) g});
my $g = pgpart_ok($node, 'archive guarded', 'archive', 'guarded', 'guarded_2025_01', '--to', $url);
like($g, qr/not queryable in place: the table has row security/, 'row security: says why it is not queryable in place');
is(psql_ok($node, q{SELECT to_regclass('guarded_pgpart_foreign') IS NULL AND to_regclass('guarded_2025_01') IS NULL}), 't',
	'no companion, no foreign table');

# ---- quoted names, another schema
psql_ok($node, qq{SET ROLE $owner; CREATE SCHEMA "Fin ""Q""";
	CREATE TABLE "Fin ""Q"""."Rev Q" (id bigint, "At" timestamptz NOT NULL, "Amt" numeric, PRIMARY KEY (id, "At"))});
pgpart_ok($node, 'create quoted', 'create', '"Fin ""Q"""."Rev Q"', '--column', 'At', '--start', '2025-01-01',
	'--interval', 'month', '--premake', '0');
psql_ok($node, q{INSERT INTO "Fin ""Q"""."Rev Q" SELECT g, '2025-01-01'::timestamptz + g * interval '1 hour', g / 7.0 FROM generate_series(1, 1000) g});
my $qb = table_fingerprint($node, q{"Fin ""Q"""."Rev Q"});
my $qo = pgpart_ok($node, 'archive quoted', 'archive', '"Fin ""Q"""."Rev Q"', '"Fin ""Q"""."Rev Q_2025_01"', '--to', $url);
like($qo, qr/view "Fin ""Q"""\."Rev Q_pgpart_all"|view Fin "Q"\.Rev Q_pgpart_all/, 'the note names the quoted view');
is(table_fingerprint($node, q{"Fin ""Q"""."Rev Q_pgpart_all"}), $qb, 'the quoted table\'s rows, read through its view');

done_testing();
