# pgpart.change_log: every DDL statement, LOCK TABLE and row-moving statement
# pgpart runs is an entry written in the transaction of its change, by the
# non-superuser owner: create, maintain's default-partition move, a whole
# online migration (backfill batches with their rows), index add
# (CONCURRENTLY, outside a transaction), archive (its COPY with the rows), a retention
# drop.  --dry-run records nothing; a change that failed and rolled back
# leaves no entry; each LOCK entry has its hold (lock_hold_ms), filled in
# before the commit, unless the role may not update the log; pgpart log
# shows it, filters by table and day, prints JSON, and
# --keep prunes and is itself an entry; a standby shows the log but refuses
# --keep; a role without INSERT on the log is warned; a hostile name works.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;

my $node = new_cluster('change_log');
create_owner_role($node);
$PgpartTest::ROLE = 'app_owner';
seed_schema($node);
pgpart_ok($node, 'init', 'init');
sub entries
{
	my ($where) = @_;
	return psql_ok($node, qq{SELECT count(*) FROM pgpart.change_log WHERE $where});
}

# ---- create: its DDL, by the owner, from this host and process
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01',
	'--premake', '1');
cmp_ok(entries(q{command = 'create' AND kind = 'ddl' AND table_name = 'public.revenues'
	AND statement LIKE 'CREATE TABLE %revenues_2025_q1%'}), '>=', 1, 'create: each partition is an entry');
is(psql_ok($node, q{SELECT count(DISTINCT role) || ' ' || min(role) || ' ' || count(*) FILTER (WHERE client_host = '')
	|| ' ' || count(*) FILTER (WHERE started_at > now() + interval '1 minute' OR started_at < now() - interval '1 hour')
	|| ' ' || count(*) FILTER (WHERE duration_ms < 0) FROM pgpart.change_log}),
	'1 app_owner 0 0 0', 'written as the owner, with a host, a start and a duration');

# ---- --dry-run records nothing
my $before = entries('true');
pgpart_ok($node, 'dry-run maintain', '--dry-run', 'maintain', 'revenues');
pgpart_ok($node, 'dry-run index', '--dry-run', 'index', 'add', 'revenues', '--name', 'revenues_status', '(status)');
is(entries('true'), $before, '--dry-run records nothing');

# ---- rows in the default partition: maintain moves them, the entry has the rows
psql_as($node, 'app_owner', q{DROP TABLE revenues_2027_q1;
	INSERT INTO revenues (org_id, property_id, occurred_at, amount, status)
	SELECT g % 10, g % 7, timestamptz '2027-02-01' + g * interval '1 minute', g, 'approved'
	FROM generate_series(1, 300) g});
pgpart_ok($node, 'maintain', 'maintain', 'revenues');
is(psql_ok($node, q{SELECT count(*) FROM ONLY revenues_default}), '0', 'maintain emptied the default partition');
is(psql_ok($node, q{SELECT sum(rows) FROM pgpart.change_log WHERE command = 'maintain' AND kind = 'rows'
	AND table_name = 'public.revenues'}), '300', 'maintain: the rows moved out of the default partition are an entry, with their count');
cmp_ok(entries(q{command = 'maintain' AND kind = 'ddl' AND statement LIKE '%ATTACH PARTITION%'}), '>=', 1,
	'maintain: the ATTACH');

# ---- index add runs CONCURRENTLY, outside a transaction: recorded after it succeeded
pgpart_ok($node, 'index add', 'index', 'add', 'revenues', '--name', 'revenues_status', '(status)');
cmp_ok(entries(q{command = 'index' AND kind = 'ddl' AND statement LIKE 'CREATE INDEX CONCURRENTLY%'}), '>=', 1,
	'index add: each CREATE INDEX CONCURRENTLY is an entry');

# ---- a change that failed leaves no entry of success
$before = entries('true');
psql_ok($node, q{CREATE TABLE public.blocker (id int)});
pgpart_fails($node, 'create over a plain table', 2, qr/./, 'create', 'blocker', '--column', 'occurred_at');
is(entries('true'), $before, 'a refused command records nothing');

# ---- an online migration: DDL, locks and backfill batches with their rows
psql_as($node, 'app_owner', q{CREATE TABLE "Odd ""Name"" T" (LIKE expenses INCLUDING ALL);
	INSERT INTO "Odd ""Name"" T" (org_id, property_id, occurred_at, amount, status)
	SELECT g % 50, g % 9, timestamptz '2025-01-01' + g * interval '17 minutes', g, 'approved'
	FROM generate_series(1, 3000) g});
