# Writes that bypass or confuse row triggers, before and after switch:
# INSERT ... ON CONFLICT, MERGE, COPY, writable CTEs, session_replication_role
# = replica, two-phase transactions, TRUNCATE, out-of-range and NULL keys.
# Each is propagated (verify finds the tables equal) or detected (disabled
# triggers, DDL on the source): never silent divergence.
use strict;
use warnings;
use PgpartTest;
use Test::More;

my $node = new_cluster('bypass');
pgpart_ok($node, 'init', 'init');
psql_ok($node, q{
	CREATE TABLE bp (id bigint PRIMARY KEY, occurred_at timestamptz, amount numeric NOT NULL,
		note text);
	INSERT INTO bp SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '3 hours', g, 'n' || g
	  FROM generate_series(1, 3000) g;
	CREATE TABLE tr (id int, at date NOT NULL, PRIMARY KEY (id, at));
	INSERT INTO tr SELECT g, date '2025-01-01' + g FROM generate_series(1, 500) g;
	CREATE TABLE dd (id int, at date NOT NULL, v int, PRIMARY KEY (id, at));
	INSERT INTO dd SELECT g, date '2025-01-01' + g, g FROM generate_series(1, 500) g;
});
my $csv = $node->basedir . '/rows.csv';

pgpart_ok($node, 'start bp', 'migrate', 'start', 'bp', '--column', 'occurred_at', '--extend-keys',
	'--start', '2025-01-01', '--time-zone', 'UTC');
pgpart_ok($node, 'part of the backfill', 'migrate', 'backfill', 'bp', '--batch-size', '1000',
	'--max-rows', '1000');

# every kind of write, each touching copied and not yet copied rows
my @writes = (
	[ 'INSERT ON CONFLICT DO UPDATE',
		q{INSERT INTO bp SELECT id, occurred_at, -id, 'upsert' FROM bp WHERE id IN (5, 2500)
		  UNION ALL SELECT 100001, '2025-06-01', 1, 'upsert new'
		  ON CONFLICT (@KEY@) DO UPDATE SET amount = EXCLUDED.amount, note = EXCLUDED.note} ],
	[ 'INSERT ON CONFLICT DO NOTHING',
		q{INSERT INTO bp SELECT 6, occurred_at, 0, 'ignored' FROM bp WHERE id = 6
		  UNION ALL SELECT 100002, '2025-06-02', 2, 'do nothing new' ON CONFLICT DO NOTHING} ],
	[ 'MERGE',
		q{MERGE INTO bp t USING (VALUES (7, 'merge'), (2600, 'merge'), (100003, 'merge new'), (8, 'delete'), (2601, 'delete')) s(id, what)
		  ON t.id = s.id
		  WHEN MATCHED AND s.what = 'delete' THEN DELETE
		  WHEN MATCHED THEN UPDATE SET note = 'merged', occurred_at = t.occurred_at + interval '200 days'
		  WHEN NOT MATCHED THEN INSERT VALUES (s.id, '2025-07-01', 3, s.what)} ],
	[ 'COPY', qq{COPY (SELECT g + 200000, timestamptz '2025-03-01 00:00+00' + g * interval '1 hour', g, 'copied'
		  FROM generate_series(1, 50) g) TO '$csv' WITH (FORMAT csv);
		  COPY bp FROM '$csv' WITH (FORMAT csv)} ],
	[ 'writable CTE',
		q{WITH d AS (DELETE FROM bp WHERE id BETWEEN 10 AND 19 OR id BETWEEN 2700 AND 2709 RETURNING *)
		  INSERT INTO bp SELECT id + 300000, occurred_at, amount, 'moved by cte' FROM d} ],
	[ 'session_replication_role = replica',
		q{SET session_replication_role = replica;
		  UPDATE bp SET note = 'replica' WHERE id IN (20, 2720);
		  DELETE FROM bp WHERE id IN (21, 2721);
		  INSERT INTO bp VALUES (400001, '2025-05-05', 4, 'replica insert')} ],
	[ 'NULL and out-of-range partition keys',
		q{INSERT INTO bp VALUES (500001, NULL, 5, 'null date'), (500002, '1900-01-01', 5, 'too old'),
		  (500003, '2300-01-01', 5, 'far future');
		  UPDATE bp SET occurred_at = NULL WHERE id IN (22, 2722);
		  UPDATE bp SET occurred_at = '2400-01-01' WHERE id IN (23, 2723)} ],
);

