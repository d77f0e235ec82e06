# Archives against hostile storage, run as a non-superuser table owner:
# objects and manifests are 0600 and folders 0700; a tampered manifest
# (SQL text in its index and constraint definitions, another destination, a
# missing index name, negative or impossible sizes, a duplicate key, columns
# reordered) or an object swapped for another archive's is refused with a
# clear error and nothing written, and the untampered archive still restores
# identically; a manifest from another database needs --trust-manifest, and
# even then none of its SQL text runs and decompression stops at its
# raw_bytes; a planted symbolic link (a folder, the object's name, the
# temporary file's name) or FIFO in a shared folder is never followed; a
# plain-http S3 endpoint is refused unless allowed explicitly, also through
# a stored policy.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Copy qw(copy);
use File::Path qw(make_path);
use JSON::PP;
use POSIX qw(mkfifo);

umask 022;
my $node = new_cluster('hostile');
my $owner = create_owner_role($node);
# the table owner, no superuser, runs every pgpart command of this file
$PgpartTest::ROLE = $owner;
seed_schema($node);
pgpart_ok($node, 'init as the owner', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2024-10-01',
	'--premake', '1');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=6000', '-v', 'orgs=20',
		'-v', 'future_rows=0', '-d', connstr_as($node, $owner), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load rows as the owner');
psql_as($node, $owner, q{CREATE INDEX revenues_org_idx ON revenues (org_id, occurred_at)});
my $is_test_build = (PgpartTest::run_raw('--version'))[1] =~ /test build/;
my $base = PostgreSQL::Test::Utils::tempdir();
my $arch = "$base/arch";
make_path($arch);
my $url = "file://$arch";
my $all = table_fingerprint($node, 'revenues');
my $q1 = table_fingerprint($node, 'revenues_2025_q1');
sub parts { psql_ok($node, q{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid WHERE h.inhparent = 'revenues'::regclass}) }
my $parts = parts();
sub mode_of { return sprintf('%04o', (stat($_[0]))[2] & 07777) }

