# The benchmarks run at a tiny scale: they complete and write well-formed
# results.  Nothing about their figures is asserted (benchmarks measure;
# tests assert).
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);

my $top = $ENV{TOP};
my $dir = tempdir(CLEANUP => 1);
local $ENV{BENCH_ROWS} = 3000;
local $ENV{BENCH_ORGS} = 50;
local $ENV{BENCH_WRITERS} = 2;
local $ENV{BENCH_SWITCHES} = 2;
local $ENV{BENCH_WRITER_SECS} = 2;
local $ENV{BENCH_DIR} = "$dir/cluster";
local $ENV{BENCH_OUT} = "$dir/results";
my ($out, $err) = ('', '');
my $ok = IPC::Run::run([ "$top/bench/migrate" ], '<', \undef, '>', \$out, '2>', \$err);
ok($ok, 'bench/migrate completes') or diag("$out\n$err");
my ($json) = glob("$dir/results/migrate-*.json");
ok($json && -s $json, 'it writes JSON');
my $r = decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> });
for my $k (qw(rows insert_select_s backfill_5000_s backfill_with_writers_s writers_tps_alone locks postgres cores))
{
	ok(defined $r->{$k} && $r->{$k} ne '', "result has $k");
}
like($r->{locks}, qr/^switch \d/, 'switch lock times recorded');
my ($md) = glob("$dir/results/migrate-*.md");
like(do { local $/; open(my $fh, '<', $md) or die; <$fh> }, qr/\| backfill, batch 5000, no writers \| [\d.]+ s, \d+ rows\/s/,
	'it writes the markdown table');
ok(!-d "$dir/cluster/data", 'the cluster is gone');

local $ENV{BENCH_RUNS} = 3;
($out, $err) = ('', '');
$ok = IPC::Run::run([ "$top/bench/rollup" ], '<', \undef, '>', \$out, '2>', \$err);
ok($ok, 'bench/rollup completes') or diag("$out\n$err");
($json) = glob("$dir/results/rollup-*.json");
$r = decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> });
for my $k (qw(yearly_detail_p95_ms yearly_rollup_p95_ms crossorg_rollup_p95_ms writer_tps_with writer_tps_without))
{
	like($r->{$k} // '', qr/^[\d.]+$/, "rollup result has $k");
}

($out, $err) = ('', '');
$ok = IPC::Run::run([ "$top/bench/tiermove" ], '<', \undef, '>', \$out, '2>', \$err);
ok($ok, 'bench/tiermove completes') or diag("$out\n$err");
($json) = glob("$dir/results/tiermove-*.json");
$r = decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> });
for my $k (qw(plain_set_tablespace_ms move_swap_lock_ms move_copy_ms move_under_load_swap_lock_ms tps_during))
{
	like($r->{$k} // '', qr/^[\d.]+$/, "tiermove result has $k");
}

{
	local $ENV{BENCH_DRAIN_ROWS} = 2000;
	local $ENV{BENCH_RATE} = 50;
	local $ENV{BENCH_CLIENTS} = 2;
	local $ENV{BENCH_WRITER_SECS} = 3;
	($out, $err) = ('', '');
	$ok = IPC::Run::run([ "$top/bench/drain" ], '<', \undef, '>', \$out, '2>', \$err);
	ok($ok, 'bench/drain completes') or diag("$out\n$err");
	($json) = glob("$dir/results/drain-*.json");
	$r = decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> });
	is(scalar @{ $r->{runs} // [] }, 3, 'drain result has the three ways');
	for my $k (qw(writers_p99_ms writers_max_ms pgpart_writers_wait_ms attach_lock_held_ms maintain_ms))
	{
		like($r->{runs}[0]{$k} // '', qr/^[\d.]+$/, "drain result has $k");
	}
	is($r->{runs}[1]{ok}, 'ok', 'the batched way succeeded');
}

done_testing();
