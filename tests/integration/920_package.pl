# pgpart installed like a PostgreSQL tool: the Debian package "make check"
# built (make package-prep: build/deb/, lintian's findings, and a "make
# install" + "make uninstall" into a staging root) holds the binary, the man
# pages, the bash completion and contrib/; the installed binary runs; the
# man pages render without a groff warning; and every option of every
# command's --help is in that command's man page and in the completion, and
# the reverse.  No server.  The package is built once, before the tests; both
# passes inspect it (the help texts come from the binary under test).
use strict;
use warnings;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IPC::Run ();
use PgpartTest;
use Test::More;

my $top = $ENV{TOP};
my $bin = $ENV{PGPART};

sub slurp { my ($f) = @_; open(my $fh, '<', $f) or die "$f: $!"; local $/; return <$fh> }

# (exit code, stdout, stderr) of a command
sub run_cmd
{
	my ($cmd, %o) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run($cmd, '<', \($o{in} // ''), '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# ---- what make package-prep left
my $prep_log = "$top/build/package-prep.log";
unless (ok(-e "$top/build/package-prep.ok", 'make package-prep succeeded (make check runs it before the tests)'))
{
	if (-r $prep_log)
	{
		my @lines = split /\n/, slurp($prep_log);
		diag("last lines of build/package-prep.log:\n" . join("\n", @lines[ ($#lines > 40 ? $#lines - 40 : 0) .. $#lines ]));
	}
	else
	{
		diag('no build/package-prep.log: run "make check", or "make package-prep" before tests/run-all');
	}
	done_testing();
	exit 0;
}

# ---- the help texts of the binary under test: commands, subcommands, options
my ($rc, $help, $err) = PgpartTest::run_raw('--help');
is($rc, 0, 'pgpart --help: exit 0');
my ($commands_text) = $help =~ /^Commands:\n(.*?)\n\n/ms;
my @commands = ($commands_text // '') =~ /^  ([a-z][a-z-]*)  /mg;
cmp_ok(scalar @commands, '>=', 15, 'the commands of pgpart --help (' . scalar(@commands) . ')');
($rc, my $version_out) = PgpartTest::run_raw('--version');
my ($version) = $version_out =~ /^pgpart (\d+\.\d+\.\d+)/;
ok($version, "pgpart --version: $version_out");

# the options a help text defines, or names in its usage lines; for each:
# whether it takes a value
sub help_options
{
	my ($text) = @_;
	my %opt;
	my ($usage) = $text =~ /^Usage:\n(.*?)(?:\n\n|\z)/ms;
	for my $line (split /\n/, $text)
	{
		# a definition line:   "  -c, --column=COL   text"  or  "      --unique   text"
		next unless $line =~ /^\s{2,}(?:(-[a-zA-Z]), )?(--[a-z][a-z0-9-]*)(=?)/;
		my ($short, $long, $eq) = ($1, $2, $3);
		$opt{$long} = $eq ? 1 : 0;
		$opt{$short} = $opt{$long} if $short;
	}
	for my $line (split /\n/, $usage // '')
	{
		while ($line =~ /(?<![\w-])(--[a-z][a-z0-9-]*)(=|\s+(?=[A-Z'"]))?/g)
		{
			$opt{$1} //= defined $2 ? 1 : 0;
		}
	}
	return \%opt;
}

# subcommands a command's --help names: "Subcommands" lines, or usage lines
# "pgpart CMD word ..." with a lower-case word
sub help_subcommands
{
	my ($cmd, $text) = @_;
	my %sub;
	if ($text =~ /^Subcommands[^\n]*:\n(.*?)\n\n/ms)
	{
		my $list = $1;
		$sub{$_} = 1 for $list =~ /^  ([a-z][a-z-]*)\s/mg;
	}
	my ($usage) = $text =~ /^Usage:\n(.*?)(?:\n\n|\z)/ms;
	$sub{$1} = 1 while ($usage // '') =~ /^\s+pgpart \Q$cmd\E ([a-z][a-z-]*)\b/mg;
	return sort keys %sub;
}

my $global = help_options($help);
my %help_of;    # "cmd" or "cmd sub" => options
my %subs_of;
for my $cmd (@commands)
{
	my ($crc, $text) = PgpartTest::run_raw($cmd, '--help');
	is($crc, 0, "pgpart $cmd --help: exit 0");
	my @subs = help_subcommands($cmd, $text);
	$subs_of{$cmd} = \@subs;
	if (!@subs || $cmd eq 'archive')
	{
		$help_of{$cmd} = help_options($text);
	}
	for my $sub (@subs)
	{
		my ($src, $stext) = PgpartTest::run_raw($cmd, $sub, '--help');
		is($src, 0, "pgpart $cmd $sub --help: exit 0");
		$help_of{"$cmd $sub"} = help_options($stext);
	}
}
ok(scalar(keys %help_of) >= 30, 'every command and subcommand has a help text (' . scalar(keys %help_of) . ')');
my %all_help = (%$global, map { %$_ } values %help_of);

# ---- the package
my @debs = grep { !/-dbgsym_/ } glob("$top/build/deb/pgpart_*.deb");
is(scalar @debs, 1, 'one package in build/deb') or diag(join(' ', glob("$top/build/deb/*")));
my $deb = $debs[0] // 'none';
($rc, my $listing) = run_cmd([ 'dpkg-deb', '--contents', $deb ]);
is($rc, 0, 'dpkg-deb --contents');
my %in_deb = map { m{\s\./(\S+)$} ? ($1 => 1) : () } split /\n/, $listing;
my @man_pages = qw(pgpart pgpart-migrate pgpart-rollup pgpart-archive pgpart-run);
for my $f ('usr/bin/pgpart', (map { "usr/share/man/man1/$_.1.gz" } @man_pages),
	'usr/share/bash-completion/completions/pgpart',
	(map { "usr/share/pgpart/systemd/$_" } qw(pgpart.service pgpart-once.service pgpart-once.timer pgpart.env)),
	'usr/share/pgpart/prometheus/pgpart-alerts.yml', 'usr/share/pgpart/prometheus/pgpart-alerts.test.yml',
	'usr/share/pgpart/grafana/pgpart-dashboard.json', 'usr/share/pgpart/kubernetes/pgpart-cronjob.yaml',
	'usr/share/doc/pgpart/copyright')
{
	ok($in_deb{$f}, "the package holds /$f");
}
ok(!(grep { m{^usr/local/} } keys %in_deb), 'nothing under /usr/local');

my %field;
for my $f (qw(Package Version Architecture Depends))
{
	(undef, $field{$f}) = run_cmd([ 'dpkg-deb', '--field', $deb, $f ]);
	chomp $field{$f};
}
is($field{Package}, 'pgpart', 'package name');
like($field{Version}, qr/^\Q$version\E(?:-\S+)?$/, "package version $field{Version} is pgpart's $version");
like($field{Depends}, qr/\blibpq5\b/, 'dh_shlibdeps: depends on libpq5');
like($field{Depends}, qr/\blibzstd1\b/, 'dh_shlibdeps: depends on libzstd1');
like($field{Depends}, qr/\blibc6 \(>= /, 'dh_shlibdeps: versioned libc6');
like($field{Depends}, qr/\badduser\b/, 'depends on adduser (postinst)');

my $work = tempdir("$ENV{TESTDIR}/package.XXXX", CLEANUP => 1);
($rc, undef, $err) = run_cmd([ 'dpkg-deb', '--control', $deb, "$work/control" ]);
is($rc, 0, 'dpkg-deb --control') or diag($err);
my $postinst = -r "$work/control/postinst" ? slurp("$work/control/postinst") : '';
like($postinst, qr/^\s*adduser --system\b.*\bpgpart\s*$/ms, 'postinst creates the system user pgpart');
like($postinst, qr/getent passwd pgpart/, 'postinst leaves an existing pgpart user alone');
($rc, undef, $err) = run_cmd([ 'sh', '-n', "$work/control/postinst" ]);
is($rc, 0, 'postinst is valid sh') or diag($err);

# ---- installed into a temporary root
my $root = "$work/root";
($rc, undef, $err) = run_cmd([ 'dpkg', '-x', $deb, $root ]);
is($rc, 0, 'dpkg -x into a temporary root') or diag($err);
my $ibin = "$root/usr/bin/pgpart";
ok(-x $ibin, 'the installed binary is executable');
(my $irc, my $iout) = run_cmd([ $ibin, '--version' ]);
is($irc, 0, 'installed pgpart --version: exit 0');
is($iout, "pgpart $version\n", 'installed pgpart --version');
($irc, $iout) = run_cmd([ $ibin, '--help' ]);
is($irc, 0, 'installed pgpart --help: exit 0');
is($iout, $help, 'installed pgpart --help is that of the build under test');
my @differ;
for my $k (sort keys %help_of)
{
	my @w = split / /, $k;
	my ($a_rc, $a_out) = run_cmd([ $ibin, @w, '--help' ]);
	my (undef, $b_out) = PgpartTest::run_raw(@w, '--help');
	push @differ, $k if $a_rc != 0 || $a_out ne $b_out;
}
is("@differ", '', 'installed pgpart COMMAND --help: the same texts');

for my $unit (qw(pgpart.service pgpart-once.service))
{
	my $text = slurp("$root/usr/share/pgpart/systemd/$unit");
	like($text, qr{^ExecStart=/usr/bin/pgpart run\b}m, "$unit runs /usr/bin/pgpart");
	like($text, qr{^User=pgpart$}m, "$unit runs as the user postinst creates");
	unlike($text, qr{ contrib/}, "$unit: its comments name the installed folder, not contrib/");
}
my $completion = "$root/usr/share/bash-completion/completions/pgpart";
is(slurp($completion), slurp("$top/contrib/bash-completion/pgpart"), 'the completion installed is contrib/bash-completion/pgpart');

# ---- man pages: render, no groff warning, the version
my %man_text;
for my $page (@man_pages)
{
	my $gz = "$root/usr/share/man/man1/$page.1.gz";
	($rc, my $src) = run_cmd([ 'gzip', '-dc', $gz ]);
	is($rc, 0, "$page.1.gz decompresses");
	($rc, my $out, $err) = run_cmd([ 'groff', '-ww', '-man', '-Tutf8', '-z' ], in => $src);
	is($rc, 0, "groff -ww -man $page.1: exit 0");
	is($err, '', "groff -ww -man $page.1: no warnings");
	local $ENV{MANWIDTH} = 80;
	local $ENV{MAN_DISABLE_SECCOMP} = 1;
	($rc, $out, $err) = run_cmd([ 'man', '-P', 'cat', '-l', $gz ]);
	is($rc, 0, "man -l $page.1.gz: exit 0") or diag($err);
	like($out, qr/^NAME\n\s+\Q$page\E - /m, "man -l $page.1.gz: the NAME section");
	for my $section ('SYNOPSIS', 'DESCRIPTION', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES', 'SEE ALSO')
	{
		like($out, qr/^\Q$section\E$/m, "$page(1) has $section");
	}
	like($src, qr/^\.TH \S+ 1 \S+ "pgpart \Q$version\E"/m, "$page(1) is of pgpart $version");
	# the source, as the words a reader sees
	(my $t = $src) =~ s/^\.\\".*\n//mg;
	$t =~ s/\\f[BIRP]|\\f\(\w\w|\\&//g;
	$t =~ s/\\-/-/g;
	$t =~ s/\\\(aq/'/g;
	$t =~ s/\\\(dq/"/g;
	$t =~ s/\\\(ti/~/g;
	$t =~ s/\\~/ /g;
	$t =~ s/\\e/\\/g;
	$man_text{$page} = $t;
}
like($man_text{pgpart}, qr/PGHOST/, 'pgpart(1) names the PG* variables');
like($man_text{pgpart}, qr/AWS_ACCESS_KEY_ID/, 'pgpart(1) names the AWS_* variables');
like($man_text{'pgpart-archive'}, qr/AWS_SECRET_ACCESS_KEY/, 'pgpart-archive(1) names the S3 credentials');
for my $code (0 .. 3)
{
	like($man_text{pgpart}, qr/^\.TP\n\.B $code\n/m, "pgpart(1) EXIT STATUS explains $code");
}

# the page that describes each command
my %page_of = map { $_ => 'pgpart' } @commands;
$page_of{migrate} = 'pgpart-migrate';
$page_of{$_} = 'pgpart-rollup' for qw(rollup report);
$page_of{$_} = 'pgpart-archive' for qw(policy move archive restore remote);
$page_of{$_} = 'pgpart-run' for qw(run metrics);

sub has_option { my ($text, $o) = @_; return $text =~ /(?<![\w-])\Q$o\E(?![\w-])/ }

my @missing_man;
for my $o (sort keys %$global)
{
	push @missing_man, "pgpart(1): $o" unless has_option($man_text{pgpart}, $o);
}
for my $k (sort keys %help_of)
{
	my ($cmd) = split / /, $k;
	my $page = $page_of{$cmd};
	for my $o (sort keys %{ $help_of{$k} })
	{
		next if exists $global->{$o} && !has_option($man_text{$page}, $o) && has_option($man_text{pgpart}, $o);
		push @missing_man, "$page(1): $k $o" unless has_option($man_text{$page}, $o);
	}
	for my $sub (@{ $subs_of{$cmd} })
	{
		push @missing_man, "$page(1): subcommand $cmd $sub" unless $man_text{$page} =~ /\b\Q$cmd\E\b.*\b\Q$sub\E\b/s;
	}
	my ($commands_section) = $man_text{pgpart} =~ /^\.SH COMMANDS\n(.*?)^\.SH /ms;
	push @missing_man, "pgpart(1): command $cmd" unless has_option($commands_section // '', $cmd);
}
is(join("\n", @missing_man), '', 'every option of every --help is in the man pages');
my %man_only;
for my $page (@man_pages)
{
	# in the examples, only pgpart's command lines (not systemctl's)
	(my $t = $man_text{$page}) =~ s{^\.EX\n(.*?)^\.EE\n}{join('', grep { /^(?:pgpart|\s)/ } split(/^/m, $1))}gmse;
	while ($t =~ /(?<![\w-])(--[a-z][a-z0-9-]*)/g)
	{
		$man_only{"$page(1): $1"} = 1 unless exists $all_help{$1};
	}
}
is(join("\n", sort keys %man_only), '', 'every option in the man pages is in a --help');

# ---- the completion: ask its own functions
sub completion_query
{
	my ($script) = @_;
	my ($crc, $out, $cerr) = run_cmd([ 'bash', '--norc', '--noprofile', '-c',
		". '$completion' && $script" ]);
	is($cerr, '', 'the completion loads without a message') if $cerr ne '';
	return $crc == 0 ? $out : undef;
}
my $comp_commands = completion_query('echo $_pgpart_commands');
is(join(' ', sort split ' ', $comp_commands // ''), join(' ', sort @commands), 'the completion has every command, and no other');
my %comp_value = map { $_ => 1 } split ' ', completion_query('echo $_pgpart_with_value') // '';
my %comp_common = map { $_ => 1 } split ' ', completion_query('echo $_pgpart_common --version') // '';
is(join(' ', sort keys %comp_common), join(' ', sort keys %$global), 'the completion: the options of pgpart itself');

my (@missing_comp, @comp_only, @value_wrong);
for my $cmd (@commands)
{
	my $subs = completion_query("_pgpart_subcommands $cmd") // '';
	is(join(' ', sort split ' ', $subs), join(' ', @{ $subs_of{$cmd} }), "the completion: the subcommands of $cmd");
	# a help text may describe all subcommands (migrate): its options must be
	# offered for one of them, and each subcommand's only from its help
	my @keys = grep { $_ eq $cmd || /^\Q$cmd\E / } sort keys %help_of;
	my (%comp_of, %comp_any);
	for my $k (@keys)
	{
		my (undef, $sub) = split / /, $k;
		$comp_of{$k} = { map { $_ => 1 } split(' ', completion_query("_pgpart_options $cmd " . ($sub // '')) // ''),
			grep { $_ ne '--version' } keys %comp_common };
		%comp_any = (%comp_any, %{ $comp_of{$k} });
	}
	for my $k (@keys)
	{
		my $h = $help_of{$k};
		push @missing_comp, "$k: $_" for grep { !$comp_any{$_} } sort keys %$h;
		push @comp_only, "$k: $_" for grep { !exists $h->{$_} } sort keys %{ $comp_of{$k} };
		for my $o (sort keys %$h)
		{
			push @value_wrong, "$k: $o " . ($h->{$o} ? 'takes a value' : 'takes none')
			  if !!$h->{$o} != !!$comp_value{$o};
		}
	}
}
is(join("\n", @missing_comp), '', 'every option of every --help is in the completion');
is(join("\n", @comp_only), '', 'every option the completion offers is in that --help');
is(join("\n", @value_wrong), '', 'the completion knows which options take a value');

# the completion at work, as bash-completion runs it
if (-r '/usr/share/bash-completion/bash_completion')
{
	my $t = <<'EOS';
. /usr/share/bash-completion/bash_completion
. "$1"
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _pgpart; echo "${COMPREPLY[*]}"; }
complete -p pgpart
t pgpart mig
t pgpart -d app migrate ''
t pgpart migrate backfill revenues --ba
t pgpart create revenues --interval ''
t pgpart --vers
EOS
	($rc, my $out, $err) = run_cmd([ 'bash', '--norc', '--noprofile', '-c', $t, 'bash', $completion ]);
	my @l = split /\n/, $out;
	like($l[0] // '', qr/^complete -F _pgpart pgpart$/, 'the completion registers for pgpart');
	is($l[1], 'migrate', 'completes a command');
	is($l[2], 'plan start backfill verify switch finish rollback status limits batch-sql', 'completes subcommands after a global option');
	is($l[3], '--batch-size --batch-time', "completes a subcommand's options");
	is($l[4], 'day week month quarter year', "completes an option's values");
	is($l[5], '--version', "completes pgpart's own options");
}

# ---- lintian: no errors
my $lintian = slurp("$top/build/deb/lintian.txt");
my @errors = grep { /^E: / } split /\n/, $lintian;
is(join("\n", @errors), '', 'lintian reports no errors');
note("lintian:\n$lintian");

# ---- make install + make uninstall with DESTDIR and PREFIX=/usr
my @installed = split /\n/, slurp("$top/build/install-test/installed.txt");
for my $f ('./usr/bin/pgpart', (map { "./usr/share/man/man1/$_.1" } @man_pages),
	'./usr/share/bash-completion/completions/pgpart', './usr/share/pgpart/systemd/pgpart.service',
	'./usr/share/pgpart/prometheus/pgpart-alerts.yml', './usr/share/pgpart/grafana/pgpart-dashboard.json')
{
	ok((grep { $_ eq $f } @installed), "make install DESTDIR=... PREFIX=/usr installs $f");
}
is(slurp("$top/build/install-test/left.txt"), '', 'make uninstall leaves no file, and no folder of pgpart, behind');

done_testing();