# ---- private files, and the manifest's checksum recorded with the job
my $out = pgpart_ok($node, 'archive q1 as the owner', 'archive', 'revenues', 'revenues_2025_q1', '--to', $url);
my ($manifest) = $out =~ m{(file://\S+\.manifest\.json)};
(my $mpath = $manifest) =~ s{^file://}{};
(my $opath = $mpath) =~ s{\.manifest\.json$}{.copy.zst};
is(mode_of($opath), '0600', 'object is 0600');
is(mode_of($mpath), '0600', 'manifest is 0600');
is(mode_of("$arch/public.revenues"), '0700', 'the folder pgpart made is 0700');
is(psql_ok($node, q{SELECT manifest_sha256 FROM pgpart.archive_job WHERE partition_name = 'revenues_2025_q1'}),
	sha256_hex(slurp_file($mpath)), 'archive_job holds the SHA-256 of the manifest as written');
my $q2out = pgpart_ok($node, 'archive q2', 'archive', 'revenues', 'revenues_2025_q2', '--to', $url);
my ($q2m) = $q2out =~ m{(file://\S+\.manifest\.json)};
(my $q2o = $q2m) =~ s{^file://}{};
$q2o =~ s{\.manifest\.json$}{.copy.zst};
my $jobs_before = psql_ok($node, q{SELECT string_agg(id || ':' || phase, ',' ORDER BY id) FROM pgpart.archive_job});

# ---- tampered copies: each in a location of its own
my $n = 0;
sub tampered
{
	my ($edit, %o) = @_;
	my $d = "$base/t" . ++$n . "/public.revenues";
	make_path($d);
	my ($mf) = $mpath =~ m{([^/]+)$};
	my ($of) = $opath =~ m{([^/]+)$};
	copy($o{object} // $opath, "$d/$of") or die;
	my $text = slurp_file($mpath);
	if (ref $edit eq 'CODE')
	{
		my $m = decode_json($text);
		$edit->($m);
		$text = JSON::PP->new->canonical->pretty->encode($m);
	}
	elsif (defined $edit)
	{
		$text = $edit;
	}
	open(my $fh, '>', "$d/$mf") or die;
	print $fh $text;
	close $fh;
	return "file://$d/$mf";
}
my $sqlish = sub {
	my ($m) = @_;
	$_->{definition} = 'CREATE ROLE pwned SUPERUSER' for @{ $m->{indexes} };
	$_->{using} = 'USING btree (id); CREATE ROLE pwned SUPERUSER' for @{ $m->{indexes} };
	for my $ix (@{ $m->{indexes} })
	{
		$ix->{constraint_definition} = q{PRIMARY KEY (id, occurred_at); CREATE ROLE pwned SUPERUSER; --}
		  if $ix->{constraint_definition};
	}
	$m->{table_ddl} = 'CREATE ROLE pwned SUPERUSER';
	$m->{copy_columns} = '"id") FROM STDIN; CREATE ROLE pwned SUPERUSER; --';
};
my %cases = (
	'index definition is CREATE ROLE' => [ sub { $_->{definition} = 'CREATE ROLE pwned SUPERUSER' for @{ $_[0]{indexes} } },
		3, qr/manifest .* is not the one pgpart wrote: it differs from the manifest archive job \d+ recorded/ ],
	'constraint text with injected SQL' => [ sub {
			for (@{ $_[0]{indexes} }) { $_->{constraint_definition} .= '; CREATE ROLE pwned SUPERUSER' if $_->{constraint_definition} } },
		3, qr/is not the one pgpart wrote/ ],
	'every SQL-like field' => [ $sqlish, 3, qr/is not the one pgpart wrote/ ],
	'destination changed' => [ sub { $_[0]{partition} = { schema => 'evil', name => 'pwned_table' } },
		3, qr/is not the one pgpart wrote/ ],
	'columns reordered' => [ sub { @{ $_[0]{columns} } = reverse @{ $_[0]{columns} } }, 3, qr/is not the one pgpart wrote/ ],
	'raw_bytes smaller than the data' => [ sub { $_[0]{raw_bytes} = int($_[0]{raw_bytes} / 2) }, 3,
		qr/is not the one pgpart wrote/ ],
	'index entry without "name"' => [ sub { delete $_[0]{indexes}[0]{name} }, 3,
		qr/manifest .* is malformed: "indexes\[0\]\.name" is missing/ ],
	'index name not a string' => [ sub { $_[0]{indexes}[0]{name} = [ 'x' ] }, 3,
		qr/is malformed: "indexes\[0\]\.name" is not a string/ ],
	'negative compressed_bytes' => [ sub { $_[0]{compressed_bytes} = -1 }, 3,
		qr/is malformed: "compressed_bytes" is negative \(-1\)/ ],
	'negative raw_bytes' => [ sub { $_[0]{raw_bytes} = -5 }, 3, qr/is malformed: "raw_bytes" is negative/ ],
	'negative rows' => [ sub { $_[0]{rows} = -1 }, 3, qr/is malformed: "rows" is negative/ ],
	'absurd raw_bytes' => [ sub { $_[0]{raw_bytes} = $_[0]{compressed_bytes} * 40000 }, 3,
		qr/is malformed: "raw_bytes" \(\d+\) is more than a zstd stream of \d+ bytes can hold/ ],
	'sizes as strings' => [ sub { $_[0]{rows} = "$_[0]{rows}" }, 3, qr/is malformed: "rows" is not an integer/ ],
	'object outside its folder' => [ sub { $_[0]{object} = '../../arch/x.copy.zst' }, 3,
		qr/is malformed: "object" is not the name of an object beside the manifest/ ],
	'overlong column name' => [ sub { $_[0]{columns}[0]{name} = 'x' x 64 }, 3,
		qr/is malformed: "columns\[0\]\.name" is longer than 63 bytes/ ],
	'column listed twice' => [ sub { push @{ $_[0]{columns} }, $_[0]{columns}[0] }, 3,
		qr/is malformed: column "id" is listed twice/ ],
	'duplicate key' => [ do { my $t = slurp_file($mpath); $t =~ s/\{/{\n  "rows": 1,/; $t }, 3,
		qr/manifest .* is not valid JSON: duplicate object key/ ],
);
for my $name (sort keys %cases)
{
	my ($edit, $rc, $re) = @{ $cases{$name} };
	my $from = tampered($edit);
	pgpart_fails($node, "tampered: $name", $rc, $re, 'restore', 'revenues', '--from', $from);
	pgpart_fails($node, "tampered, --trust-manifest: $name", $rc, $re, 'restore', 'revenues', '--from', $from,
		'--trust-manifest') if $name =~ /CREATE ROLE|destination|negative|without/;
}
pgpart_fails($node, 'object swapped for another archive\'s', 3, qr/archive object .* is (corrupt|truncated|too long)/,
	'restore', 'revenues', '--from', tampered(undef, object => $q2o));
{
	# edited where it lies, its object checksum changed too: the job knows the manifest's place
	my $orig = slurp_file($mpath);
	my $m = decode_json($orig);
	$m->{sha256} = 'a' x 64;
	$m->{partition}{name} = 'pwned_table';
	$_->{definition} = 'CREATE ROLE pwned SUPERUSER' for @{ $m->{indexes} };
	open(my $fh, '>', $mpath) or die; print $fh JSON::PP->new->canonical->pretty->encode($m); close $fh;
	my $e = pgpart_fails($node, 'edited in place, object checksum too', 3,
		qr/manifest .* is not the one pgpart wrote: it differs from the manifest archive job \d+ recorded/,
		'restore', 'revenues', '--from', $manifest, '--trust-manifest');
	like($e, qr/hint: .*--trust-manifest does not override this/, 'and --trust-manifest does not override it');
	open($fh, '>', $mpath) or die; print $fh $orig; close $fh;
}
is(psql_ok($node, q{SELECT count(*) FROM pg_roles WHERE rolname = 'pwned'}), '0', 'no role pwned');
is(psql_ok($node, q{SELECT count(*) FROM pg_namespace WHERE nspname = 'evil'}), '0', 'no schema evil');
is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname IN ('pwned_table', 'revenues_2025_q1') OR relname LIKE 'pgpart_restore%'}),
	'0', 'no partition, no table left behind');
is(psql_ok($node, q{SELECT string_agg(id || ':' || phase, ',' ORDER BY id) FROM pgpart.archive_job}), $jobs_before,
	'archive jobs untouched');

# ---- the untampered archive restores identically afterwards
{
	my $d = pgpart_ok($node, 'restore --dry-run', '--dry-run', 'restore', 'revenues', '--from', $manifest);
	like($d, qr/CREATE TABLE "public"\."pgpart_restore_\w+" \(LIKE "public"\."revenues" /, 'dry run: LIKE the table');
	like($d, qr/ALTER TABLE "public"\."pgpart_restore_\w+" ADD PRIMARY KEY \(id, occurred_at\)/,
		'dry run: the table\'s own primary key');
	like($d, qr/CREATE INDEX ON "public"\."pgpart_restore_\w+" USING btree \(org_id, occurred_at\)/,
		'dry run: the table\'s own index, from the catalog');
	like($d, qr/ATTACH PARTITION "public"\."revenues_2025_q1" FOR VALUES FROM \('2025-01-01 00:00:00\+00'\) TO \('2025-04-01 00:00:00\+00'\)/,
		'dry run: attached under the derived name');
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE 'pgpart_restore%' OR relname = 'revenues_2025_q1'}), '0',
		'dry run created nothing');
}
my $r = pgpart_ok($node, 'restore the original', '--json', 'restore', 'revenues', '--from', $manifest);
like($r, qr/"authenticated": true/, 'authenticated by its archive job');
is(table_fingerprint($node, 'revenues_2025_q1'), $q1, 'restored identical row for row');
is(psql_ok($node, q{SELECT phase FROM pgpart.archive_job WHERE manifest_sha256 = '} . sha256_hex(slurp_file($mpath)) . q{'}),
	'restored', 'its job marked restored');

# ---- archived by a pgpart that kept no manifest checksum: the job's figures must agree, and consent
psql_ok($node, q{UPDATE pgpart.archive_job SET manifest_sha256 = NULL WHERE partition_name = 'revenues_2025_q2'});
pgpart_fails($node, 'legacy job: refused without consent', 2,
	qr/manifest .* cannot be authenticated: archive job \d+ was recorded by a pgpart that kept no manifest checksum/,
	'restore', 'revenues', '--from', $q2m);
{
	(my $q2path = $q2m) =~ s{^file://}{};
	my $orig = slurp_file($q2path);
	my $m = decode_json($orig);
	$m->{rows} += 1;
	$m->{bounds}{to} = '2025-10-01 00:00:00+00';
	open(my $fh, '>', $q2path) or die; print $fh JSON::PP->new->canonical->pretty->encode($m); close $fh;
	pgpart_fails($node, 'legacy job: figures that differ are refused, even trusted', 3,
		qr/manifest .* differs from archive job \d+: rows, bounds\.to/, 'restore', 'revenues', '--from', $q2m,
		'--trust-manifest');
	open($fh, '>', $q2path) or die; print $fh $orig; close $fh;
}
like(pgpart_ok($node, 'legacy job: restored with --trust-manifest', 'restore', 'revenues', '--from', $q2m, '--trust-manifest'),
	qr/note: manifest partly authenticated \(--trust-manifest\): archive job \d+ agrees/, 'says what was authenticated');
is(table_fingerprint($node, 'revenues'), $all, 'every row of revenues back');

# ---- another database: nothing vouches for the manifest
psql_ok($node, qq{CREATE DATABASE other OWNER "$owner"});
my $other = $node->connstr('other') . " user='$owner'";
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $other, '-f', "$ENV{TOP}/scripts/seed-schema.sql" ],
	'seed schema in the other database');
sub other_pgpart { my ($rc, $o, $e) = PgpartTest::run_raw('-d', $other, @_); note("other: pgpart @_ -> $rc\n$o$e"); return ($rc, $o, $e) }
is((other_pgpart('init'))[0], 0, 'other: init');
is((other_pgpart('create', 'revenues', '--column', 'occurred_at', '--start', '2025-04-01', '--premake', '1'))[0], 0,
	'other: create (from the second quarter)');
sub other_psql { return $node->safe_psql('other', $_[0]) }
{
	my ($rc, $o, $e) = other_pgpart('restore', 'revenues', '--from', $manifest);
	is($rc, 2, 'other database: refused without --trust-manifest (exit 2)');
	like($e, qr/manifest .* is not authenticated: no archive job of this database recorded it/, 'says why');
	like($e, qr/detail: Unauthenticated, taken on the manifest's word: the order of the columns .* SHA-256/,
		'says what it could not authenticate');
	like($e, qr/hint: .*--trust-manifest/, 'names the option');
}
{
	my ($rc, $o, $e) = other_pgpart('restore', 'revenues', '--trust-manifest', '--from',
		tampered(sub { $_[0]{raw_bytes} = int($_[0]{raw_bytes} / 2); $_[0]{rows} = int($_[0]{rows} / 2) }));
	is($rc, 3, 'other database, trusted, raw_bytes smaller than the data: refused');
	like($e, qr/holds more than the \d+ bytes of rows its manifest says; reading stopped/, 'decompression stopped at raw_bytes');
	is(other_psql(q{SELECT count(*) FROM pg_class WHERE relname LIKE 'pgpart_restore%' OR relname = 'revenues_2025_q1'}), '0',
		'nothing left behind');
}
{
	my $from = tampered(sub { $sqlish->($_[0]); $_[0]{partition} = { schema => 'evil', name => 'pwned_table' };
			$_[0]{table} = { schema => 'evil', name => 'elsewhere' } });
	my ($rc, $o, $e) = other_pgpart('restore', 'revenues', '--trust-manifest', '--from', $from);
	is($rc, 0, 'other database, trusted: a manifest full of SQL text restores the data') or diag($e);
	like($o, qr/restored public\.revenues_2025_q1 \[2025-01-01 00:00:00\+00, 2025-04-01 00:00:00\+00\)/,
		'into the table\'s schema, under the name pgpart derives from the bounds');
	like($o, qr/note: manifest not authenticated \(--trust-manifest\)/, 'says it was not authenticated');
	like($o, qr/note: restored as public\.revenues_2025_q1; the archive calls the partition evil\.pwned_table/,
		'reports the manifest\'s other destination');
	is(psql_ok($node, q{SELECT count(*) FROM pg_roles WHERE rolname = 'pwned'}), '0', 'none of its SQL text ran: no role pwned');
	is(other_psql(q{SELECT count(*) FROM pg_namespace WHERE nspname = 'evil'}), '0', 'no schema evil');
	is($node->safe_psql('other', "SELECT count(*) || ' ' || coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0) FROM revenues_2025_q1 t"),
		$q1, 'the rows are the archive\'s');
	is(other_psql(q{SELECT string_agg(replace(indexname, '2025_q1', 'Q'), ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'revenues_2025_q1'}),
		other_psql(q{SELECT string_agg(replace(indexname, '2025_q2', 'Q'), ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'revenues_2025_q2'}),
		'its indexes are the other table\'s own, not the manifest\'s');
	like($o, qr/note: the archive lists 2 indexes, the table has 1/, 'says the manifest listed more');
}

# ---- every key type, and a time zone with DST: the bounds give the partition its name back
{
	my $week = psql_ok($node, q{SELECT (date_trunc('week', now()) - interval '3 weeks')::date});
	for my $t ([ 'by_date', 'date', 'month', '2025-01-01', 'UTC' ], [ 'by_ts', 'timestamp', 'week', $week, 'UTC' ],
		[ 'by_tstz', 'timestamptz', 'month', '2025-03-01', 'Europe/Berlin' ])
	{
		my ($name, $type, $interval, $start, $tz) = @$t;
		psql_as($node, $owner, qq{CREATE TABLE $name (k $type NOT NULL, v int)});
		pgpart_ok($node, "create $name", 'create', $name, '--column', 'k', '--interval', $interval, '--start', $start,
			'--time-zone', $tz, '--premake', '0');
		psql_as($node, $owner, qq{INSERT INTO $name SELECT '$start'::date + g * interval '3 hours', g FROM generate_series(0, 400) g});
		my $first = psql_ok($node, qq{SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
			WHERE h.inhparent = '$name'::regclass AND c.relname <> '${name}_default' ORDER BY c.relname LIMIT 1});
		my $fp = table_fingerprint($node, $first);
		my $o = pgpart_ok($node, "archive $first", 'archive', $name, $first, '--to', $url, '--no-foreign-table');
		my ($m) = $o =~ m{(file://\S+\.manifest\.json)};
		is(psql_ok($node, "SELECT to_regclass('$first') IS NULL"), 't', "$first archived");
		like(pgpart_ok($node, "restore $first", 'restore', $name, '--from', $m), qr/restored public\.$first \[/,
			"$type key, $interval in $tz: restored under its own name");
		is(table_fingerprint($node, $first), $fp, "$first identical");
	}
}

# ---- a hostile shared folder: links and FIFOs planted by another user
my $shared = "$base/shared";
make_path($shared);
chmod 0777, $shared;
my $victim_dir = "$base/victim";
make_path($victim_dir);
symlink($victim_dir, "$shared/public.revenues") or die;
{
	my $e = pgpart_fails($node, 'a symlinked folder is not followed', 1,
		qr/could not open directory ".*shared\/public\.revenues": it is a symbolic link/, 'archive', 'revenues',
		'revenues_2025_q3', '--to', "file://$shared");
	like($e, qr/warning: archive folder ".*shared" is writable by other users \(mode 0777\)/, 'warns about the shared folder');
}
is(`ls -A $victim_dir`, '', 'nothing written through the link');
like(parts(), qr/revenues_2025_q3/, 'the partition is attached again');
unlink("$shared/public.revenues") or die;
SKIP: {
	skip 'planting at the temporary name needs the test build', 10 unless $is_test_build;
	my $victim = "$base/victim/precious";
	open(my $fh, '>', $victim) or die; print $fh "precious\n"; close $fh;
	{
		local $ENV{PGPART_TEST_ARCHIVE_KILL} = 'after_job';
		PgpartTest::pgpart($node, 'archive', 'revenues', 'revenues_2025_q3', '--to', "file://$shared");
	}
	my ($okey, $mkey) = split /\|/, psql_ok($node,
		q{SELECT object_key || '|' || manifest_key FROM pgpart.archive_job WHERE partition_name = 'revenues_2025_q3' AND phase = 'started'});
	ok($okey && $mkey, 'the job names its object and manifest');
	make_path("$shared/public.revenues");
	chmod 0777, "$shared/public.revenues";
	symlink($victim, "$shared/$okey") or die;
	symlink($victim, "$shared/$okey.tmp-planted") or die;
	symlink($victim, "$shared/$mkey") or die;
	open($fh, '>', "$shared/$mkey.tmp-planted") or die; print $fh "someone's file\n"; close $fh;
	{
		local $ENV{PGPART_TEST_FILE_TMP} = 'planted';
		like(pgpart_ok($node, 'archive into the hostile folder', 'archive', 'revenues', 'revenues_2025_q3', '--to',
				"file://$shared"), qr/archived public\.revenues_2025_q3/, 'archive picks fresh temporary names and completes');
	}
	is(slurp_file($victim), "precious\n", 'the victim file behind the links is untouched');
	is(slurp_file("$shared/$mkey.tmp-planted"), "someone's file\n", 'a planted file is not truncated');
	ok(-l "$shared/$okey.tmp-planted", 'the planted link is left as it was');
	ok(!-l "$shared/$okey" && -f "$shared/$okey", 'the object replaced the link at its name');
	is(mode_of("$shared/$okey"), '0600', 'and is 0600');
	is(`find $shared -name '*.tmp-*' ! -name '*planted' | wc -l` + 0, 0, 'no temporary file of pgpart left');
	pgpart_ok($node, 'restore from the hostile folder', 'restore', 'revenues', '--from', "file://$shared/$mkey");
}
{
	# a FIFO or a link where a manifest should be: refused, not opened (a FIFO would hang)
	mkfifo("$shared/fifo.manifest.json", 0600) or die;
	pgpart_fails($node, 'a FIFO is not read', 1, qr/archive object ".*fifo\.manifest\.json" is not a regular file/,
		'restore', 'revenues', '--from', "file://$shared/fifo.manifest.json");
	symlink($mpath, "$shared/link.manifest.json") or die;
	pgpart_fails($node, 'a linked manifest is not read', 1, qr/could not open file ".*link\.manifest\.json": it is a symbolic link/,
		'restore', 'revenues', '--from', "file://$shared/link.manifest.json");
}

# ---- S3: a plain-http endpoint needs explicit consent (no server needed: refused before any request)
{
	local $ENV{AWS_ACCESS_KEY_ID} = 'AKIDEXAMPLE';
	local $ENV{AWS_SECRET_ACCESS_KEY} = 'not-a-real-secret';
	local $ENV{AWS_SESSION_TOKEN} = 'session-token-value';
	my $e = pgpart_fails($node, 'http endpoint refused', 2,
		qr/refusing the plain-http S3 endpoint http:\/\/127\.0\.0\.1:9 \(from --s3-endpoint\)/, 'archive', 'revenues',
		'revenues_2025_q4', '--to', 's3://pgpart-test/x', '--s3-endpoint', 'http://127.0.0.1:9');
	unlike($e, qr/not-a-real-secret|session-token-value/, 'no credential in the message');
	like(parts(), qr/revenues_2025_q4/, 'nothing detached');
	# a stored policy carries the consent only when it was given explicitly
	pgpart_ok($node, 'policy to s3', 'policy', 'revenues', '--archive-after', '1 year', '--archive-to', 's3://pgpart-test/x');
	local $ENV{AWS_ENDPOINT_URL_S3} = 'http://127.0.0.1:9';
	my ($rc, $o, $e2) = PgpartTest::pgpart($node, 'maintain', 'revenues');
	is($rc, 1, 'maintain with the policy: an http endpoint from the environment is refused');
	like($o, qr/FAILED: archive of public\.revenues_2024_q4: refusing the plain-http S3 endpoint http:\/\/127\.0\.0\.1:9 \(from AWS_ENDPOINT_URL_S3\)/,
		'says which and from where');
	like(parts(), qr/revenues_2024_q4/, 'and detaches nothing');
	pgpart_fails($node, 'consent needs an s3 location', 2, qr/--allow-insecure-endpoint is for an s3:\/\/ --archive-to/,
		'policy', 'revenues', '--archive-after', '1 year', '--archive-to', $url, '--allow-insecure-endpoint');
	like(pgpart_ok($node, 'policy with consent', 'policy', 'revenues', '--archive-after', '1 year', '--archive-to',
			's3://pgpart-test/x', '--allow-insecure-endpoint'), qr/a plain-http S3 endpoint allowed/, 'the policy shows the consent');
	like(pgpart_ok($node, 'maintain --dry-run with consent', '--dry-run', 'maintain', 'revenues'),
		qr/would archive public\.revenues_2024_q4 to s3:\/\/pgpart-test\/x/, 'maintain then plans the archive');
	pgpart_ok($node, 'policy without consent again', 'policy', 'revenues', '--archive-after', '1 year', '--archive-to',
		's3://pgpart-test/x');
	is(psql_ok($node, q{SELECT allow_insecure_endpoint FROM pgpart.tier_policy}), 'f', 'replacing the policy drops the consent');
	pgpart_ok($node, 'clear the policy', 'policy', 'revenues', '--clear');
}

# ---- file_fdw in place, as the owner: what it takes
psql_as($node, $owner, q{CREATE TABLE events (id bigint, at timestamptz NOT NULL, note text)});
pgpart_ok($node, 'create events', 'create', 'events', '--column', 'at', '--start', '2025-01-01', '--interval', 'month',
	'--premake', '0');
psql_as($node, $owner, q{INSERT INTO events SELECT g, '2025-01-01'::timestamptz + g * interval '1 hour', 'n' || g FROM generate_series(1, 1000) g});
my $ev = table_fingerprint($node, 'events');
my $ev2 = table_fingerprint($node, 'events_2025_02');
like(pgpart_ok($node, 'archive events without the rights', 'archive', 'events', 'events_2025_01', '--to', $url),
	qr/note: not queryable in place: the server does not let this role run programs/, 'without pg_execute_server_program: not in place');
psql_ok($node, qq{CREATE EXTENSION file_fdw SCHEMA pgpart; GRANT USAGE ON FOREIGN DATA WRAPPER file_fdw TO "$owner";
	GRANT pg_execute_server_program TO "$owner"});
like(pgpart_ok($node, 'archive events with the rights', 'archive', 'events', 'events_2025_02', '--to', $url),
	qr/note: queryable in place: read-only file_fdw partition/, 'file_fdw installed by a superuser, USAGE on it and pg_execute_server_program: in place');
is(psql_ok($node, q{SELECT relkind FROM pg_class WHERE relname = 'events_2025_02'}), 'f', 'a foreign partition');
is(table_fingerprint($node, 'events_2025_02'), $ev2, 'the foreign partition reads the 0600 object');
for my $m (pgpart_ok($node, 'list', 'archive', 'list', $url) =~ m{(file://\S+/events_\S+\.manifest\.json)}g)
{
	pgpart_ok($node, "restore $m", 'restore', 'events', '--from', $m);
}
is(table_fingerprint($node, 'events'), $ev, 'events restored identical, as the owner');
done_testing();
