# harness.pl - runs the unit and integration tests with TAP::Harness, once
# with the normal build and once with the sanitizer build, and prints the
# closing line "N passed, N failed".
use strict;
use warnings;
use File::Path qw(make_path);
use TAP::Harness;

my $top = $ENV{TOP} or die "TOP not set\n";
my $work = $ENV{TESTWORK} or die "TESTWORK not set\n";

# "make check TESTS=tests/integration/010_create.pl" runs a subset
my @selected = @ARGV;
my @integration = @selected ? grep { /\.pl$/ } @selected
  : sort glob("$top/tests/integration/*.pl");
my @unit_names = @selected ? map { m{([^/]+)\.c$} ? $1 : () } grep { /unit/ } @selected
  : map { m{/(test_[^/]+)\.c$} ? $1 : () } sort glob("$top/tests/unit/test_*.c");

my ($passed, $failed, $bad_files) = (0, 0, 0);

for my $pass (['normal', "$top/pgpart", "$top/build/unit"],
	['sanitizers', "$top/build/pgpart-san", "$top/build/unit-san"])
{
	my ($label, $bin, $unitdir) = @$pass;
	print "# ---- $label build: $bin\n";
	my $testdir = "$work/$label";
	make_path($testdir);
	local $ENV{PGPART} = $bin;
	local $ENV{TESTDIR} = $testdir;
	# leaks are errors; a report must fail the test that caused it
	local $ENV{ASAN_OPTIONS} = 'detect_leaks=1:abort_on_error=0:exitcode=99';
	local $ENV{UBSAN_OPTIONS} = 'print_stacktrace=1:halt_on_error=1:exitcode=99';
	my @tests = ((map { ["$unitdir/$_", "unit/$_ ($label)"] } @unit_names),
		(map { my $n = $_; $n =~ s{.*/}{}; [$_, "integration/$n ($label)"] } @integration));
	my $harness = TAP::Harness->new({
		lib => [$ENV{PGXS_PERL}, "$top/tests/lib"],
		jobs => 2,
		color => 0,
		exec => sub {
			my ($h, $file) = @_;
			return $file =~ /\.pl$/ ? [$^X, "-I$ENV{PGXS_PERL}", "-I$top/tests/lib", $file]
			  : [$file];
		},
	});
	my $agg = $harness->runtests(@tests);
	$passed += scalar $agg->passed;
	$failed += scalar $agg->failed;
	# a crash or a plan mismatch is a failure even if every "ok" line was printed
	my @bad = grep { my ($p) = $agg->parsers($_); $p->has_problems } $agg->descriptions;
	$bad_files += @bad;
	# the work directory goes away at exit: show what a failed test logged
	for my $desc (@bad)
	{
		next unless $desc =~ m{^integration/(\S+)\.pl};
		my $log = "$testdir/tmp_check/log/regress_log_$1";
		next unless -r $log;
		print "# ---- last lines of $log\n";
		open(my $fh, '<', $log) or next;
		my @lines = <$fh>;
		# every failure with its diagnostics, then how the test ended
		for my $i (0 .. $#lines)
		{
			next unless $lines[$i] =~ /\bnot ok\b/;
			my $j = $i;
			$j++ while $j < $#lines && $lines[ $j + 1 ] =~ /^\S*\s*#/;
			print map { "#   $_" } @lines[ ($i > 3 ? $i - 3 : 0) .. $j ];
		}
		print map { "#   $_" } @lines[ ($#lines > 15 ? $#lines - 15 : 0) .. $#lines ];
	}
}

$failed += $bad_files if $failed == 0 && $bad_files;
print "$passed passed, $failed failed\n";
exit($failed ? 1 : 0);
