# Archive and restore to file:// storage: a partition with TOASTed values and
# NULLs comes back identical row for row; bad input changes nothing; a
# corrupted, truncated or missing object or manifest is refused; a storage
# failure leaves the partition attached and queryable, and a re-run finishes;
# kill -9 at each step of archive loses nothing and a re-run completes.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Copy qw(copy);
use File::Path qw(make_path);
use IPC::Run;

my $node = new_cluster('archive');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2024-10-01',
	'--premake', '1');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=20000', '-v', 'orgs=40',
		'-v', 'future_rows=0', '-d', $node->connstr('postgres'), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load 20000 rows');
# TOASTed values (out of line, several chunks) and NULLs, with tabs, newlines and backslashes
psql_ok($node, q{UPDATE revenues SET description = (SELECT string_agg(md5(g::text || id::text), E'\t\\\n') FROM generate_series(1, 300) g) WHERE id % 97 = 0});
psql_ok($node, q{UPDATE revenues SET description = NULL WHERE id % 89 = 0});
psql_ok($node, q{CREATE INDEX revenues_org_idx ON revenues (org_id, occurred_at)});
ok(psql_ok($node, q{SELECT count(*) FROM revenues_2025_q1 WHERE pg_column_size(description) > 4000}) > 5,
	'some values are TOASTed');

my $base = PostgreSQL::Test::Utils::tempdir();
my $arch = "$base/arch";
make_path($arch);
my $url = "file://$arch";
my $q1_before = table_fingerprint($node, 'revenues_2025_q1');
my $all_before = table_fingerprint($node, 'revenues');
my $is_test_build = (PgpartTest::run_raw('--version'))[1] =~ /test build/;

sub parts { psql_ok($node, q{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid WHERE h.inhparent = 'revenues'::regclass}) }
my $parts_before = parts();

# ---- bad input: clear errors, nothing changed
pgpart_fails($node, 'bad scheme', 2, qr/invalid archive location "http:\/\/x\/y"/, 'archive', 'revenues',
	'revenues_2025_q1', '--to', 'http://x/y');
pgpart_fails($node, 'relative file url', 2, qr/invalid archive location/, 'archive', 'revenues',
	'revenues_2025_q1', '--to', 'file://relative/dir');
pgpart_fails($node, 'missing directory', 2, qr/archive directory ".*nope" does not exist/, 'archive',
	'revenues', 'revenues_2025_q1', '--to', "file://$base/nope");
pgpart_fails($node, 'open partition', 2, qr/is not closed/, 'archive', 'revenues', 'revenues_2026_q4',
	'--to', $url);
pgpart_fails($node, 'default partition', 2, qr/has no closed range/, 'archive', 'revenues',
	'revenues_default', '--to', $url);
pgpart_fails($node, 'not a partition', 2, qr/is not a partition of public.revenues/, 'archive', 'revenues',
	'expenses', '--to', $url);
pgpart_fails($node, 'unmanaged table', 2, qr/not managed by pgpart/, 'archive', 'expenses',
	'--older-than', '1 year', '--to', $url);
pgpart_fails($node, 'no partition nor age', 2, qr/either a PARTITION or --older-than/, 'archive',
	'revenues', '--to', $url);
pgpart_fails($node, 'bad age', 2, qr/invalid --older-than "soon"/, 'archive', 'revenues',
	'--older-than', 'soon', '--to', $url);
pgpart_fails($node, 'restore bad url', 2, qr/invalid --from/, 'restore', 'revenues', '--from', 'nothing');
is(parts(), $parts_before, 'bad input: every partition still attached');
is(psql_ok($node, 'SELECT count(*) FROM pgpart.archive_job'), '0', 'bad input: no job recorded');
is(`ls -A $arch`, '', 'bad input: nothing written');

# ---- dry run
my $dry = pgpart_ok($node, 'archive --dry-run', '--dry-run', 'archive', 'revenues', '--older-than',
	'1 year', '--to', $url);
