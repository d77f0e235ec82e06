# The code layout README.md's "Code layout" describes, kept true by a test:
# SQL text only in the SQL layer (src/pg/*.c and src/commands/*/*_sql.c), so
# every statement pgpart sends can be audited in one place per command;
# output on stdout only from the CLI (src/main.c, src/cli/, *_cli.c, and the
# --dry-run SQL that src/pg/conn.c prints); includes only downwards (core and
# util include nothing above them, pg and storage no command, an operation no
# CLI); and every file opens with a comment saying what it holds.
use strict;
use warnings;
use File::Find;
use Test::More;

my $src = "$ENV{TOP}/src";
my @files;
find(sub { push @files, $File::Find::name if /\.[ch]$/ }, $src);
@files = sort @files;
cmp_ok(scalar @files, '>', 50, 'the sources are there (' . scalar(@files) . ' files)');

sub rel { my ($f) = @_; (my $r = $f) =~ s{^\Q$src\E/}{}; return $r }

sub slurp { my ($f) = @_; open(my $fh, '<', $f) or die "$f: $!"; local $/; return <$fh> }

# the source with comments blanked (strings kept), so that a comment never counts
sub strip_comments
{
	my ($text) = @_;
	$text =~ s{("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|/\*.*?\*/|//[^\n]*}
		{ defined $1 ? $1 : (my $c = $&) =~ s/[^\n]/ /gr }gse;
	return $text;
}

# the text of every string literal of one statement, adjacent literals joined
sub statement_strings
{
	my ($stmt) = @_;
	my @lits = $stmt =~ /"((?:[^"\\\n]|\\.)*)"/g;
	return join('', @lits) =~ tr/\x01\x02\x03/;{}/r;
}

my $sql_re = qr/(?:^|[\s(])(?:SELECT|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|CREATE\s+(?:TABLE|INDEX|FUNCTION|OR|VIEW|TRIGGER|UNIQUE|SCHEMA|TEMP|SERVER|FOREIGN|EXTENSION)|ALTER\s+(?:TABLE|INDEX|FUNCTION|VIEW|SCHEMA|SEQUENCE|FOREIGN)|DROP\s+(?:TABLE|INDEX|FUNCTION|VIEW|TRIGGER|SCHEMA|SERVER|FOREIGN)|LOCK\s+TABLE|BEGIN\b|COMMIT\b|ROLLBACK\b|SAVEPOINT|RELEASE\s+SAVEPOINT|COPY\s+\S+\s+(?:\(|TO\b|FROM\b)|VACUUM\s|ANALYZE\s|REINDEX\s|GRANT\s+\w+\s+ON|REVOKE\s|COMMENT\s+ON|TRUNCATE\s|EXPLAIN\s|WITH\s+\w+\s+AS)|pg_catalog\.|\$[1-9]/;

# statements whose strings are messages for people, not SQL to run
my $message_re = qr/^\s*(?:(?:static\s+)?const\s+char\s+(?:\*\s*)?\w*(?:help|usage)\w*|err_(?:set|detail|hint|prefix)|cli_usage_error|log_\w+|note|namelist_add\w*|printf|fprintf|fputs|puts|snprintf|emit|report_\w+|warn)\b/;

sub sql_layer { my ($r) = @_; return $r =~ m{^pg/[^/]+\.c$} || $r =~ m{^commands/[^/]+/[^/]+_sql\.c$} }
sub cli_layer { my ($r) = @_; return $r eq 'main.c' || $r =~ m{^cli/} || $r =~ m{_cli\.c$} }

my (@sql, @printing, @uncommented, @upward);
for my $f (@files)
{
	my $r = rel($f);
	my $text = slurp($f);
	push @uncommented, $r unless $text =~ m{\A\s*/\*};
	my $code = strip_comments($text);

	if ($r =~ /\.c$/ && !sql_layer($r))
	{
		my $line = 1;
		# a ";" or brace inside a string literal (a help text) ends no statement
		(my $masked = $code) =~ s{'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"}
			{ substr($&, 0, 1) eq '"' ? $& =~ tr/;{}/\x01\x02\x03/r : $& }ge;
		for my $stmt (split /(?<=[;{}])/, $masked)
		{
			my $at = $line;
			$line += ($stmt =~ tr/\n//);
			next if $stmt =~ $message_re;
			my $s = statement_strings($stmt);
			push @sql, "$r:" . ($at + (($stmt =~ /^(\s*)/)[0] =~ tr/\n//)) . ": $s" if $s =~ $sql_re;
		}
	}
	if ($r =~ /\.c$/ && !cli_layer($r) && $r !~ m{^util/(?:log|progress)\.c$})
	{
		my $n = 0;
		for my $l (split /\n/, $code)
		{
			$n++;
			next if $r eq 'pg/conn.c' && $l =~ /printf\("%s;\\n", text\)/;    # --dry-run's SQL
			next if $r eq 'pg/conn.c' && $l =~ /printf\("-- %s\\n", note\)/;    # and its comments
			push @printing, "$r:$n: $l"
			  if $l =~ /\b(?:printf|puts|putchar)\s*\(/ || $l =~ /\bf(?:printf|puts|write)\s*\([^;]*\bstdout\b/;
		}
	}
	my $layer = $r =~ m{^(core|util|pg|storage|cli)/} ? $1 : $r =~ m{^commands/} ? 'commands' : 'main';
	for my $inc ($code =~ /^\s*#\s*include\s+"([^"]+)"/mg)
	{
		my $bad = ($layer eq 'util' && $inc !~ m{^util/})
		  || ($layer eq 'core' && $inc !~ m{^(?:core|util)/})
		  || (($layer eq 'pg' || $layer eq 'storage') && $inc =~ m{^(?:commands|cli)/})
		  || ($layer eq 'commands' && !cli_layer($r) && $inc =~ m{^cli/} && $r !~ /\.h$/)
		  || ($layer eq 'cli' && $inc =~ m{^commands/});
		push @upward, "$r includes $inc" if $bad;
	}
}

is(scalar @sql, 0, 'SQL text only in src/pg/*.c and src/commands/*/*_sql.c')
  or diag(join("\n", 'SQL outside the SQL layer:', @sql[ 0 .. ($#sql > 40 && !$ENV{LAYOUT_ALL} ? 40 : $#sql) ],
	@sql > 41 && !$ENV{LAYOUT_ALL} ? ('... ' . (@sql - 41) . ' more') : ()));
is(scalar @printing, 0, 'only the CLI writes to stdout') or diag(join("\n", @printing));
is(scalar @uncommented, 0, 'every file opens with a comment') or diag(join("\n", @uncommented));
is(scalar @upward, 0, 'includes point downwards only') or diag(join("\n", @upward));

done_testing();
