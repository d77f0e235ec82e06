# Archive and restore through S3 (a real S3-compatible server, s3rver from
# npm, started here on 127.0.0.1, behind a proxy that checks every request's
# SigV4 signature, which s3rver itself does not): multipart upload of several
# parts, restore identical; wrong credentials and a server that dies
# mid-upload leave the partition attached and its data queryable, and a
# re-run completes.
use strict;
use warnings;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use SigV4Proxy;

my $s3rver = "$ENV{TOP}/build/npm/node_modules/s3rver/bin/s3rver.js";
plan skip_all => 's3rver is not installed (scripts/install-deps installs it)' unless -f $s3rver;

my $base = PostgreSQL::Test::Utils::tempdir();
my ($s3, $s3out, $port) = (undef, '', 0);
sub start_s3
{
	my ($want_port) = @_;
	my $log = "$base/s3rver.log";
	unlink $log;
	# output to a file: a pipe nobody reads would fill up and stall the server
	$s3 = IPC::Run::start([ 'node', $s3rver, '-d', "$base/s3", '-a', '127.0.0.1', '-p', $want_port,
			'--configure-bucket', 'pgpart-test', '--no-vhost-buckets' ],
		'<', \undef, '>', $log, '2>&1');
	for (1 .. 200)
	{
		$s3out = -e $log ? slurp_file($log) : '';
		last if $s3out =~ /listening on 127\.0\.0\.1:(\d+)/;
		usleep(50_000);
	}
	($port) = $s3out =~ /listening on 127\.0\.0\.1:(\d+)/ or die "s3rver did not start: $s3out";
}
sub stop_s3 { $s3->kill_kill; $s3->finish; }
mkdir "$base/s3";
start_s3(0);
note("s3rver on port $port");
# every request goes through the signature check; it follows $port across restarts
my $siglog = "$base/sigv4.log";
my ($proxy_pid, $proxy_port) = SigV4Proxy::start(\$port, 'S3RVER', $siglog);
END { kill 'KILL', $proxy_pid if $proxy_pid }

my $node = new_cluster('archive_s3');
seed_schema($node);
pgpart_ok($node, 'init', 'init');
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2024-10-01',
	'--premake', '1');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'rows=20000', '-v', 'orgs=40',
		'-v', 'future_rows=0', '-d', $node->connstr('postgres'), '-f', "$ENV{TOP}/scripts/seed-data.sql" ],
	'load 20000 rows');
psql_ok($node, q{UPDATE revenues SET description = (SELECT string_agg(md5(g::text || id::text), ' ') FROM generate_series(1, 200) g) WHERE id % 50 = 0});
psql_ok($node, q{UPDATE revenues SET description = NULL WHERE id % 7 = 0});
my $all = table_fingerprint($node, 'revenues');
my $q1 = table_fingerprint($node, 'revenues_2025_q1');
my ($q1rows) = $q1 =~ /^(\d+)/;
sub parts { psql_ok($node, q{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid WHERE h.inhparent = 'revenues'::regclass}) }
my $parts = parts();

$ENV{AWS_ACCESS_KEY_ID} = 'S3RVER';
$ENV{AWS_SECRET_ACCESS_KEY} = 'S3RVER';
$ENV{AWS_REGION} = 'us-east-1';
my $url = 's3://pgpart-test/pgpart/archive';
# the local test server speaks plain http: consent is explicit
my @ep = ('--s3-endpoint', "http://127.0.0.1:$proxy_port", '--allow-insecure-endpoint');

# ---- http:// is refused without that consent, from the option or the environment
pgpart_fails($node, 'http endpoint refused', 2,
	qr/refusing the plain-http S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(from --s3-endpoint\)/, 'archive',
	'revenues', 'revenues_2025_q1', '--to', $url, '--s3-endpoint', "http://127.0.0.1:$proxy_port");
{
	local $ENV{AWS_ENDPOINT_URL_S3} = "http://127.0.0.1:$proxy_port";
	my $e = pgpart_fails($node, 'http endpoint from the environment refused', 2,
		qr/refusing the plain-http S3 endpoint .* \(from AWS_ENDPOINT_URL_S3\)/, 'archive', 'list', $url);
	like($e, qr/--allow-insecure-endpoint/, 'the hint names the explicit option');
	pgpart_fails($node, 'restore: http endpoint refused', 2, qr/refusing the plain-http S3 endpoint/,
		'restore', 'revenues', '--from', "$url/public.revenues/x.manifest.json");
}
{
	my $e = pgpart_fails($node, 'credentials in the endpoint URL refused', 2,
		qr/invalid S3 endpoint \(from --s3-endpoint\)\n.*user name or password/, 'archive', 'list', $url,
		'--s3-endpoint', "http://S3RVER:S3RVER\@127.0.0.1:$proxy_port", '--allow-insecure-endpoint');
	unlike($e, qr/S3RVER:S3RVER/, 'the endpoint with its password is not echoed');
}
is(-e $siglog ? slurp_file($siglog) : '', '', 'refused endpoints: not one request was sent');
is(parts(), $parts, 'refused endpoints: nothing detached');

# ---- multipart (64 KiB parts: several for this partition), list, restore
my $out = pgpart_ok($node, 'archive to s3', 'archive', 'revenues', 'revenues_2025_q1', '--to', $url, @ep,
	'--part-size', '65536', '--json');