sub all_writes
{
	my ($phase, $off) = @_;
	for my $w (@writes)
	{
		# new rows get ids shifted by $off, so the second round inserts new ones again
		(my $sql = $w->[1]) =~ s/\b([1-7]0000[1-3]|[23]00000)\b/$1 + $off/ge;
		# --extend-keys made the key (id, occurred_at): ON CONFLICT must name it after switch
		$sql =~ s/\@KEY\@/$off ? 'id, occurred_at' : 'id'/e;
		ok(eval { psql_ok($node, $sql); 1 }, "$phase: $w->[0] accepted") or diag($@);
	}
	# a two-phase transaction prepared now and committed later
	psql_ok($node, qq{BEGIN; UPDATE bp SET note = '2pc' WHERE id IN (24, 2724);
		INSERT INTO bp VALUES (600001 + $off, '2025-08-08', 6, '2pc insert') ON CONFLICT DO NOTHING;
		PREPARE TRANSACTION 'pgpart_test_2pc'});
}

all_writes('during backfill', 0);
# a prepared transaction holds row locks: the batch waits for it, then gives up clearly
my ($rc, $out, $err) = pgpart($node, 'migrate', 'backfill', 'bp', '--lock-timeout', '200ms',
	'--retries', '2');
is($rc, 1, 'backfill cannot lock rows held by a prepared transaction');
like($err, qr/could not get the locks/, 'and says so');
psql_ok($node, q{COMMIT PREPARED 'pgpart_test_2pc'});
pgpart_ok($node, 'backfill to the end', 'migrate', 'backfill', 'bp', '--batch-size', '1000');
like(pgpart_ok($node, 'verify', 'migrate', 'verify', 'bp'), qr/result\s+equal/,
	'every kind of write reached the copy');

# disabled mirror triggers are detected; writes made meanwhile are found and repaired
psql_ok($node, q{ALTER TABLE bp DISABLE TRIGGER ALL; UPDATE bp SET note = 'unseen' WHERE id = 30;
	DELETE FROM bp WHERE id = 31});
pgpart_fails($node, 'verify with disabled triggers', 3, qr/triggers that mirror writes .* not active.*disabled/,
	'migrate', 'verify', 'bp');
pgpart_fails($node, 'switch with disabled triggers', 3, qr/not active/, 'migrate', 'switch', 'bp');
psql_ok($node, q{ALTER TABLE bp ENABLE TRIGGER ALL});
pgpart_fails($node, 'ENABLE (origin only) is not enough', 3, qr/enabled ORIGIN only/,
	'migrate', 'verify', 'bp');
psql_ok($node, q{ALTER TABLE bp ENABLE ALWAYS TRIGGER pgpart_migration_1_forward;
	ALTER TABLE bp ENABLE ALWAYS TRIGGER pgpart_migration_1_forward_truncate});
pgpart_fails($node, 'the missed writes are found', 3, qr/1 key range.* differ/, 'migrate', 'verify', 'bp');
pgpart_fails($node, 'switch refuses after a failed verify', 2, qr/verify/, 'migrate', 'switch', 'bp');
like(pgpart_ok($node, 'repair', 'migrate', 'verify', 'bp', '--repair'), qr/repaired/, 'repaired');
like(pgpart_ok($node, 'verify after repair', 'migrate', 'verify', 'bp'), qr/result\s+equal/, 'equal');

# a prepared transaction holding a lock blocks switch; the message names it
psql_ok($node, q{BEGIN; INSERT INTO bp VALUES (700001, '2025-09-09', 7, 'held'); PREPARE TRANSACTION 'held_by_2pc'});
$err = pgpart_fails($node, 'switch blocked by a prepared transaction', 1,
	qr/prepared transaction 'held_by_2pc'/, 'migrate', 'switch', 'bp', '--lock-timeout', '200ms',
	'--retries', '2');
psql_ok($node, q{COMMIT PREPARED 'held_by_2pc'});
pgpart_ok($node, 'switch', 'migrate', 'switch', 'bp');

all_writes('after switch', 5000);
# --extend-keys made the new table's key (id, occurred_at); until finish the
# old table still enforces (id) alone, through the reverse trigger: the
# application gets the same unique_violation it got before the migration
my ($ok, $dup_err) = (0, '');
$node->psql('postgres', q{INSERT INTO bp VALUES (6, '2025-12-31', 0, 'duplicate id')},
	stderr => \$dup_err);
like($dup_err, qr/duplicate key value violates unique constraint "bp_pkey_pgpart_old".*\n.*Key \(id\)=\(6\)/,
	'a duplicate id is still refused until finish');
