# The short soak (tests/soak/soak.pl): the seeds of tests/soak/seeds (each a
# regression of something the soak found) and one random seed, printed.
# A failure prints the seed and how to replay it; "make soak" runs long ones.
use strict;
use warnings;
use Test::More;

my $top = $ENV{TOP};
my @runs;
open(my $fh, '<', "$top/tests/soak/seeds") or die "tests/soak/seeds: $!";
while (<$fh>)
{
	next if /^\s*(#|$)/;
	my ($seed, $dur) = split;
	push @runs, [ $seed, $dur ];
}
close $fh;
my $random = int(rand(2**31));
push @runs, [ $random, '20s' ];
diag("short soak: seeds " . join(', ', map { "$_->[0] ($_->[1])" } @runs) . "; random seed $random");

for my $r (@runs)
{
	my ($seed, $dur) = @$r;
	my $dir = "$ENV{TESTDIR}/soak170_$seed";
	mkdir $dir;
	my $log = "$dir/soak.log";
	local $ENV{TESTDIR} = $dir;
	my $rc = system("$^X -I$ENV{PGXS_PERL} -I$top/tests/lib $top/tests/soak/soak.pl --seed=$seed "
		  . "--duration=$dur --rate=100 > $log 2>&1") >> 8;
	open(my $lf, '<', $log) or die;
	my @lines = <$lf>;
	close $lf;
	note(join('', grep { /^# (seed|operations|failed|faults|writer|checks|PROBLEM)/ } @lines));
	ok($rc == 0, "soak seed $seed, $dur") or diag(join('', grep { !/^ok / } @lines[ ($#lines > 80 ? $#lines - 80 : 0) .. $#lines ])
		  . "replay: make soak SEED=$seed DURATION=$dur");
}
done_testing();
