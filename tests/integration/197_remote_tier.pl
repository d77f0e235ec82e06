# pgpart remote: a closed partition goes to a second PostgreSQL server (a
# private cluster on 127.0.0.1 with scram-sha-256) and is read in place
# through postgres_fdw, and comes back; every command runs as the table's
# owner, who is no superuser; kill -9 at each step leaves the rows in one
# verified place and a re-run or --abort ends it; bad input changes nothing;
# the remote's password appears nowhere pgpart writes.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PgpartTest;
use Test::More;

my $node = new_cluster('local');
my $remote = new_tcp_cluster('remote');
my $test_build = `$ENV{PGPART} --version` =~ /test build/;

# the remote: a role that is no superuser, with a password that must never show
my $secret = q{Sek'r1t\\pw-7Q};
(my $secret_sql = $secret) =~ s/'/''/g;
$remote->safe_psql('postgres', qq{
	CREATE ROLE "tier owner" LOGIN PASSWORD '$secret_sql';
	GRANT CREATE ON DATABASE postgres TO "tier owner";
	GRANT CREATE ON SCHEMA public TO "tier owner";
	CREATE ROLE remote_reader LOGIN PASSWORD 'reader-pw';});
(my $secret_ci = $secret) =~ s/(['\\])/\\$1/g;
my $remote_ci = sprintf(q{host=127.0.0.1 port=%d dbname=postgres user='tier owner' password='%s'},
	$remote->port, $secret_ci);

# the local server: postgres_fdw installed by the DBA, USAGE for the owner
my $owner = create_owner_role($node);
psql_ok($node, qq{CREATE EXTENSION postgres_fdw; GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO $owner;
	CREATE ROLE no_fdw LOGIN; GRANT CREATE ON DATABASE postgres TO no_fdw;
	CREATE ROLE reporter LOGIN});

# everything pgpart prints, to look for the password in at the end
my $printed = '';
sub run_pgpart
{
	my (@args) = @_;
	my ($rc, $out, $err) = pgpart($node, @args);
	$printed .= $out . $err;
	return ($rc, $out, $err);
}
sub ok_pgpart
{
	my ($name, @args) = @_;
	my ($rc, $out, $err) = run_pgpart(@args);
	is($rc, 0, $name) or diag("stdout: $out\nstderr: $err");
	return $out;
}
sub fails_pgpart
{
	my ($name, $want, $re, @args) = @_;
	my ($rc, $out, $err) = run_pgpart(@args);
	is($rc, $want, "$name: exit code $want") or diag("stdout: $out\nstderr: $err");
	like($err, $re, "$name: message");
	return $err;
}
# kill -9 at a point (test builds); true when it died there
sub killed_at
{
	my ($point, @args) = @_;
	local $ENV{PGPART_TEST_REMOTE_KILL} = $point;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $ENV{PGPART}, '-d', connstr_as($node, $owner), @args ], '<', \undef, '>',
		\$out, '2>', \$err);
	$printed .= $out . $err;
	return ($? & 127) == 9;
}

{
	local $PgpartTest::ROLE = $owner;
	seed_schema($node);
	psql_as($node, $owner, q{
		CREATE SCHEMA "Billing";
		CREATE TABLE "Billing"."Ev'ent ""Log""" (org_id int NOT NULL, "Occurred At" timestamptz NOT NULL,
			amount numeric(12, 2), note text, tags text[])});
	ok_pgpart('init', 'init');
	ok_pgpart('create the hostile table', 'create', q{"Billing"."Ev'ent ""Log"""}, '--column',
		'Occurred At', '--start', '2025-01-01', '--interval', 'quarter', '--premake', '1');
	ok_pgpart('create revenues', 'create', 'revenues', '--column', 'occurred_at', '--start',
		'2025-01-01', '--interval', 'quarter', '--premake', '1');
}
psql_ok($node, q{
	INSERT INTO "Billing"."Ev'ent ""Log""" SELECT g % 13, timestamptz '2025-01-01' + g * interval '11 minutes',
		g / 7.0, CASE WHEN g % 9 = 0 THEN NULL ELSE 'note ' || g || E' tab\there ''q''' END, ARRAY['a', g::text]
	FROM generate_series(1, 20000) g;
	INSERT INTO revenues (org_id, property_id, occurred_at, amount)
	SELECT g % 40, g % 7, timestamptz '2025-01-01' + g * interval '7 minutes', g / 100.0
	FROM generate_series(1, 5000) g;
	GRANT USAGE ON SCHEMA "Billing" TO reporter;
	GRANT SELECT ON "Billing"."Ev'ent ""Log""" TO reporter});
my $events = q{"Billing"."Ev'ent ""Log"""};
{
	local $PgpartTest::ROLE = $owner;
	ok_pgpart('a rollup of the hostile table', 'rollup', 'add', $events, '--name', 'events_daily', '--grain', 'day',
		'--group-by', 'org_id', '--measures', 'sum(amount), count(*)');
}
my $q1 = q{"Billing"."Ev'ent ""Log""_2025_q1"};
my $q1_name = q{Ev'ent "Log"_2025_q1};
(my $events_lit = $events) =~ s/'/''/g;
(my $q1_lit = $q1) =~ s/'/''/g;
my $all_before = table_fingerprint($node, $events);
my $q1_before = table_fingerprint($node, $q1);
my $sum_before = psql_ok($node, qq{SELECT count(*), sum(amount) FROM $events});
my $rev_before = table_fingerprint($node, 'revenues');

sub remote_rows
{
	my $exists = $remote->safe_psql('postgres', q{SELECT to_regclass('"Billing"."Ev''ent ""Log""_2025_q1"') IS NOT NULL});
	return 'none' unless $exists eq 't';
	return $remote->safe_psql('postgres', q{SELECT count(*) FROM "Billing"."Ev'ent ""Log""_2025_q1"});
}
sub relkind { return psql_ok($node, qq{SELECT relkind FROM pg_class WHERE oid = '$q1_lit'::regclass}) }
sub job_phases { return psql_ok($node, q{SELECT string_agg(kind || ':' || phase, ',' ORDER BY id) FROM pgpart.remote_job}) }

local $PgpartTest::ROLE = $owner;

# ---- remote add
psql_as($node, $owner, 'GRANT USAGE ON SCHEMA pgpart TO no_fdw');
{
	local $PgpartTest::ROLE = 'no_fdw';
	fails_pgpart('no USAGE on postgres_fdw', 1, qr/permission denied for foreign-data wrapper postgres_fdw/,
		'remote', 'add', 'cold', '--remote', $remote_ci);
}
fails_pgpart('bad name', 2, qr/invalid remote name "Cold!"/, 'remote', 'add', 'Cold!', '--remote', $remote_ci);
fails_pgpart('no --remote', 2, qr/needs --remote/, 'remote', 'add', 'cold');
fails_pgpart('wrong password', 1, qr/remote "cold".*password authentication failed/,
	'remote', 'add', 'cold', '--remote', $remote_ci =~ s/password='(?:[^'\\]|\\.)*'/password='nope'/r);
my $dry = ok_pgpart('add --dry-run', '-v', '-v', 'remote', 'add', 'cold', '--remote', $remote_ci, '--dry-run');
like($dry, qr/CREATE SERVER "pgpart_remote_cold" FOREIGN DATA WRAPPER postgres_fdw OPTIONS \(host '127\.0\.0\.1', port '\d+', dbname 'postgres', async_capable 'true', fetch_size '10000'\)/,
	'dry-run: the server');
like($dry, qr/CREATE USER MAPPING FOR CURRENT_USER SERVER "pgpart_remote_cold" OPTIONS \(user 'tier owner', password '\*\*\*\*\*\*\*\*'\)/,
	'dry-run: the mapping, password masked');
is(psql_ok($node, q{SELECT count(*) FROM pg_foreign_server}), '0', 'dry-run made nothing');
like(ok_pgpart('add', 'remote', 'add', 'cold', '--remote', $remote_ci),
	qr/remote cold added: foreign server pgpart_remote_cold \(127\.0\.0\.1:\d+, database postgres\), user mapping of the current user as tier owner/,
	'remote add');
# the test's own superuser reads the table too (the checks below): a mapping of its own
psql_ok($node, qq{CREATE USER MAPPING FOR CURRENT_USER SERVER pgpart_remote_cold OPTIONS (user 'tier owner', password '$secret_sql')});
fails_pgpart('add twice', 2, qr/remote "cold" exists already/, 'remote', 'add', 'cold', '--remote', $remote_ci);
like(ok_pgpart('list', 'remote', 'list'), qr/^cold\s+127\.0\.0\.1:\d+\/postgres\s+tier owner\s+pgpart_remote_cold\s+0\s+0$/m, 'remote list');
# the password from a password file; a remote that asks for none is refused
{
	my $passfile = $node->basedir . '/pgpass';
	(my $pp = $secret) =~ s/([:\\])/\\$1/g;
	open(my $fh, '>', $passfile) or die "$passfile: $!";
	print $fh "127.0.0.1:" . $remote->port . ":postgres:tier owner:$pp\n";
	close($fh);
	chmod(0600, $passfile);
	local $ENV{PGPASSFILE} = $passfile;
	like(ok_pgpart('add with the password from PGPASSFILE', 'remote', 'add', 'spare', '--remote',
		sprintf(q{host=127.0.0.1 port=%d dbname=postgres user='tier owner'}, $remote->port)),
		qr/remote spare added/, 'PGPASSFILE: added');
	ok_pgpart('drop spare', 'remote', 'drop', 'spare');
}
fails_pgpart('a remote that asks for no password', 2, qr/remote "trusting" did not ask for a password/,
	'remote', 'add', 'trusting', '--remote', sprintf(q{host=%s port=%d dbname=postgres user='tier owner'},
		$remote->host, $remote->port));
is(psql_ok($node, q{SELECT string_agg(srvname, ',') FROM pg_foreign_server}), 'pgpart_remote_cold', 'only cold is left');
my $list = decode_json(ok_pgpart('list --json', 'remote', 'list', '--json'));
is($list->{remotes}[0]{user}, 'tier owner', 'list --json: the user, no password');

# ---- bad input: exit 2, nothing changed
my $catalog_sql = q{SELECT string_agg(oid::regclass::text || relkind::text, ',' ORDER BY oid) FROM pg_class
	WHERE relnamespace::regnamespace::text IN ('public', '"Billing"') AND relname NOT LIKE 'revenues%'};
my $catalog_before = psql_ok($node, $catalog_sql);
fails_pgpart('unknown remote', 2, qr/unknown remote "nope"/, 'remote', 'send', $events, $q1, '--to', 'nope');
fails_pgpart('not a partition', 2, qr/is not a partition of Billing/, 'remote', 'send', $events, 'revenues_2025_q1', '--to', 'cold');
fails_pgpart('default partition', 2, qr/is the default partition/, 'remote', 'send', $events,
	q{"Billing"."Ev'ent ""Log""_default"}, '--to', 'cold');
fails_pgpart('wrong table', 2, qr/not managed|does not exist/, 'remote', 'send', 'nope', $q1, '--to', 'cold');
fails_pgpart('open partition', 2, qr/is not closed/, 'remote', 'send', $events,
	psql_ok($node, qq{SELECT c.oid::regclass FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
		WHERE h.inhparent = '$events_lit'::regclass AND NOT c.relname LIKE '%default' ORDER BY c.relname DESC LIMIT 1}), '--to', 'cold');
fails_pgpart('no --to', 2, qr/needs --to/, 'remote', 'send', $events, $q1);
fails_pgpart('fetch of a local partition', 2, qr/is not on a remote/, 'remote', 'fetch', $events, $q1);
is(psql_ok($node, $catalog_sql), $catalog_before, 'after bad input the catalog is unchanged');
is(remote_rows(), 'none', 'after bad input nothing on the remote');

# ---- --dry-run prints both sides' SQL and changes nothing
my $dsend = ok_pgpart('send --dry-run', 'remote', 'send', $events, $q1, '--to', 'cold', '--dry-run');
like($dsend, qr/CREATE TRIGGER pgpart_tier_move_guard/, 'dry-run: the guard');
like($dsend, qr/CREATE TABLE "Billing"\."Ev'ent ""Log""_2025_q1" \("org_id" integer NOT NULL/, 'dry-run: the remote table');
like($dsend, qr/COPY \(SELECT .* FROM ONLY "Billing"\."Ev'ent ""Log""_2025_q1"\) TO STDOUT, streamed into COPY/, 'dry-run: the stream');
like($dsend, qr/CREATE FOREIGN TABLE "Billing"\."Ev'ent ""Log""_2025_q1" .* SERVER "pgpart_remote_cold" OPTIONS \(schema_name 'Billing', table_name 'Ev''ent "Log"_2025_q1', updatable 'false'\)/,
	'dry-run: the foreign table');
is(relkind(), 'r', 'dry-run changed nothing here');
is(remote_rows(), 'none', 'dry-run changed nothing there');

# ---- kill -9 at each step of a send
SKIP:
{
	skip 'kill points need the test build', 18 unless $test_build;
	ok(killed_at('after_guard', 'remote', 'send', $events, $q1, '--to', 'cold'), 'killed after the guard');
	my ($rc, $out, $err);
	eval { $node->safe_psql('postgres', qq{INSERT INTO $events VALUES (1, '2025-02-01', 1, 'x')}) };
	like($@, qr/being moved/, 'meanwhile writes to the range are refused');
	is(table_fingerprint($node, $events), $all_before, 'killed after the guard: rows in place');
	like(ok_pgpart('abort', 'remote', 'send', $events, $q1, '--abort'), qr/undone/, 'abort after the guard');
	is(psql_ok($node, qq{SELECT count(*) FROM pg_trigger WHERE tgrelid = '$q1_lit'::regclass AND tgname LIKE 'pgpart_tier_move_guard%'}), '0', 'the guard is gone');

	ok(killed_at('mid_copy', 'remote', 'send', $events, $q1, '--to', 'cold'), 'killed with the remote copy not committed');
	is(table_fingerprint($node, $events), $all_before, 'killed mid-copy: rows in place');
	like(ok_pgpart('abort mid-copy', 'remote', 'send', $events, $q1, '--abort'), qr/undone/, 'abort mid-copy');
	is(remote_rows(), 'none', 'nothing is left on the remote');

	ok(killed_at('after_remote_copy', 'remote', 'send', $events, $q1, '--to', 'cold'), 'killed after the remote copy');
	is(table_fingerprint($node, $events), $all_before, 'killed after the remote copy: rows here');
	is(remote_rows(), psql_ok($node, "SELECT count(*) FROM $q1"), 'the remote copy is there');
	ok_pgpart('abort after the remote copy', 'remote', 'send', $events, $q1, '--abort');
	is(remote_rows(), 'none', 'abort dropped the remote copy');

	ok(killed_at('after_verify', 'remote', 'send', $events, $q1, '--to', 'cold'), 'killed after the verify');
	is(job_phases(), 'send:aborted,send:aborted,send:aborted,send:copied', 'the job is recorded as copied');
}
# (a re-run continues a killed send; without the test build, a fresh send)
my $sent = ok_pgpart('send', '-v', '-v', 'remote', 'send', $events, $q1, '--to', 'cold');
like($sent, qr/\Q$q1_name\E: sent to remote cold \(Billing\.\Q$q1_name\E\): \d+ rows, checksum -?\d+/, 'send reports rows and checksum');
is(relkind(), 'f', 'the partition is a foreign table now');
{
	my $st = ok_pgpart('status', 'status', $events);
	like($st, qr/remote:cold/, 'status: the tier of the partition names the remote');
	like($st, qr/remote Billing\.\Q$q1_name\E on remote cold \(server pgpart_remote_cold, table Billing\.\Q$q1_name\E\): \d+ rows/,
		'status: where the range lives, with its rows');
	my $sj = decode_json(ok_pgpart('status --json', 'status', $events, '--json'));
	my ($tj) = @{ $sj->{tables} // [] };
	like(($tj->{remote} // [])->[0] // '', qr/on remote cold/, 'status --json: remote');
}
is(table_fingerprint($node, $events), $all_before, 'the same rows through the table');
is(psql_ok($node, qq{SELECT count(*), sum(amount) FROM $events}), $sum_before, 'the same count and sum');
is(remote_rows(), psql_ok($node, "SELECT count(*) FROM $q1"), 'the rows are on the remote');
like(psql_ok($node, qq{EXPLAIN SELECT count(*) FROM $events WHERE "Occurred At" < '2025-02-01'}), qr/Foreign Scan|Async/, 'the plan reads the foreign partition');
like(ok_pgpart('send again', '-v', '-v', 'remote', 'send', $events, $q1, '--to', 'cold'), qr/on remote cold already/, 'a second send has nothing to do');
eval { $node->safe_psql('postgres', qq{INSERT INTO $events VALUES (1, '2025-02-01', 1, 'x')}) };
like($@, qr/does not allow inserts/, 'the remote range refuses writes');
{
	my $m = ok_pgpart('metrics', 'metrics');
	like($m, qr/^pgpart_remote_partitions\{table="Billing\.Ev'ent \\"Log\\"",remote="cold"\} 1$/m, 'metrics: remote partitions');
	like($m, qr/^pgpart_remote_rows\{table="Billing\.Ev'ent \\"Log\\"",remote="cold"\} \d+$/m, 'metrics: remote rows');
	like($m, qr/^pgpart_partitions\{table="Billing\.Ev'ent \\"Log\\"",tier="remote:cold"/m, 'metrics: the tier of the partition');
}
like(ok_pgpart('list after send', 'remote', 'list'), qr/^cold\s.*\s1\s+\d+$/m, 'list counts the partition');
fails_pgpart('drop while in use', 2, qr/remote "cold" is in use/, 'remote', 'drop', 'cold');

# ---- a reporting role reads through the table: its own mapping, SELECT on the remote table
$remote->safe_psql('postgres', q{GRANT USAGE ON SCHEMA "Billing" TO remote_reader;
	GRANT SELECT ON "Billing"."Ev'ent ""Log""_2025_q1" TO remote_reader});
psql_as($node, $owner, sprintf(q{CREATE USER MAPPING FOR reporter SERVER pgpart_remote_cold OPTIONS (user 'remote_reader', password 'reader-pw')}));
is($node->safe_psql('postgres', qq{SELECT count(*), sum(amount) FROM $events}, extra_params => [ '-U', 'reporter' ]),
	$sum_before, 'the reporting role reads the remote rows through the table');

# ---- a fetch waits for snapshots older than its copy: they would find the range empty after the swap
{
	my $rr = $node->background_psql('postgres', on_error_stop => 0);
	$rr->query_safe(q{BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pgpart.schema_version});
	fails_pgpart('fetch under an older snapshot', 1, qr/transactions older than the fetched copy are still open/,
		'--lock-timeout', '100ms', '--retries', '3', 'remote', 'fetch', $events, $q1);
	is(relkind(), 'f', 'the fetch did not swap');
	is(table_fingerprint($node, $events), $all_before, 'and the rows are read from the remote');
	$rr->quit;
	ok_pgpart('abort that fetch', 'remote', 'fetch', $events, $q1, '--abort');
}

# ---- fetch back, with kill -9 at its steps
SKIP:
{
	skip 'kill points need the test build', 5 unless $test_build;
	ok(killed_at('after_fetch_copy', 'remote', 'fetch', $events, $q1), 'killed after the fetch copy');
	is(table_fingerprint($node, $events), $all_before, 'killed after the fetch copy: rows read remotely');
	ok_pgpart('abort the fetch', 'remote', 'fetch', $events, $q1, '--abort');
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE '%pgpart_fetch'}), '0', 'abort dropped the local copy');
	ok(killed_at('after_fetch_swap', 'remote', 'fetch', $events, $q1), 'killed after the fetch swap');
}
like(ok_pgpart('fetch', 'remote', 'fetch', $events, $q1), qr/fetched from remote cold/, 'fetch');
is(relkind(), 'r', 'the partition is local again');
is(table_fingerprint($node, $q1), $q1_before, 'the partition has its rows');
is(table_fingerprint($node, $events), $all_before, 'the same rows through the table');
is(remote_rows(), 'none', 'the remote table was dropped');
is(psql_ok($node, qq{SELECT count(*) > 0 FROM pg_trigger WHERE tgrelid = '$q1_lit'::regclass AND tgname LIKE 'pgpart_rollup%'}), 't',
	'the fetched partition has the rollup\'s triggers again');
is(psql_ok($node, qq{SELECT count(*) FROM pg_constraint WHERE conrelid = '$q1_lit'::regclass AND conname = 'pgpart_remote_bounds'}), '0', 'no bounds CHECK left');

# ---- the last send is killed after its swap: a re-run has nothing to do
SKIP:
{
	skip 'kill points need the test build', 3 unless $test_build;
	ok(killed_at('after_swap', 'remote', 'send', $events, $q1, '--to', 'cold'), 'killed after the swap');
	like(ok_pgpart('re-run after the swap', 'remote', 'send', $events, $q1, '--to', 'cold'), qr/already/, 'the re-run finds it sent');
}
ok_pgpart('send once more', 'remote', 'send', $events, $q1, '--to', 'cold') unless $test_build;
is(table_fingerprint($node, $events), $all_before, 'after all of it, the same rows');
my $json = decode_json(ok_pgpart('fetch --json', 'remote', 'fetch', $events, $q1, '--json'));
is($json->{rows}, psql_ok($node, "SELECT count(*) FROM $q1"), 'fetch --json: rows');

# ---- a table with a primary key: the foreign partition goes under its companion, read through the view
my $rev_sum = psql_ok($node, q{SELECT count(*), sum(amount) FROM revenues WHERE occurred_at >= '2025-01-01' AND occurred_at < '2026-01-01'});
# pgpart's own yearly reports from detail rows, before any quarter leaves
sub detail_yearly
{
	my ($org) = @_;
	my $o = ok_pgpart("yearly report of org $org", 'report', 'yearly', 'revenues', '--org', $org, '--year', '2025',
		'--source', 'detail', '--json');
	return JSON::PP->new->canonical->encode(decode_json($o)->{rows});
}
my %yearly_before = map { $_ => detail_yearly($_) } (1, 2);
like(ok_pgpart('send a partition of revenues', 'remote', 'send', 'revenues', 'revenues_2025_q1', '--to', 'cold'),
	qr/revenues_2025_q1: sent to remote cold/, 'revenues: sent');
is(psql_ok($node, q{SELECT c.relkind::text || ' ' || i.inhparent::regclass::text FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
	WHERE c.oid = 'revenues_2025_q1'::regclass}), 'f revenues_pgpart_foreign', 'revenues: the foreign partition is under the companion');
is(table_fingerprint($node, 'revenues_pgpart_all'), $rev_before, 'revenues: the same rows through its view');
like(ok_pgpart('status of revenues', 'status', 'revenues'), qr/remote public\.revenues_2025_q1 on remote cold .*: 5000 rows/,
	'status: a remote partition under the companion');
is(psql_ok($node, q{SELECT count(*), sum(amount) FROM revenues_pgpart_all WHERE occurred_at >= '2025-01-01' AND occurred_at < '2026-01-01'}),
	$rev_sum, 'revenues: a yearly total through the view, from detail rows, equals the one before');
# a second quarter archived in place beside the remote one: the same yearly reports, from detail rows
psql_ok($node, qq{CREATE EXTENSION IF NOT EXISTS file_fdw SCHEMA pgpart;
	GRANT USAGE ON FOREIGN DATA WRAPPER file_fdw TO $owner; GRANT pg_execute_server_program TO $owner});
my $arch = PostgreSQL::Test::Utils::tempdir();
my $aout = ok_pgpart('archive 2025 Q2 of revenues', 'archive', 'revenues', 'revenues_2025_q2', '--to', "file://$arch");
like($aout, qr/queryable in place: read-only file_fdw partition of public\.revenues_pgpart_foreign/, 'revenues: Q2 archived in place');
is(psql_ok($node, q{SELECT string_agg(c.relname || ':' || s.srvname, ',' ORDER BY c.relname) FROM pg_inherits i
	JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_foreign_table f ON f.ftrelid = c.oid JOIN pg_foreign_server s ON s.oid = f.ftserver
	WHERE i.inhparent = 'revenues_pgpart_foreign'::regclass}), 'revenues_2025_q1:pgpart_remote_cold,revenues_2025_q2:pgpart_archive',
	'the companion holds a remote and an archived quarter');
is(psql_ok($node, q{SELECT count(*), sum(amount) FROM revenues_pgpart_all WHERE occurred_at >= '2025-01-01' AND occurred_at < '2026-01-01'}),
	$rev_sum, 'revenues: the yearly total through the view, with a remote and an archived quarter');
is(detail_yearly($_), $yearly_before{$_}, "pgpart report yearly of org $_ from detail rows: the answers of before") for (1, 2);
my ($amanifest) = $aout =~ m{(file://\S+\.manifest\.json)};
ok_pgpart('restore 2025 Q2 of revenues', 'restore', 'revenues', '--from', $amanifest);
is($remote->safe_psql('postgres', q{SELECT count(*) FROM pg_index WHERE indrelid = 'public.revenues_2025_q1'::regclass AND indisprimary}), '1',
	'revenues: the remote table has the primary key');
# the reporting role reads the remote quarter of revenues through the view, with its own mapping
psql_ok($node, q{GRANT SELECT ON revenues TO reporter});
$remote->safe_psql('postgres', q{GRANT SELECT ON public.revenues_2025_q1 TO remote_reader});
ok_pgpart('maintain carries the grant to the companion', 'maintain', 'revenues');
is($node->safe_psql('postgres', q{SELECT count(*), sum(amount) FROM revenues_pgpart_all WHERE occurred_at >= '2025-01-01' AND occurred_at < '2026-01-01'},
	extra_params => [ '-U', 'reporter' ]), $rev_sum, 'the reporting role: the yearly total through the view');
# a late row of the remote range lands in the default partition: the range cannot come back over it
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2025-02-02', 7)});
fails_pgpart('fetch over a late row in the default partition', 2,
	qr/1 rows of the range of public\.revenues_2025_q1 wait in the default partition public\.revenues_default/,
	'remote', 'fetch', 'revenues', 'revenues_2025_q1');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE oid = 'revenues_2025_q1'::regclass}), 'f', 'the refused fetch changed nothing');
psql_ok($node, q{DELETE FROM revenues WHERE occurred_at = '2025-02-02' AND amount = 7});
like(ok_pgpart('fetch revenues back', 'remote', 'fetch', 'revenues', 'revenues_2025_q1'), qr/fetched from remote cold/, 'revenues: fetched');
is(psql_ok($node, q{SELECT c.relkind::text || ' ' || i.inhparent::regclass::text FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
	WHERE c.oid = 'revenues_2025_q1'::regclass}), 'r revenues', 'revenues: a local partition of the table again');
is(table_fingerprint($node, 'revenues'), $rev_before, 'revenues: the same rows in the table');
is(psql_ok($node, q{SELECT count(*) FROM pg_index WHERE indrelid = 'revenues_2025_q1'::regclass AND indisprimary}), '1',
	'revenues: the partition has its primary key again');

# ---- the policy: closed partitions older than a year go to the remote, retention drops them there
sub part_of { my ($q) = @_; return qq{"Billing"."Ev'ent ""Log""_$q"} }
sub part_lit { my ($q) = @_; return qq{"Billing"."Ev''ent ""Log""_$q"} }
sub kind_of { my ($q) = @_; return psql_ok($node, "SELECT relkind FROM pg_class WHERE oid = to_regclass('" . part_lit($q) . "')") }
sub remote_has { my ($q) = @_; return $remote->safe_psql('postgres', "SELECT to_regclass('" . part_lit($q) . "') IS NOT NULL") }
like(ok_pgpart('policy with a remote tier', 'policy', $events, '--remote-after', '1 year', '--remote-server', 'cold'),
	qr/remote after 1 year: to remote cold/, 'policy: the remote tier');
fails_pgpart('policy: --remote-after alone', 2, qr/--remote-after and --remote-server go together/, 'policy', $events,
	'--remote-after', '1 year');
my $maint = ok_pgpart('maintain applies the remote tier', 'maintain', $events);
like($maint, qr/sent Billing\.\Q$q1_name\E to remote cold/, 'maintain: sent 2025 Q1');
is(join(' ', map { kind_of($_) } qw(2025_q1 2025_q2 2025_q3 2025_q4)), 'f f f r', 'partitions ended a year ago are remote, Q4 2025 is not');
is(table_fingerprint($node, $events), $all_before, 'the policy kept every row');
ok_pgpart('policy with retention', 'policy', $events, '--remote-after', '1 year', '--remote-server', 'cold',
	'--drop-after', '5 quarters', '--drop-unarchived');
SKIP:
{
	skip 'kill points need the test build', 3 unless $test_build;
	ok(killed_at('after_retention_local', 'maintain', $events), 'retention killed after the local drop');
	is(kind_of('2025_q1'), '', 'the foreign table of Q1 is gone');
	is(remote_has('2025_q1'), 't', 'its remote table is still there');
}
like(ok_pgpart('maintain applies retention', 'maintain', $events), qr/dropped .*2025_q2 and its table on the remote/, 'retention: Q2 dropped');
is(join(' ', map { kind_of($_) } qw(2025_q1 2025_q2 2025_q3)), '  f', 'Q1 and Q2 dropped here, Q3 stays remote');
is(join(' ', map { remote_has($_) } qw(2025_q1 2025_q2 2025_q3)), 'f f t', 'and on the remote');
is(psql_ok($node, q{SELECT string_agg(partition_name, ',' ORDER BY partition_name) FROM pgpart.retention_log}),
	q{Ev'ent "Log"_2025_q1,Ev'ent "Log"_2025_q2}, 'retention_log records both');
is(psql_ok($node, q{SELECT string_agg((rows > 0)::text, ',') FROM pgpart.retention_log}), 'true,true', 'with the rows their sends counted');
is(psql_ok($node, qq{SELECT count(*) FROM $events}), psql_ok($node, qq{SELECT count(*) FROM $events WHERE "Occurred At" >= '2025-07-01'}),
	'only the dropped ranges are gone');
ok_pgpart('policy cleared', 'policy', $events, '--clear');
ok_pgpart('fetch Q3 back', 'remote', 'fetch', $events, part_of('2025_q3'));

# ---- the password is nowhere pgpart wrote
my $tables = psql_ok($node, q{SELECT string_agg(t::text, ' ') FROM (
	SELECT c::text AS t FROM pgpart.change_log c UNION ALL SELECT j::text FROM pgpart.remote_job j
	UNION ALL SELECT r::text FROM pgpart.run_log r) x});
unlike($tables, qr/\Q$secret\E|Sek/, 'no password in pgpart\'s tables');
unlike($printed, qr/\Q$secret\E|Sek/, 'no password in stdout, stderr (-v -v too), --dry-run or --json');
like($tables, qr/password '\*\*\*\*\*\*\*\*'/, 'the change log has the masked mapping');

fails_pgpart('drop while other roles have mappings', 1, qr/other objects depend on it/, 'remote', 'drop', 'cold');
is(psql_ok($node, q{SELECT count(*) FROM pg_user_mappings WHERE srvname = 'pgpart_remote_cold'}), '3', 'the failed drop dropped nothing');
psql_ok($node, q{DROP USER MAPPING FOR CURRENT_USER SERVER pgpart_remote_cold; DROP USER MAPPING FOR reporter SERVER pgpart_remote_cold});
ok_pgpart('drop', 'remote', 'drop', 'cold');
is(psql_ok($node, q{SELECT count(*) FROM pg_foreign_server WHERE srvname <> 'pgpart_archive'}), '0', 'the server is gone (pgpart_archive, of the archive read in place, stays)');

done_testing();