my $t = q{"Odd ""Name"" T"};
pgpart_ok($node, 'migrate start', 'migrate', 'start', $t, '--column', 'occurred_at');
pgpart_ok($node, 'migrate backfill', 'migrate', 'backfill', $t, '--batch-size', '1000');
pgpart_ok($node, 'migrate verify', 'migrate', 'verify', $t);
pgpart_ok($node, 'migrate switch', 'migrate', 'switch', $t);
my $stored = q{public."Odd ""Name"" T"};
is(psql_ok($node, qq{SELECT sum(rows) FROM pgpart.change_log WHERE command = 'migrate backfill' AND kind = 'rows'
	AND table_name = \$\$$stored\$\$}), '3000', 'backfill: the batches are entries, their rows add up to the table');
cmp_ok(entries(qq{command = 'migrate start' AND kind = 'ddl' AND statement LIKE 'CREATE TRIGGER%'}), '>=', 1,
	'migrate start: the mirror triggers');
cmp_ok(entries(qq{command = 'migrate switch' AND kind IN ('ddl', 'lock')}), '>=', 2, 'migrate switch: its lock and renames');

# ---- archive: the COPY of the partition's rows is an entry, with their count,
# written with the job's "uploaded"; its DETACH and DROP are entries as before
my $adir = PostgreSQL::Test::Utils::tempdir();
my $apart = psql_ok($node, q{SELECT pg_catalog.quote_ident(c.relname) FROM pg_inherits h
	JOIN pg_class c ON c.oid = h.inhrelid WHERE h.inhparent = '"Odd ""Name"" T"'::regclass
	AND pg_get_expr(c.relpartbound, c.oid) LIKE '%2025-01-01%'});
ok($apart ne '', "the migrated table's first partition: $apart");
my $arows = psql_ok($node, qq{SELECT count(*) FROM $apart});
cmp_ok($arows, '>', 0, 'it has rows');
pgpart_ok($node, 'archive', 'archive', $t, $apart, '--to', "file://$adir", '--no-foreign-table');
is(psql_ok($node, qq{SELECT count(*) || ' ' || coalesce(sum(rows), -1) || ' ' || min(outcome)
	FROM pgpart.change_log WHERE command = 'archive' AND kind = 'rows'
	AND statement LIKE 'COPY % TO STDOUT' AND table_name = \$\$$stored\$\$}),
	"1 $arows COPY $arows", 'archive: its COPY is one entry, with the rows copied');
cmp_ok(entries(q{command = 'archive' AND kind = 'ddl' AND statement LIKE 'DROP TABLE%'}), '>=', 1,
	'archive: the DROP');

# ---- lock wait and hold: every LOCK entry has its hold, no other entry has one
cmp_ok(entries(q{kind = 'lock'}), '>=', 3, 'LOCK entries to look at (maintain, switch, archive)');
is(entries(q{kind = 'lock' AND (lock_hold_ms IS NULL OR lock_hold_ms < 0)}), '0',
	'every LOCK entry has lock_hold_ms >= 0');
is(entries(q{kind <> 'lock' AND lock_hold_ms IS NOT NULL}), '0', 'other entries have none');
is(entries(q{kind = 'lock' AND lock_hold_ms > extract(epoch FROM now() - started_at) * 1000 + 1000}), '0',
	'no hold outlasts the time since the lock');

my ($rc, $out, $err);
# ---- pgpart log: text, a table, a day, JSON
$out = pgpart_ok($node, 'log', 'log');
like($out, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00  create  public\.revenues  ddl  [\d.]+ ms  app_owner@\S+ pid \d+$/m,
	'log: one line per entry, then its statement');
