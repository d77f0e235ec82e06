# bench/reports, bench/operations and bench/partman at a tiny scale: each
# completes, tears its cluster down and writes well-formed JSON and markdown.
# Nothing about their figures is asserted (benchmarks measure; tests assert).
# As an unprivileged user the cgroup and drop_caches parts are skipped by
# design, and the results say so.
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);

my $top = $ENV{TOP};
my $dir = tempdir(CLEANUP => 1);
plan skip_all => 'bench/ is not in the tested tree' unless -x "$top/bench/reports";

# the generator: the Makefile's build, or a private one
my $gen = "$top/build/bench-gen";
if (!-x $gen)
{
	$gen = "$dir/bench-gen";
	system('cc', '-std=c11', '-O2', '-o', $gen, "$top/bench/gen.c", '-lm') == 0 or BAIL_OUT('cannot build bench/gen.c');
}
local $ENV{BENCH_GEN_BIN} = $gen;

# the generator alone: COPY text, the right number of rows and columns
my $rows = `$gen --rows 50 --orgs 10 --from 2025-01-01 --to 2025-02-01`;
my @lines = split /\n/, $rows;
is(scalar(@lines), 50, 'bench-gen writes the rows asked for');
is(scalar(grep { split(/\t/, $_, -1) == 7 } @lines), 50, 'seven tab-separated columns each');
ok(!grep({ !/^\d+\t\d+\t2025-01-\d\d \d\d:\d\d:\d\d\+00\t\d+\.\d\d\t\w+\t\w+\t/ } @lines), 'values in range and format');
isnt(system("$gen --rows 5 --orgs 0 >/dev/null 2>&1"), 0, 'bad arguments are refused');

local $ENV{BENCH_ROWS} = 3000;
local $ENV{BENCH_ORGS} = 50;
local $ENV{BENCH_OUT} = "$dir/results";

sub run_bench
{
	my ($name, %env) = @_;
	local @ENV{ keys %env } = values %env;
	local $ENV{BENCH_DIR} = "$dir/cluster-$name";
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ "$top/bench/$name" ], '<', \undef, '>', \$out, '2>', \$err);
	ok($ok, "bench/$name completes") or diag("$out\n$err");
	ok(!-d "$dir/cluster-$name/data", "bench/$name removes its cluster");
	my ($json) = glob("$dir/results/$name-*.json");
	my ($md) = glob("$dir/results/$name-*.md");
	my $r = eval { decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> }) };
	ok($r, "bench/$name writes JSON") or diag($@);
	my $text = $md ? do { local $/; open(my $fh, '<', $md) or die; <$fh> } : '';
	like($text, qr/^\| --- /m, "bench/$name writes a markdown table");
	for my $k (qw(date cores ram_gib postgres settings rows load_start))
	{
		ok(defined $r->{$k} && $r->{$k} ne '', "$name result has $k");
	}
	return ($r, $text);
}

my ($r, $md) = run_bench('reports', BENCH_QUERIES => 5, BENCH_COLD_QUERIES => 3, BENCH_CROSS => 2,
	BENCH_EXPLAIN => 1, BENCH_PHASES => 'warm cold limited');
my @res = @{ $r->{results} // [] };
my %seen = map { ("$_->{index_set}/$_->{phase}/$_->{table}/$_->{scenario}" => 1) } @res;
for my $idx (qw(seed recommended))
{
	for my $t (qw(revenues_plain revenues))
	{
		for my $s (qw(daily monthly yearly cross))
		{
			ok($seen{"$idx/warm/$t/$s"}, "reports measured $idx/warm/$t/$s");
		}
	}
}
ok(!grep({ !($_->{p50_ms} =~ /^[\d.]+$/ && $_->{p99_ms} >= $_->{p50_ms}) } @res), 'percentiles are numbers in order');
ok(!grep({ !defined $_->{explain}{parts} } @res), 'every measurement has its EXPLAIN figures');
like($r->{generator_used}, qr/^(c|sql)$/, 'the faster generator was chosen');
if ($> == 0)
{
	like($r->{limited}, qr/cgroup/, 'as root the memory-limited phase ran in a cgroup');
}
else
{
	like($r->{limited}, qr/not possible: not root/, 'without root the memory-limited phase is skipped and says so');
	like($r->{cold_method}, qr/not root/, 'without root "cold" says the OS cache was not dropped');
}
like($md, qr/one org, one day .*\| [\d.]+ \/ [\d.]+ \/ [\d.]+ \(\d+ runs\) \|/, 'the markdown has the latency columns');

($r) = run_bench('operations', BENCH_INSERT_SECS => 1, BENCH_INSERT_CLIENTS => 2);
for my $k (qw(vacuum_spread reindex reindex_concurrently dump insert_rate insert_max copy_max remove_oldest))
{
	like($r->{operations}{$k}{partitioned} // '', qr/^[\d.]+$/, "operations measured $k");
}

($r) = run_bench('partman', BENCH_SETTLE_SECS => 1, BENCH_CHUNK_SECS => 1, BENCH_WRITERS => 1);
for my $k (qw(create_pgpart create_partman maintain_pgpart move_partman))
{
	like($r->{jobs}{$k}{seconds} // '', qr/^[\d.]+$/, "partman bench timed $k");
}
is($r->{left_in_default_pgpart}, 0, 'pgpart emptied its default partition');
is($r->{same_rows}, 't', 'both tables hold the same rows');

done_testing();
