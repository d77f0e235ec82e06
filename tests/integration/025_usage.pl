# Every command and subcommand, before it connects: an unknown option is
# refused with exactly one error line that names it and one hint pointing
# to that command's --help (exit 2); an option that needs a value and has
# none likewise; --help prints the command's usage and the options every
# command takes (exit 0); a bad value of a common option is named with what
# a valid one looks like.  No server: none of this may need one.
use strict;
use warnings;
use PgpartTest;
use Test::More;

# the hint names the command as its --help is reached
my @commands = (
	[ ['init'], 'init' ],
	[ ['create'], 'create' ],
	[ ['maintain'], 'maintain' ],
	[ ['status'], 'status' ],
	[ [ 'index', 'add' ], 'index' ],
	(map { [ [ 'migrate', $_ ], 'migrate' ] } qw(plan start backfill verify switch finish rollback status batch-sql)),
	(map { [ [ 'rollup', $_ ], 'rollup' ] } qw(add refresh status drop)),
	[ ['vacuum'], 'vacuum' ],
	[ ['analyze'], 'analyze' ],
	[ ['reindex'], 'reindex' ],
	(map { [ [ 'report', $_ ], 'report' ] } qw(daily monthly yearly cross-org)),
	[ ['run'], 'run' ],
	[ ['metrics'], 'metrics' ],
	[ ['move'], 'move' ],
	[ ['policy'], 'policy' ],
	[ ['archive'], 'archive' ],
	[ [ 'archive', 'list' ], 'archive' ],
	[ ['restore'], 'restore' ],
);

# a server that is not there: anything that tried to connect would fail differently
my @nodb = ('-d', 'host=/nonexistent-pgpart-socket-dir port=1 connect_timeout=1');

for my $c (@commands)
{
	my ($words, $hint_cmd) = @$c;
	my $what = join(' ', @$words);
	my ($rc, $out, $err) = PgpartTest::run_raw(@nodb, @$words, '--no-such-option', 'x');
	is($rc, 2, "$what --no-such-option: exit 2");
	my @errors = $err =~ /^pgpart: error:/mg;
	is(scalar @errors, 1, "$what: exactly one error line") or diag($err);
	like($err, qr/^pgpart: error: unrecognized option "--no-such-option"$/m, "$what: names the option");
	like($err, qr/^pgpart: hint: Try "pgpart \Q$hint_cmd\E --help" for more information\.$/m, "$what: points to its --help");
	unlike($err, qr/^(?!pgpart: )/m, "$what: nothing but pgpart's lines (no getopt message)");
	is($out, '', "$what: nothing on stdout");

	($rc, $out, $err) = PgpartTest::run_raw(@nodb, @$words, '--lock-timeout');
	is($rc, 2, "$what --lock-timeout without a value: exit 2");
	like($err, qr/^pgpart: error: option "--lock-timeout" needs a value$/m, "$what: says it needs a value");

	($rc, $out, $err) = PgpartTest::run_raw(@nodb, @$words, '--retries', '0');
	is($rc, 2, "$what --retries 0: exit 2");
	like($err, qr/^pgpart: error: invalid --retries "0" \(1 to 1000\)$/m, "$what: the range of --retries");

	($rc, $out, $err) = PgpartTest::run_raw(@$words, '--help');
	is($rc, 0, "$what --help: exit 0");
	like($out, qr/^Usage:$/m, "$what --help: a usage section");
	like($out, qr/^  -d, --dbname=CONNINFO/m, "$what --help: the common options");
	is($err, '', "$what --help: nothing on stderr");
}

# pgpart's own options, before the command
my ($rc, $out, $err) = PgpartTest::run_raw('--no-such-option');
is($rc, 2, 'pgpart --no-such-option: exit 2');
like($err, qr/\Apgpart: error: unrecognized option "--no-such-option"\npgpart: hint: Try "pgpart --help" for more information\.\n\z/,
	'one error line and the hint to pgpart --help');
($rc, $out, $err) = PgpartTest::run_raw('-x', 'status');
like($err, qr/^pgpart: error: unrecognized option "-x"$/m, 'an unknown short option is named as given');
($rc, $out, $err) = PgpartTest::run_raw('--lock-timeout', 'soon', 'status');
is($rc, 2, 'a bad common option before the command: exit 2');
like($err, qr/^pgpart: error: invalid --lock-timeout "soon" \(use e\.g\. 500ms or 2s\)$/m, 'with what a valid value looks like');

done_testing();
