# The races of online migration as deterministic isolation specs
# (tests/isolation/specs): every listed interleaving of a backfill batch, the
# application's writers and long transactions runs exactly as written, and
# the output must equal tests/isolation/expected.  The batch steps are the
# statements pgpart itself runs, taken from "pgpart migrate batch-sql".
use strict;
use warnings;
use PgpartTest;
use Test::More;
use File::Path qw(make_path);
use JSON::PP;

my $isolation = '/usr/lib/postgresql/15/lib/pgxs/src/test/isolation';
my $regress = "$isolation/pg_isolation_regress";
plan skip_all => "no $regress (package postgresql-server-dev-15)" unless -x $regress;

my $node = new_cluster('isolation');
psql_ok($node, q{
	ALTER DATABASE postgres SET timezone = 'UTC';
	CREATE TABLE mig (id bigint PRIMARY KEY, occurred_at timestamptz NOT NULL, amount numeric,
		note text);
	CREATE TABLE sw (LIKE mig INCLUDING ALL);
	INSERT INTO mig SELECT g, '2026-01-01'::timestamptz + g * interval '10 days', g, 'row ' || g
	  FROM generate_series(2, 40, 2) g;
	INSERT INTO sw SELECT * FROM mig;
});
pgpart_ok($node, 'init', 'init');
for my $t (qw(mig sw))
{
	pgpart_ok($node, "start $t", 'migrate', 'start', $t, '--column', 'occurred_at',
		'--extend-keys', '--start', '2026-01-01', '--time-zone', 'UTC');
}
# mig stays before its backfill; sw is switched, so the old table is fed back
pgpart_ok($node, 'backfill sw', 'migrate', 'backfill', 'sw');
pgpart_ok($node, 'verify sw', 'migrate', 'verify', 'sw');
pgpart_ok($node, 'switch sw', 'migrate', 'switch', 'sw');

my $sql = decode_json(pgpart_ok($node, 'batch-sql', 'migrate', 'batch-sql', 'mig', '--json'))->{facts};
like($sql->{lock}, qr/FOR SHARE/, 'the batch locks the rows it copies');

my $top = $ENV{TOP};
my $work = $PostgreSQL::Test::Utils::tmp_check . '/isolation';
make_path("$work/specs", "$work/expected", "$work/out");
opendir(my $dh, "$top/tests/isolation/specs") or die;
my @tests;
for my $in (sort grep { /\.spec\.in$/ } readdir $dh)
{
	(my $name = $in) =~ s/\.spec\.in$//;
	open(my $fh, '<', "$top/tests/isolation/specs/$in") or die;
	my $text = do { local $/; <$fh> };
	close $fh;
	$text =~ s/\@LOCK\@/$sql->{lock}/g;
	$text =~ s/\@COPY\@/$sql->{copy}/g;
	$text =~ s/\@COMPARE\@/$sql->{compare}/g;
	open(my $out, '>', "$work/specs/$name.spec") or die;
	print $out $text;
	close $out;
	system('cp', "$top/tests/isolation/expected/$name.out", "$work/expected/$name.out") == 0
		or die "no expected output for $name";
	push @tests, $name;
}
closedir $dh;

my ($stdout, $stderr) = ('', '');
my $ok = IPC::Run::run(
	[ $regress, '--use-existing', "--bindir=", "--inputdir=$work", "--outputdir=$work/out",
		'--host=' . $node->host, '--port=' . $node->port, '--dbname=postgres', @tests ],
	'>', \$stdout, '2>', \$stderr);
note($stdout . $stderr);
ok($ok, 'isolation specs: ' . join(', ', @tests));
if (!$ok && -f "$work/out/regression.diffs")
{
	open(my $fh, '<', "$work/out/regression.diffs") or die;
	diag(do { local $/; <$fh> });
}

# the races left both tables equal, and verify agrees
pgpart_ok($node, 'backfill mig', 'migrate', 'backfill', 'mig');
like(pgpart_ok($node, 'verify mig', 'migrate', 'verify', 'mig'), qr/result\s+equal/, 'mig equal');
like(pgpart_ok($node, 'verify sw', 'migrate', 'verify', 'sw'), qr/result\s+equal/, 'sw equal');

done_testing();
