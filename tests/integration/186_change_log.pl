# pgpart.change_log: every DDL statement, LOCK TABLE and row-moving statement
# pgpart runs is an entry written in the transaction of its change, by the
# non-superuser owner: create, maintain's default-partition move, a whole
# online migration (backfill batches with their rows), index add
# (CONCURRENTLY, outside a transaction), archive and restore, a retention
# drop.  --dry-run records nothing; a change that failed and rolled back
# leaves no entry; pgpart log filters by table and day, prints JSON, and
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

done_testing();