my ($comp) = $out =~ /"compressed_bytes": (\d+)/;
ok($comp > 3 * 65536, "object of $comp bytes took several 64 KiB parts");
my $signed = slurp_file($siglog);
like($signed, qr/^ok POST \S+\?uploads=$/m, 'CreateMultipartUpload correctly signed');
like($signed, qr/^ok PUT \S+\?partNumber=3&uploadId=/m, 'UploadPart correctly signed');
like($signed, qr/^ok POST \S+\?uploadId=/m, 'CompleteMultipartUpload correctly signed');
like($signed, qr/^ok GET \S+\.copy\.zst$/m, 'GetObject (read-back) correctly signed');
unlike($signed, qr/^bad /m, 'no request was badly signed');
is(psql_ok($node, q{SELECT to_regclass('revenues_2025_q1') IS NULL}), 't', 'partition dropped after verify');
my $list = pgpart_ok($node, 'archive list s3', 'archive', 'list', $url, @ep);
like($list, qr/public.revenues_2025_q1 \[2025-01-01 00:00:00\+00, 2025-04-01 00:00:00\+00\) of public.revenues: $q1rows rows/,
	'list shows the archive');
my ($manifest) = $list =~ m{(s3://\S+\.manifest\.json)};
pgpart_ok($node, 'restore from s3', 'restore', 'revenues', '--from', $manifest, @ep);
is(table_fingerprint($node, 'revenues'), $all, 'restored from S3: identical');
is(parts(), $parts, 'attached again');

# ---- single PUT (object smaller than a part)
like(pgpart_ok($node, 'archive small part count', 'archive', 'revenues', 'revenues_2024_q4', '--to', $url, @ep),
	qr/archived public.revenues_2024_q4/, 'single-request upload');

# ---- wrong credentials: nothing dropped, a re-run with the right ones completes
{
	local $ENV{AWS_ACCESS_KEY_ID} = 'WRONG';
	pgpart_fails($node, 'wrong credentials', 1, qr/HTTP 403 InvalidAccessKeyId/, 'archive', 'revenues',
		'revenues_2025_q2', '--to', $url, @ep);
}
{
	local $ENV{AWS_SECRET_ACCESS_KEY} = 'not-the-secret';
	pgpart_fails($node, 'wrong secret', 1, qr/HTTP 403 SignatureDoesNotMatch/, 'archive', 'revenues',
		'revenues_2025_q2', '--to', $url, @ep);
}
like(parts(), qr/revenues_2025_q2/, 'wrong credentials: partition attached again');
is(table_fingerprint($node, 'revenues_2025_q2'), table_fingerprint($node, 'revenues_2025_q2'), 'queryable');
pgpart_ok($node, 're-run with the right credentials', 'archive', 'revenues', 'revenues_2025_q2', '--to', $url, @ep);
is(psql_ok($node, q{SELECT to_regclass('revenues_2025_q2') IS NULL}), 't', 're-run archived it');

# ---- no credentials, bad endpoint: clear usage errors
{
	local $ENV{AWS_ACCESS_KEY_ID};
	delete $ENV{AWS_ACCESS_KEY_ID};
	pgpart_fails($node, 'no credentials', 2, qr/no S3 credentials/, 'archive', 'revenues', 'revenues_2025_q3',
		'--to', $url, @ep);
}
pgpart_fails($node, 'bad endpoint', 2, qr/invalid S3 endpoint/, 'archive', 'revenues', 'revenues_2025_q3',
	'--to', $url, '--s3-endpoint', 'ftp://x');
pgpart_fails($node, 'bad bucket', 2, qr/bucket name/, 'archive', 'revenues', 'revenues_2025_q3',
	'--to', 's3://Bad_Bucket/x', @ep);

# ---- the server dies mid-upload (after the first part): nothing dropped, re-run completes
SKIP: {
	skip 'the mid-upload stall needs the test build', 5
	  unless (PgpartTest::run_raw('--version'))[1] =~ /test build/;
	my $stall = "$base/stall";
	my $q3 = table_fingerprint($node, 'revenues_2025_q3');
	my ($o, $e) = ('', '');
	local $ENV{PGPART_TEST_S3_STALL} = "1:$stall";
	my $h = IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'archive', 'revenues',
			'revenues_2025_q3', '--to', $url, @ep, '--part-size', '65536' ], '<', \undef, '>', \$o, '2>', \$e);
	for (1 .. 600) { last if -e "$stall.ready"; usleep(50_000); }
	ok(-e "$stall.ready", 'upload paused after the first part');
	stop_s3();
	unlink "$stall.ready";
	$h->finish;
	is($? >> 8, 1, 'archive fails when the server is gone') or diag($e);
	like($e, qr/S3 request .* failed/, 'the error names the S3 request');
	like(parts(), qr/revenues_2025_q3/, 'server gone: partition attached again');
	is(table_fingerprint($node, 'revenues_2025_q3'), $q3, 'server gone: data intact and queryable');
	delete $ENV{PGPART_TEST_S3_STALL};
	start_s3($port);
	pgpart_ok($node, 're-run with the server back', 'archive', 'revenues', 'revenues_2025_q3', '--to', $url, @ep,
		'--part-size', '65536');
}

# ---- everything back from S3
for my $m (pgpart_ok($node, 'final list', 'archive', 'list', $url, @ep) =~ m{(s3://\S+\.manifest\.json)}g)
{
	my ($name) = $m =~ m{/(revenues_\d{4}_q\d)-};
	next unless psql_ok($node, "SELECT to_regclass('$name') IS NULL") eq 't';
	pgpart_ok($node, "restore $name", 'restore', 'revenues', '--from', $m, @ep);
}
is(table_fingerprint($node, 'revenues'), $all, 'every row back from S3');
like(slurp_file($siglog), qr/^ok GET \S*\?list-type=2&prefix=/m, 'ListObjectsV2 correctly signed');
stop_s3();
done_testing();
