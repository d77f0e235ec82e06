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
# tiny sizes for every benchmark (bench/migrate --smoke has the same defaults)
local $ENV{BENCH_ROWS} = 3000;
local $ENV{BENCH_ORGS} = 50;
local $ENV{BENCH_WRITERS} = 2;
local $ENV{BENCH_WRITER_SECS} = 2;
local $ENV{BENCH_DIR} = "$dir/cluster";
local $ENV{BENCH_OUT} = "$dir/results";
my ($out, $err) = ('', '');
my $ok = IPC::Run::run([ "$top/bench/migrate", '--smoke' ], '<', \undef, '>', \$out, '2>', \$err);
ok($ok, 'bench/migrate --smoke completes') or diag("$out\n$err");
my ($json) = glob("$dir/results/migrate-*.json");
ok($json && -s $json, 'it writes JSON');
my $r = decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> });
for my $k (qw(rows ceiling_rows_per_s backfill_rows_per_s backfill_pct_of_ceiling postgres cores key_settings pgpart_commit))
{
	ok(defined $r->{$k} && $r->{$k} ne '', "result has $k");
}
is($r->{pgbench_errors}, 0, 'the writers ran without errors');
my %phase = map { $_->{phase} => $_ } @{ $r->{phases} };
for my $p (qw(idle mirror backfill plain-copy switch-1 rollback-1 switch-2 finish))
{
	ok($phase{$p} && $phase{$p}{transactions} > 0, "writers' transactions measured in phase $p");
}
like($phase{idle}{p99_ms} // '', qr/^[\d.]+$/, 'idle p99 is a number');
# a step that failed behind a holder is run again as STEP-retry
my @steps = grep { $_->{exit} == 0 } @{ $r->{lock_steps} };
is(join(' ', map { $_->{step} =~ s/-retry$//r } @steps), 'switch-1 rollback-1 switch-2 finish',
	'every switch, rollback and finish ran');
for my $s (@steps)
{
	like($s->{writers_wait_ms} // '', qr/^[\d.]+$/, "$s->{step}: pgpart's writers_wait_ms recorded");
	like($s->{reported_ge_measured} // '', qr/^(yes|no)$/, "$s->{step}: reported vs measured compared");
	like($s->{lock_after_ms} // '', qr/^[\d.]+$/, "$s->{step}: pgpart's lock_after_ms recorded");
	like($s->{reported_ge_measured_without_lag} // '', qr/^(yes|no)$/,
		"$s->{step}: reported vs measured without the schedule lag compared");
}
ok(exists $r->{targets}{backfill_p99_within_2x_idle}, 'the targets are evaluated');
my ($md) = glob("$dir/results/migrate-*.md");
my $mdtext = do { local $/; open(my $fh, '<', $md) or die; <$fh> };
like($mdtext, qr/\| around switch 1 \| [\d.]+ \| \d+ \| [\d.]+ \| [\d.]+ \|/, 'it writes the phase table');
like($mdtext, qr/## Targets.*\| (PASS|FAIL) \|/s, 'it prints the targets');
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
	local $ENV{BENCH_ROWS} = 20000;
	($out, $err) = ('', '');
	$ok = IPC::Run::run([ "$top/bench/remote" ], '<', \undef, '>', \$out, '2>', \$err);
	ok($ok, 'bench/remote completes') or diag("$out\n$err");
	($json) = glob("$dir/results/remote-*.json");
	$r = decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> });
	for my $k (qw(report_all_local_ms report_one_remote_async_ms report_one_remote_sync_ms ratio_async send_ms))
	{
		like($r->{$k} // '', qr/^[\d.]+$/, "remote result has $k");
	}
	is($r->{answers_equal}, 'true', 'remote: the report gives the same answer with a quarter remote');
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

{
	local $ENV{BENCH_ROWS} = 5000;
	local $ENV{BENCH_RATE} = 50;
	local $ENV{BENCH_CLIENTS} = 2;
	local $ENV{BENCH_IDLE_SECS} = 2;
	($out, $err) = ('', '');
	$ok = IPC::Run::run([ "$top/bench/repartition" ], '<', \undef, '>', \$out, '2>', \$err);
	ok($ok, 'bench/repartition completes') or diag("$out\n$err");
	($json) = glob("$dir/results/repartition-*.json");
	$r = decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> });
	for my $k (qw(ceiling_rows_per_s split_rows_per_s of_ceiling idle_p99_ms split_p99_ms pgpart_writers_wait_ms))
	{
		like($r->{$k} // '', qr/^[\d.]+$/, "repartition result has $k");
	}
	is($r->{phase}, 'done', 'the split finished');
}

done_testing();