like($dry, qr/would archive public.revenues_2024_q4 \[2024-10-01 00:00:00\+00, 2025-01-01 00:00:00\+00\)/,
	'dry run lists the oldest partition');
unlike($dry, qr/revenues_2025_q4/, 'dry run: a partition that ended less than a year ago is not due');
is(parts(), $parts_before, 'dry run changed nothing');

# ---- archive one partition
my $out = pgpart_ok($node, 'archive q1', 'archive', 'revenues', 'revenues_2025_q1', '--to', $url);
like($out, qr/archived public.revenues_2025_q1 \[2025-01-01 00:00:00\+00, 2025-04-01 00:00:00\+00\): \d+ rows/,
	'archive reports');
# a primary key takes no foreign partition: the archive is read in place under the companion
like($out, qr/note: queryable in place: read-only file_fdw partition of public.revenues_pgpart_foreign .*read its rows through the view public.revenues_pgpart_all/,
	'says where it stays queryable');
is(psql_ok($node, q{SELECT c.relkind::text || ' ' || h.inhparent::regclass::text FROM pg_class c JOIN pg_inherits h ON h.inhrelid = c.oid WHERE c.oid = 'revenues_2025_q1'::regclass}),
	'f revenues_pgpart_foreign', 'the table is gone: a foreign partition of the companion has its name');
is(table_fingerprint($node, q{(SELECT * FROM revenues_pgpart_all WHERE occurred_at >= '2025-01-01' AND occurred_at < '2025-04-01')}),
	$q1_before, 'its rows, read through the view, are those archived');
