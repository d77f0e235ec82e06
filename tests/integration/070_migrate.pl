# Online migration under concurrent writers: start -> backfill -> verify ->
# switch -> verify -> finish while pgbench inserts, updates (also across
# partitions) and deletes; the table then equals the writers' own ledger.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use IPC::Run ();
use File::Temp ();

my $node = new_cluster('migrate');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=20000', '-v',
		'orgs=50', '-d', $node->connstr('postgres'), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load 20000 rows');
# the ledger: every writer transaction applies the same change to it
psql_ok($node, q{CREATE TABLE ledger AS SELECT * FROM revenues; ALTER TABLE ledger ADD PRIMARY KEY (id)});

like(pgpart_ok($node, 'plan', 'migrate', 'plan', 'revenues', '--column', 'occurred_at'),
	qr/copy key\s+\(id, occurred_at\)/, 'plan names the copy key');
my $before = psql_ok($node, q{SELECT count(*) FROM pg_class});
pgpart_ok($node, 'dry-run start', '--dry-run', 'migrate', 'start', 'revenues', '--column',
	'occurred_at');
is(psql_ok($node, q{SELECT count(*) FROM pg_class}), $before, 'dry-run changed nothing');

my $script = File::Temp->new(SUFFIX => '.sql');
print $script <<'SQL';
\set id random(1, 20000)
\set kind random(1, 4)
BEGIN;
WITH ins AS (INSERT INTO revenues (org_id, property_id, occurred_at, amount, description) SELECT 7, 7, now() - random() * interval '400 days', 1.5, 'w' WHERE :kind = 1 RETURNING *) INSERT INTO ledger SELECT * FROM ins;
UPDATE revenues SET amount = amount + 1 WHERE id = :id AND :kind = 2;
UPDATE ledger SET amount = amount + 1 WHERE id = :id AND :kind = 2;
UPDATE revenues SET occurred_at = occurred_at + interval '100 days' WHERE id = :id AND :kind = 3;
UPDATE ledger SET occurred_at = occurred_at + interval '100 days' WHERE id = :id AND :kind = 3;
DELETE FROM revenues WHERE id = :id AND :kind = 4;
DELETE FROM ledger WHERE id = :id AND :kind = 4;
COMMIT;
SQL
close $script;
my ($bout, $berr) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '3', '-T', '25', '-R', '150', '--max-tries=10', '-f', "$script",
		$node->connstr('postgres') ],
	'>', \$bout, '2>', \$berr);
sleep 1;

pgpart_ok($node, 'start', 'migrate', 'start', 'revenues', '--column', 'occurred_at');
pgpart_ok($node, 'start again fails cleanly', 'migrate', 'status', 'revenues');
pgpart_fails($node, 'switch before backfill', 2, qr/phase "backfilling"/, 'migrate', 'switch',
	'revenues');
my $bf = decode_json(pgpart_ok($node, 'backfill', 'migrate', 'backfill', 'revenues',
		'--batch-size', '1000', '--rate', '4000', '--json'))->{batches};
# --batch-time (default 50ms) sizes the batches; --batch-size caps them
cmp_ok($bf->{count}, '>', 1, 'backfill: several batches');
cmp_ok($bf->{rows_min}, '<=', 100, 'backfill: the first batch is small');
cmp_ok($bf->{rows_max}, '<=', 1000, 'backfill: no batch above --batch-size');
is(psql_ok($node, q{SELECT batches FROM pgpart.migration WHERE table_name = 'revenues'}), $bf->{count},
	'backfill: the batches reported are the batches recorded');
my $vo = pgpart_ok($node, 'verify', 'migrate', 'verify', 'revenues', '--batch-size', '2000');
like($vo, qr/result\s+equal/, 'verify: equal');
# before it becomes the application's table, the copy has statistics, the partitioned parent's too
like($vo, qr/statistics\s+the copy vacuumed and analyzed/, 'verify: the copy vacuumed and analyzed');
is(psql_ok($node, q{SELECT count(*) > 0 FROM pg_statistic WHERE starelid = 'revenues_pgpart_new'::regclass AND stainherit}), 't',
	'the partitioned copy has statistics of its own');
is(psql_ok($node, q{SELECT bool_and(s.last_vacuum IS NOT NULL AND s.last_analyze IS NOT NULL) FROM pg_inherits i
	JOIN pg_stat_user_tables s ON s.relid = i.inhrelid WHERE i.inhparent = 'revenues_pgpart_new'::regclass}), 't',
	'and each of its partitions was vacuumed and analyzed');
my $sw = pgpart_ok($node, 'switch', 'migrate', 'switch', 'revenues', '--lock-timeout', '2s');
like($sw, qr/locks held\s+[\d.]+ ms/, 'switch reports how long locks were held');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE oid = 'revenues'::regclass}), 'p',
	'revenues is partitioned now');