$out = pgpart_ok($node, 'log of a table', 'log', $t, '--json');
my $j = decode_json($out);
ok(@{ $j->{entries} } > 0, 'log TABLE --json has entries');
is(scalar(grep { ($_->{table} // '') ne $stored } @{ $j->{entries} }), 0, 'only of that table');
ok(defined((grep { $_->{kind} eq 'rows' && $_->{rows} > 0 } @{ $j->{entries} })[0]), 'with rows of batches');
is($j->{pruned}, undef, 'nothing pruned without --keep');
my @locks = grep { $_->{kind} eq 'lock' } @{ $j->{entries} };
ok(@locks > 0, 'log TABLE --json has LOCK entries');
is(scalar(grep { !defined($_->{lock_hold_ms}) || $_->{lock_hold_ms} < 0 } @locks), 0,
	'--json: lock_hold_ms of each LOCK entry');
is(scalar(grep { !exists($_->{lock_hold_ms}) || defined($_->{lock_hold_ms}) } grep { $_->{kind} ne 'lock' }
	@{ $j->{entries} }), 0, '--json: lock_hold_ms null for the others');
like(pgpart_ok($node, 'log of a table, text', 'log', $t),
	qr/^\S+ \S+ \+00  migrate switch  \Q$stored\E  lock  [\d.]+ ms, held [\d.]+ ms  app_owner@/m,
	'log: a LOCK entry shows its wait and hold');
$j = decode_json(pgpart_ok($node, 'log --since the future', 'log', '--since', '2099-01-01', '--json'));
is(scalar @{ $j->{entries} }, 0, '--since filters by day');
$j = decode_json(pgpart_ok($node, 'log --limit', 'log', '--limit', '3', '--json'));
is(scalar @{ $j->{entries} }, 3, '--limit: the newest N');

# ---- --keep prunes, and the pruning is an entry
psql_ok($node, q{UPDATE pgpart.change_log SET started_at = started_at - interval '500 days' WHERE command = 'create'});
my $old = entries(q{command = 'create'});
$j = decode_json(pgpart_ok($node, 'log --keep-days', 'log', '--keep-days', '400', '--json'));
is($j->{pruned}, $old, '--keep-days deleted the entries older than 400 days');
is(entries(q{command = 'create'}), '0', 'they are gone');
is(entries(qq{command = 'log --keep-days' AND statement LIKE 'DELETE FROM pgpart.change_log%' AND rows = $old}), '1',
	'the pruning is itself an entry, with the number of rows');
pgpart_fails($node, '--keep-days 0', 2, qr/--keep-days/, 'log', '--keep-days', '0');
pgpart_fails($node, 'bad --since', 2, qr/--since/, 'log', '--since', 'yesterday');

# ---- a role that may read the log but not write it: reads it, cannot prune it,
# and a change it makes is warned about, not silently unrecorded
psql_ok($node, q{CREATE ROLE reader LOGIN; GRANT USAGE ON SCHEMA pgpart TO reader;
	GRANT SELECT ON pgpart.change_log, pgpart.schema_version TO reader});
{
	local $PgpartTest::ROLE = 'reader';
	($rc, $out, $err) = pgpart($node, 'log', $t, '--limit', '2');
	is($rc, 0, 'a role granted SELECT reads the log') or diag($err);
	($rc, $out, $err) = pgpart($node, 'log', '--keep-days', '400');
	isnt($rc, 0, 'but cannot prune it');
}
psql_as($node, 'app_owner', q{REVOKE INSERT ON pgpart.change_log FROM app_owner});
{
	local $PgpartTest::ROLE = 'app_owner';
	$before = entries('true');
	($rc, $out, $err) = pgpart($node, 'index', 'add', 'revenues', '--name', 'revenues_property', '(property_id)');
	is($rc, 0, 'a change without INSERT on the log is made') or diag($err);
	like($err, qr/warning: this session's changes are not in pgpart\.change_log: role app_owner may not insert into it/,
		'and warned about');
	is(entries('true'), $before, 'with no entry');
}
psql_as($node, 'app_owner', q{GRANT INSERT ON pgpart.change_log TO app_owner});

# ---- a role that may insert into the log but not update it: its changes are
# recorded, a LOCK without its hold, and its COMMIT does not fail for it
psql_as($node, 'app_owner', q{REVOKE UPDATE ON pgpart.change_log FROM app_owner;
	DROP TABLE revenues_2027_q1;
	INSERT INTO revenues (org_id, property_id, occurred_at, amount, status)
	SELECT g % 10, g % 7, timestamptz '2027-02-01' + g * interval '1 minute', g, 'approved'
	FROM generate_series(1, 40) g});
$before = entries(q{kind = 'lock'});
pgpart_ok($node, 'maintain without UPDATE on the log', 'maintain', 'revenues');
is(psql_ok($node, q{SELECT count(*) FROM ONLY revenues_default}), '0', 'the rows were moved');
my $new_locks = entries(q{kind = 'lock'}) - $before;
cmp_ok($new_locks, '>', 0, 'its LOCK is an entry');
is(entries(q{kind = 'lock' AND lock_hold_ms IS NULL}), $new_locks, 'with no hold');
psql_as($node, 'app_owner', q{GRANT UPDATE ON pgpart.change_log TO app_owner});

done_testing();
