# After switch, the partitioned table is the same table to every catalog
# view that matters: columns in order (a dropped column left no trace) with
# types, defaults, NOT NULL, identity, generated expressions, collations,
# storage, statistics targets and comments; constraints including outbound
# foreign keys; indexes; owner; grants; comment; replica identity; and the
# storage parameters, now on every partition.  What cannot be carried over
# safely is refused before anything changes.
use strict;
use warnings;
use PgpartTest;
use Test::More;

my $node = new_cluster('catalog');
pgpart_ok($node, 'init', 'init');
psql_ok($node, q{
	CREATE ROLE app_owner; CREATE ROLE app_reader; CREATE ROLE app_writer;
	CREATE TABLE org (id int PRIMARY KEY);
	INSERT INTO org SELECT generate_series(1, 10);
	CREATE TABLE cat (
		id bigint GENERATED ALWAYS AS IDENTITY,
		seq serial,
		gone int,
		at timestamptz NOT NULL DEFAULT now(),
		org_id int NOT NULL REFERENCES org (id) ON DELETE CASCADE,
		amount numeric(12, 2) CONSTRAINT amount_positive CHECK (amount >= 0),
		doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
		note text COLLATE "C",
		PRIMARY KEY (id, at));
	ALTER TABLE cat DROP COLUMN gone;
	ALTER TABLE cat ADD COLUMN late int DEFAULT 7;
	ALTER TABLE cat ALTER COLUMN note SET STORAGE EXTERNAL;
	ALTER TABLE cat ALTER COLUMN amount SET STATISTICS 500;
	ALTER TABLE cat REPLICA IDENTITY FULL;
	ALTER TABLE cat SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.05);
	CREATE INDEX cat_note ON cat (note) WHERE note IS NOT NULL;
	CREATE INDEX cat_org_at ON cat (org_id, at DESC);
	COMMENT ON TABLE cat IS 'money, one row per transaction';
	COMMENT ON COLUMN cat.amount IS 'in cents';
	ALTER TABLE cat OWNER TO app_owner;
	GRANT SELECT ON cat TO app_reader;
	GRANT SELECT, INSERT, UPDATE ON cat TO app_writer WITH GRANT OPTION;
	INSERT INTO cat (at, org_id, amount, note)
	SELECT timestamptz '2025-01-01' + g * interval '5 hours', 1 + g % 10, g, 'n' || g
	FROM generate_series(1, 2000) g;
});

# one sorted text, by names only, of everything the application and the DBA see
my $describe = q{
	SELECT string_agg(x, E'\n' ORDER BY x) FROM (
	SELECT 'column ' || row_number() OVER (ORDER BY a.attnum) || ' ' || a.attname || ' '
		|| format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
		|| ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' identity=' || a.attidentity::text
		|| ' generated=' || a.attgenerated::text || ' collation=' || coalesce(co.collname, '')
		|| ' storage=' || a.attstorage::text || ' stats=' || a.attstattarget
		|| ' comment=' || coalesce(col_description(a.attrelid, a.attnum), '') AS x
	FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
	WHERE a.attrelid = 'cat'::regclass AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT 'constraint ' || conname || ' ' || contype::text || ' ' || pg_get_constraintdef(oid)
	FROM pg_constraint WHERE conrelid = 'cat'::regclass
	UNION ALL
	SELECT 'index ' || replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ')
	FROM pg_index WHERE indrelid = 'cat'::regclass
	UNION ALL
	SELECT 'owner ' || pg_get_userbyid(relowner) || ' replica identity ' || relreplident::text
		|| ' comment ' || coalesce(obj_description(oid, 'pg_class'), '') FROM pg_class WHERE oid = 'cat'::regclass
	UNION ALL
	SELECT 'grant ' || coalesce(pg_get_userbyid(NULLIF(g.grantee, 0)), 'PUBLIC') || ' ' || g.privilege_type
		|| ' ' || g.is_grantable
	FROM pg_class c, aclexplode(c.relacl) g WHERE c.oid = 'cat'::regclass
	UNION ALL
	SELECT 'serial sequence ' || coalesce(pg_get_serial_sequence('cat', 'seq'), 'none')
		|| ' identity sequence ' || (pg_get_serial_sequence('cat', 'id') IS NOT NULL)::text
	) t};