sleep 2;
like(pgpart_ok($node, 'verify after switch', 'migrate', 'verify', 'revenues'),
	qr/result\s+equal/, 'verify after switch: equal');
pgpart_ok($node, 'finish', 'migrate', 'finish', 'revenues');
is(psql_ok($node, q{SELECT to_regclass('revenues_pgpart_old') IS NULL}), 't', 'old table dropped');

$bench->finish;
is($?, 0, 'writers saw no error that retries did not absorb') or diag($berr);
like($bout, qr/number of transactions actually processed: [1-9]/, 'writers were writing');
is(table_fingerprint($node, 'revenues'), table_fingerprint($node, 'ledger'),
	'the table equals the ledger, row for row');
is(psql_ok($node, q{SELECT count(*) FROM (SELECT id FROM revenues GROUP BY id HAVING count(*) > 1) d}),
	'0', 'no duplicated id');
is(psql_ok($node, q{SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgpart%'}), '0',
	'no pgpart trigger left');
like(pgpart_ok($node, 'status', 'status', 'revenues'), qr/revenues_2025_q1/,
	'pgpart manages the new table');
# identity continues after the old sequence's position
psql_ok($node, q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, now(), 1)});
is(psql_ok($node, q{SELECT count(*) FROM revenues GROUP BY id ORDER BY 1 DESC LIMIT 1}), '1',
	'new ids do not collide with migrated ones');

# ---- kill -9 mid-backfill, then resume
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=30000', '-d',
		$node->connstr('postgres'), '-c', 'TRUNCATE expenses',
		'-c', q{INSERT INTO expenses (org_id, property_id, occurred_at, amount, description)
			SELECT g % 50, g % 7, timestamptz '2025-01-01' + g * interval '17 minutes', g / 100.0,
			CASE WHEN g % 1000 = 0 THEN repeat(md5(g::text), 400) END
			FROM generate_series(1, 30000) g} ], 'load expenses');
my $expenses_before = table_fingerprint($node, 'expenses');
pgpart_ok($node, 'start expenses', 'migrate', 'start', 'expenses', '--column', 'occurred_at',
	'--interval', 'month');
my ($kout, $kerr) = ('', '');
my $victim = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'migrate',
		'backfill', 'expenses', '--batch-size', '500', '--rate', '6000' ], '>', \$kout, '2>', \$kerr);
sleep 2;
$victim->signal('KILL');
$victim->finish;
my $copied = psql_ok($node, q{SELECT rows_copied FROM pgpart.migration WHERE table_name = 'expenses'});
ok($copied > 0 && $copied < 30000, "killed mid-backfill after $copied rows");
pgpart_ok($node, 'resume backfill', 'migrate', 'backfill', 'expenses', '--batch-size', '5000');
like(pgpart_ok($node, 'verify after resume', 'migrate', 'verify', 'expenses'),
	qr/result\s+equal/, 'equal after resume');
is(psql_ok($node, q{SELECT count(*) FROM expenses_pgpart_new}), '30000', 'no duplicates after resume');

# ---- a long transaction holding a lock: switch gives up cleanly, then succeeds
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; SELECT count(*) FROM expenses;');
pgpart_fails($node, 'switch blocked by a reader', 1, qr/could not get the locks/, 'migrate',
	'switch', 'expenses', '--lock-timeout', '100ms', '--retries', '2');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE oid = 'expenses'::regclass}), 'r',
	'after a refused switch the old table is still in place');
$holder->query_safe('COMMIT');
$holder->quit;
pgpart_ok($node, 'switch expenses', 'migrate', 'switch', 'expenses');

# ---- rollback after switch, with writes in between: nothing lost
psql_ok($node, q{INSERT INTO expenses (org_id, property_id, occurred_at, amount) VALUES (99, 1, '2025-03-03', 3.25);
	DELETE FROM expenses WHERE id = 10; UPDATE expenses SET amount = 0 WHERE id = 11});
my $after_writes = table_fingerprint($node, 'expenses');
pgpart_ok($node, 'rollback after switch', 'migrate', 'rollback', 'expenses');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE oid = 'expenses'::regclass}), 'r',
	'the plain table is back');
is(table_fingerprint($node, 'expenses'), $after_writes, 'rollback kept the writes made after switch');
pgpart_ok($node, 'rollback before switch', 'migrate', 'rollback', 'expenses');
is(psql_ok($node, q{SELECT to_regclass('expenses_pgpart_new') IS NULL}), 't', 'the copy is gone');
pgpart_fails($node, 'nothing to roll back', 2, qr/no migration of public.expenses is in progress/,
	'migrate', 'rollback', 'expenses');

done_testing();