psql_ok($node, q{COMMIT PREPARED 'pgpart_test_2pc'});
like(pgpart_ok($node, 'verify after switch', 'migrate', 'verify', 'bp'), qr/result\s+equal/,
	'every kind of write reached the old table too');
pgpart_fails($node, 'no repair after switch', 2, qr/--repair is only possible before switch/,
	'migrate', 'verify', 'bp', '--repair');
my $new = table_fingerprint($node, 'bp');
pgpart_ok($node, 'rollback', 'migrate', 'rollback', 'bp');
is(table_fingerprint($node, 'bp'), $new, 'after rollback the old table has every row');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE oid = 'bp'::regclass}), 'r', 'plain again');
pgpart_ok($node, 'switch again', 'migrate', 'switch', 'bp');
pgpart_ok($node, 'verify', 'migrate', 'verify', 'bp');
pgpart_ok($node, 'finish', 'migrate', 'finish', 'bp');
is(table_fingerprint($node, 'bp'), $new, 'finished table has every row');
is(psql_ok($node, q{SELECT count(*) FROM bp_default}),
	psql_ok($node, q{SELECT count(*) FROM bp WHERE occurred_at IS NULL OR occurred_at < '2025-01-01' OR occurred_at >= '2200-01-01'}),
	'NULL and out-of-range dates in the default partition');

# TRUNCATE before and after switch
pgpart_ok($node, 'start tr', 'migrate', 'start', 'tr', '--column', 'at', '--start', '2025-01-01');
psql_ok($node, q{TRUNCATE tr; INSERT INTO tr SELECT g, date '2025-02-01' + g FROM generate_series(1, 100) g});
pgpart_ok($node, 'backfill tr', 'migrate', 'backfill', 'tr');
like(pgpart_ok($node, 'verify tr', 'migrate', 'verify', 'tr'), qr/result\s+equal/, 'TRUNCATE reached the copy');
pgpart_ok($node, 'switch tr', 'migrate', 'switch', 'tr');
psql_ok($node, q{TRUNCATE tr; INSERT INTO tr VALUES (1, '2025-03-03')});
like(pgpart_ok($node, 'verify tr after switch', 'migrate', 'verify', 'tr'), qr/result\s+equal/,
	'TRUNCATE after switch reached the old table');
is(psql_ok($node, q{SELECT count(*) FROM tr_pgpart_old}), '1', 'old table truncated too');
pgpart_ok($node, 'rollback tr', 'migrate', 'rollback', 'tr');
pgpart_ok($node, 'rollback tr again', 'migrate', 'rollback', 'tr');

# DDL on the source during the migration stops backfill and switch
pgpart_ok($node, 'start dd', 'migrate', 'start', 'dd', '--column', 'at', '--start', '2025-01-01');
for my $ddl (
	[ 'add column', 'ALTER TABLE dd ADD COLUMN extra int', 'ALTER TABLE dd DROP COLUMN extra' ],
	[ 'rename column', 'ALTER TABLE dd RENAME COLUMN v TO w', 'ALTER TABLE dd RENAME COLUMN w TO v' ],
	[ 'change type', 'ALTER TABLE dd ALTER COLUMN v TYPE bigint', 'ALTER TABLE dd ALTER COLUMN v TYPE int' ],
	[ 'new index', 'CREATE INDEX dd_v ON dd (v)', 'DROP INDEX dd_v' ],
	[ 'new trigger', q{CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
		CREATE TRIGGER dd_noop BEFORE INSERT ON dd FOR EACH ROW EXECUTE FUNCTION noop()},
		'DROP TRIGGER dd_noop ON dd; DROP FUNCTION noop()' ])
{
	my ($what, $do, $undo) = @$ddl;
	psql_ok($node, $do);
	pgpart_fails($node, "backfill after $what", 1, qr/definition of public\.dd changed/,
		'migrate', 'backfill', 'dd');
	pgpart_fails($node, "verify after $what", 1, qr/definition of public\.dd changed/,
		'migrate', 'verify', 'dd');
	psql_ok($node, $undo);
}
pgpart_ok($node, 'backfill dd once the definition is back', 'migrate', 'backfill', 'dd');
pgpart_ok($node, 'verify dd', 'migrate', 'verify', 'dd');
psql_ok($node, 'ALTER TABLE dd ADD COLUMN late text');
pgpart_fails($node, 'switch after DDL', 1, qr/definition of public\.dd changed/, 'migrate', 'switch', 'dd');
pgpart_ok($node, 'rollback dd', 'migrate', 'rollback', 'dd');

done_testing();