my $before = psql_ok($node, $describe);
note($before);
my $max_id = psql_ok($node, 'SELECT max(id) || \' \' || max(seq) FROM cat');

pgpart_ok($node, 'start', 'migrate', 'start', 'cat', '--column', 'at', '--start', '2025-01-01');
pgpart_ok($node, 'backfill', 'migrate', 'backfill', 'cat');
pgpart_ok($node, 'verify', 'migrate', 'verify', 'cat');
pgpart_ok($node, 'switch', 'migrate', 'switch', 'cat');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE oid = 'cat'::regclass}), 'p', 'cat is partitioned now');
is(psql_ok($node, $describe), $before, 'the catalog describes the same table after switch');
is(psql_ok($node, q{SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'cat'::regclass AND (c.reloptions IS DISTINCT FROM '{fillfactor=80,autovacuum_vacuum_scale_factor=0.05}'
	OR c.relreplident <> 'f')}), '0', 'every partition has the storage parameters and replica identity');

# sequences continue; the identity and serial values of new rows are above the old ones
psql_ok($node, q{INSERT INTO cat (at, org_id, amount) VALUES ('2025-06-01', 1, 5)});
my ($id, $seq) = split / /, psql_ok($node, q{SELECT id || ' ' || seq FROM cat WHERE at = '2025-06-01' AND amount = 5});
my ($old_id, $old_seq) = split / /, $max_id;
cmp_ok($id, '>', $old_id, 'identity continues after the old values');
cmp_ok($seq, '>', $old_seq, 'the serial sequence continues and belongs to the new table');
# the outbound foreign key still holds
my ($ok, $fk_err) = (0, '');
$node->psql('postgres', q{INSERT INTO cat (at, org_id, amount) VALUES ('2025-06-02', 99, 1)}, stderr => \$fk_err);
like($fk_err, qr/violates foreign key constraint/, 'the foreign key to org is enforced');

pgpart_ok($node, 'verify after switch', 'migrate', 'verify', 'cat');
pgpart_ok($node, 'finish', 'migrate', 'finish', 'cat');
is(psql_ok($node, $describe), $before, 'and after finish');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname = 'cat_id_seq' OR relname = 'cat_seq_seq'}), '2',
	'the sequences survived the drop of the old table');

# a partition made later takes the storage parameters of its newest sibling
pgpart_ok($node, 'maintain', 'maintain');
psql_ok($node, q{INSERT INTO cat (at, org_id, amount) VALUES (now() + interval '3 years', 1, 1)});
pgpart_ok($node, 'maintain moves it', 'maintain');
is(psql_ok($node, q{SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'cat'::regclass AND c.reloptions IS NULL}), '0',
	'partitions created by maintain carry the storage parameters too');

# refused up front, with nothing changed
psql_ok($node, q{
	CREATE TABLE trg (id int, at date NOT NULL, PRIMARY KEY (id, at));
	CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
	CREATE TRIGGER trg_audit BEFORE INSERT ON trg FOR EACH ROW EXECUTE FUNCTION audit();
	CREATE TABLE rls (id int, at date NOT NULL, PRIMARY KEY (id, at));
	ALTER TABLE rls ENABLE ROW LEVEL SECURITY;
	CREATE POLICY own ON rls USING (id > 0);
	CREATE TABLE pub (id int, at date NOT NULL, PRIMARY KEY (id, at));
	CREATE PUBLICATION p FOR TABLE pub;
});
pgpart_fails($node, 'user trigger', 2, qr/it has trigger trg_audit/, 'migrate', 'start', 'trg', '--column', 'at');
pgpart_fails($node, 'row-level security', 2, qr/row-level security/, 'migrate', 'start', 'rls', '--column', 'at');
pgpart_fails($node, 'publication', 2, qr/it is in publication p/, 'migrate', 'start', 'pub', '--column', 'at');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE '%pgpart_new%'}), '0',
	'no shadow table was left behind');

done_testing();