is(psql_ok($node, q{SELECT phase FROM pgpart.archive_job}), 'archived', 'job archived');
my ($manifest) = $out =~ m{(file://\S+\.manifest\.json)};
ok($manifest, 'manifest url printed');
(my $mpath = $manifest) =~ s{^file://}{};
(my $opath = $mpath) =~ s{\.manifest\.json$}{.copy.zst};
ok(-f $mpath && -f $opath, 'object and manifest written');
my $list = pgpart_ok($node, 'archive list', 'archive', 'list', $url);
my ($q1rows) = $q1_before =~ /^(\d+)/;
like($list, qr/public.revenues_2025_q1 \[2025-01-01 00:00:00\+00, 2025-04-01 00:00:00\+00\) of public.revenues: $q1rows rows/,
	'archive list shows bounds and row count');
like(pgpart_ok($node, 'status', 'status', 'revenues'), qr/archived revenues_2025_q1 \[.*\): archived, $q1rows rows/,
	'status lists the archived partition');
my $json_list = pgpart_ok($node, 'archive list --json', '--json', 'archive', 'list', $url);
like($json_list, qr/"rows": $q1rows/, 'json list');
# the stream is zstd: the command-line tool reads it and sees the rows
my ($rc_z, $zout) = (0, '');
IPC::Run::run([ 'zstd', '-dc', $opath ], '>', \$zout);
is(scalar(() = $zout =~ /\n/g), $q1rows, 'zstd -dc of the object gives one line per row');

# ---- corrupted, truncated, missing: refused, nothing left behind
sub copy_archive
{
	my ($name, $edit) = @_;
	my $d = "$base/$name/public.revenues";
	make_path($d);
	my ($mf) = $mpath =~ m{([^/]+)$};
	my ($of) = $opath =~ m{([^/]+)$};
	copy($mpath, "$d/$mf") or die;
	copy($opath, "$d/$of") or die;
	$edit->("$d/$mf", "$d/$of");
	return "file://$d/$mf";
}
my $corrupt = copy_archive('corrupt', sub {
	my ($m, $o) = @_;
	open(my $fh, '+<', $o) or die; binmode $fh;
	seek($fh, int((-s $o) / 2), 0); read($fh, my $b, 1);
	seek($fh, int((-s $o) / 2), 0); print $fh chr(ord($b) ^ 0x55); close $fh;
});
my $trunc = copy_archive('trunc', sub { truncate($_[1], int((-s $_[1]) * 2 / 3)) or die });
my $missing = copy_archive('missing', sub { unlink($_[1]) or die });
my $badman = copy_archive('badmanifest', sub { truncate($_[0], 200) or die });
pgpart_fails($node, 'corrupt object', 3, qr/is corrupt/, 'restore', 'revenues', '--from', $corrupt);
pgpart_fails($node, 'truncated object', 3, qr/truncated/, 'restore', 'revenues', '--from', $trunc);
pgpart_fails($node, 'missing object', 1, qr/does not exist/, 'restore', 'revenues', '--from', $missing);
pgpart_fails($node, 'damaged manifest', 3, qr/manifest .* is not valid JSON/, 'restore', 'revenues',
	'--from', $badman);
pgpart_fails($node, 'missing manifest', 1, qr/does not exist/, 'restore', 'revenues', '--from',
	"$url/public.revenues/none.manifest.json");
is(psql_ok($node, q{SELECT string_agg(relkind::text, '') FROM pg_class WHERE relname = 'revenues_2025_q1'}), 'f',
	'refused restores left no table behind (the archive read in place stays)');
{
	my ($rc, $o) = pgpart($node, 'archive', 'list', "file://$base/badmanifest");
	is($rc, 3, 'archive list: an unreadable manifest exits 3');
	like($o, qr/UNREADABLE: manifest .* is not valid JSON/, 'archive list says which and why');
}

# ---- restore: identical
like(pgpart_ok($node, 'restore', 'restore', 'revenues', '--from', $manifest),
	qr/restored public.revenues_2025_q1 .*: $q1rows rows/, 'restore reports');
is(table_fingerprint($node, 'revenues_2025_q1'), $q1_before, 'restored partition identical row for row');
is(table_fingerprint($node, 'revenues'), $all_before, 'whole table identical');
is(parts(), $parts_before, 'attached again');
is(psql_ok($node, q{SELECT count(*) FROM pg_indexes WHERE tablename = 'revenues_2025_q1'}),
	psql_ok($node, q{SELECT count(*) FROM pg_indexes WHERE tablename = 'revenues_2025_q2'}),
	'indexes restored, none duplicated');
is(psql_ok($node, q{SELECT string_agg(replace(indexname, '2025_q1', 'Q'), ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'revenues_2025_q1'}),
	psql_ok($node, q{SELECT string_agg(replace(indexname, '2025_q2', 'Q'), ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'revenues_2025_q2'}),
	'the restored indexes are named like those of any partition');
is(psql_ok($node, q{SELECT count(*) FROM pg_constraint WHERE conrelid = 'revenues_2025_q1'::regclass AND conname LIKE 'pgpart%'}),
	'0', 'no helper constraint left');
pgpart_fails($node, 'restore twice', 2, qr/already exists/, 'restore', 'revenues', '--from', $manifest);

# ---- storage failure: the partition is attached back, a re-run finishes
my $ro = "$base/readonly";
make_path($ro);
chmod 0555, $ro;
SKIP: {
	skip 'running as root: permissions do not bind', 4 if $> == 0;
	pgpart_fails($node, 'unwritable archive', 1, qr/could not create (file|directory)/, 'archive', 'revenues',
		'revenues_2025_q2', '--to', "file://$ro");
	is(parts(), $parts_before, 'after the failure the partition is attached again');
	is(table_fingerprint($node, 'revenues'), $all_before, 'data queryable and intact');
}
SKIP: {
	skip 'fault injection needs the test build', 5 unless $is_test_build;
	local $ENV{PGPART_TEST_FILE_FAIL_AFTER} = 5000;
	pgpart_fails($node, 'disk full mid-upload', 1, qr/No space left on device/, 'archive', 'revenues',
		'revenues_2025_q2', '--to', $url);
	is(parts(), $parts_before, 'disk full: partition attached again');
	is(table_fingerprint($node, 'revenues'), $all_before, 'disk full: data intact');
	is(`find $arch -name '*.tmp-*' | wc -l` + 0, 0, 'no temporary file left');
}
like(pgpart_ok($node, 're-run after the failure', 'archive', 'revenues', 'revenues_2025_q2', '--to', $url),
	qr/archived public.revenues_2025_q2/, 're-run archives');

# ---- kill -9 at each step: nothing lost, a re-run completes
SKIP: {
	skip 'kill points need the test build', 1 unless $is_test_build;
	my @points = qw(after_job after_detach mid_upload after_object after_upload after_verify);
	my $q3 = table_fingerprint($node, 'revenues_2025_q3');
	for my $point (@points)
	{
		{
			local $ENV{PGPART_TEST_ARCHIVE_KILL} = $point;
			my ($out2, $err2) = ('', '');
			IPC::Run::run([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'archive', 'revenues',
					'revenues_2025_q3', '--to', $url ], '<', \undef, '>', \$out2, '2>', \$err2);
			is($? & 127, 9, "$point: killed");
		}
		# the rows are in the parent or in the detached table: nowhere lost
		is(psql_ok($node, q{SELECT count(*) FROM ONLY revenues_2025_q3}), ($q3 =~ /^(\d+)/)[0],
			"$point: rows intact in the (maybe detached) table");
		my $o = pgpart_ok($node, "$point: re-run", 'archive', 'revenues', 'revenues_2025_q3', '--to', $url);
		like($o, $point eq 'after_job' ? qr/archived .*\(resumed\)/ : qr/archived public.revenues_2025_q3/,
			"$point: re-run completes");
		my ($m) = $o =~ m{(file://\S+\.manifest\.json)};
		pgpart_ok($node, "$point: restore", 'restore', 'revenues', '--from', $m);
		is(table_fingerprint($node, 'revenues_2025_q3'), $q3, "$point: identical after restore");
	}
	is(psql_ok($node, q{SELECT count(*) FROM pgpart.archive_job WHERE phase IN ('started','detached','uploaded','verified')}),
		'0', 'no unfinished job left');

	# restore killed between the load and the attach: the re-run only attaches
	my $o = pgpart_ok($node, 'archive q3 once more', 'archive', 'revenues', 'revenues_2025_q3', '--to', $url);
	my ($m) = $o =~ m{(file://\S+\.manifest\.json)};
	{
		local $ENV{PGPART_TEST_ARCHIVE_KILL} = 'restore_loaded';
		IPC::Run::run([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'restore', 'revenues', '--from', $m ],
			'<', \undef, '>', \my $o2, '2>', \my $e2);
		is($? & 127, 9, 'restore killed after the load');
	}
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE 'pgpart_restore_%' AND relkind = 'r' AND NOT relispartition}), '1',
		'the loaded table waits, unattached');
	like(pgpart_ok($node, 'restore re-run', '-v', 'restore', 'revenues', '--from', $m), qr/restored/,
		'the re-run attaches it');
	is(table_fingerprint($node, 'revenues_2025_q3'), $q3, 'identical after the resumed restore');
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE 'pgpart_restore_%'}), '0',
		'nothing left over');
}

# ---- file_fdw: without unique indexes, an archived range stays queryable in place
psql_ok($node, q{CREATE TABLE events (id bigint, at timestamptz NOT NULL, note text)});
pgpart_ok($node, 'create events', 'create', 'events', '--column', 'at', '--start', '2025-01-01',
	'--interval', 'month', '--premake', '0');
psql_ok($node, q{INSERT INTO events SELECT g, '2025-01-01'::timestamptz + g * interval '1 hour', CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN repeat(md5(g::text), 200) ELSE E'a\tb\\c' || g END FROM generate_series(1, 1200) g});
my $ev = table_fingerprint($node, 'events');
my $ev1 = table_fingerprint($node, 'events_2025_01');
my $eo = pgpart_ok($node, 'archive events', 'archive', 'events', 'events_2025_01', '--to', $url);
like($eo, qr/note: queryable in place: read-only file_fdw partition/, 'says it stays queryable');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE relname = 'events_2025_01'}), 'f', 'a foreign partition');
is(table_fingerprint($node, 'events_2025_01'), $ev1, 'the archived range answers a query, through zstd -dc');
is(table_fingerprint($node, 'events'), $ev, 'and the whole table too');
like(pgpart_ok($node, 'status events', 'status', 'events'), qr/events_2025_01 .* archived /, 'status: tier archived');
pgpart_fails($node, 'archive it again', 2, qr/already archived/, 'archive', 'events', 'events_2025_01', '--to', $url);
my ($em) = $eo =~ m{(file://\S+\.manifest\.json)};
pgpart_ok($node, 'restore events', 'restore', 'events', '--from', $em);
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE relname = 'events_2025_01'}), 'r', 'a table again');
is(table_fingerprint($node, 'events'), $ev, 'events identical after restore');
# without a default partition, DETACH ... CONCURRENTLY (outside a transaction)
psql_ok($node, q{DROP TABLE events_default});
my $eo2 = pgpart_ok($node, 'archive without fdw', '-v', '-v', 'archive', 'events', 'events_2025_02', '--to', $url,
	'--no-foreign-table');
