# bench/archive runs at a tiny scale: it completes, restores every row and
# writes well-formed results.  Its figures are not asserted (benchmarks
# measure; tests assert).
use strict;
use warnings;
use PgpartTest;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
use IPC::Run;

my $top = $ENV{TOP};
my $dir = tempdir(CLEANUP => 1);
local $ENV{BENCH_ROWS} = 3000;
local $ENV{BENCH_ORGS} = 20;
local $ENV{BENCH_DIR} = "$dir/cluster";
local $ENV{BENCH_OUT} = "$dir/results";
my ($out, $err) = ('', '');
my $ok = IPC::Run::run([ "$top/bench/archive" ], '<', \undef, '>', \$out, '2>', \$err);
ok($ok, 'bench/archive completes') or diag("$out\n$err");
my ($json) = glob("$dir/results/archive-*.json");
ok($json && -s $json, 'it writes JSON');
my $r = decode_json(do { local $/; open(my $fh, '<', $json) or die; <$fh> });
for my $k (qw(table_bytes compressed_bytes ratio file_archive_ms file_restore_ms closed_rows))
{
	like($r->{$k} // '', qr/^[\d.]+$/, "result has $k");
}
my ($md) = glob("$dir/results/archive-*.md");
like(do { local $/; open(my $fh, '<', $md) or die; <$fh> }, qr/\| compression ratio \(on-disk \/ archive\) \| [\d.]+x/,
	'it writes the markdown table');
ok(!-d "$dir/cluster/data", 'the cluster is gone');
done_testing();