like($eo2, qr/archived public.events_2025_02/, '--no-foreign-table');
is(psql_ok($node, q{SELECT to_regclass('events_2025_02') IS NULL}), 't', 'no foreign table then');
ok($node->log_contains('DETACH PARTITION "public"."events_2025_02" CONCURRENTLY'),
	'no default partition: DETACH CONCURRENTLY');
my ($em2) = $eo2 =~ m{(file://\S+\.manifest\.json)};
pgpart_ok($node, 'restore events q2', 'restore', 'events', '--from', $em2);
is(table_fingerprint($node, 'events'), $ev, 'events identical again');

# ---- quoted names and another schema
psql_ok($node, q{CREATE SCHEMA "Arch ""S"""; CREATE TABLE "Arch ""S"""."Rev Q" (id bigint, "At" timestamptz NOT NULL, "Note" text)});
pgpart_ok($node, 'create quoted', 'create', '"Arch ""S"""."Rev Q"', '--column', 'At', '--start', '2025-01-01',
	'--interval', 'month', '--premake', '0');
psql_ok($node, q{INSERT INTO "Arch ""S"""."Rev Q" SELECT g, '2025-01-01'::timestamptz + g * interval '1 hour', CASE WHEN g % 3 = 0 THEN NULL ELSE 'x"y' || g END FROM generate_series(1, 500) g});
my $qb = table_fingerprint($node, q{"Arch ""S"""."Rev Q"});
my $qo = pgpart_ok($node, 'archive quoted', 'archive', '"Arch ""S"""."Rev Q"', '"Arch ""S"""."Rev Q_2025_01"', '--to', $url);
my ($qm) = $qo =~ m{(file://\S+\.manifest\.json)};
like($qm, qr{/Arch~20~22S~22\.Rev~20Q/}, 'object key escapes quotes and spaces');
pgpart_ok($node, 'restore quoted', 'restore', '"Arch ""S"""."Rev Q"', '--from', $qm);
is(table_fingerprint($node, q{"Arch ""S"""."Rev Q"}), $qb, 'quoted table identical after restore');

my ($q2m) = pgpart_ok($node, 'list for q2', 'archive', 'list', $url) =~ m{(file://\S+revenues_2025_q2-\S+\.manifest\.json)};
pgpart_ok($node, 'restore q2', 'restore', 'revenues', '--from', $q2m);
is(table_fingerprint($node, 'revenues'), $all_before, 'in the end every row of revenues is still there');
done_testing();
