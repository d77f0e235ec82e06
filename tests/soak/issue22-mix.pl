# The mix of issue 22, as reported: 4 pgbench writers at a fixed rate insert
# (a fifth of the rows dated years ahead, into the default partition), move
# rows by +95 days and delete by id, each transaction writing the same change
# to a plain control table; two "pgpart run --every 3s" maintain the table.
# Kept to show the cause: with --isolation=read-committed (the reported
# writers) the control table diverges, with pgpart running or not; with
# --isolation=repeatable-read (the soak's writers) it does not.
#
#   tests/soak/run tests/soak/issue22-mix.pl [--seconds=90] [--no-pgpart]
#       [--isolation=read-committed|repeatable-read] [--burners=N] [--seed=N]
use strict;
use warnings;
use Getopt::Long;
use IPC::Run;
use PgpartTest;
use Test::More;

my %o = (seconds => 90, isolation => 'read-committed', burners => 0, seed => 22, rate => 300);
GetOptions(\%o, 'seconds=i', 'no-pgpart', 'isolation=s', 'burners=i', 'seed=i', 'rate=i', 'keep')
  or die "bad options\n";
my $dir = $ENV{TESTDIR};
note("issue22 mix: @{[ map { \"$_=$o{$_}\" } sort keys %o ]}");

my $node = new_cluster('mix22', conf => join("\n",
	"log_line_prefix = '%m [%p] %x/%v '", 'log_duration = on', 'autovacuum = off'));
seed_schema($node);
pgpart_ok($node, 'init', 'init');
psql_ok($node, q{ALTER DATABASE postgres SET timezone = 'UTC'; CREATE EXTENSION pageinspect});
my $start = psql_ok($node, q{SELECT (date_trunc('quarter', now()) - interval '2 years')::date});
pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', $start,
	'--premake', '2');
psql_ok($node, q{
	CREATE TABLE control (id bigint PRIMARY KEY, org_id bigint NOT NULL, property_id bigint NOT NULL,
		occurred_at timestamptz NOT NULL, amount numeric(14, 2) NOT NULL, status text NOT NULL,
		category text NOT NULL, description text, created_at timestamptz NOT NULL);
	WITH r AS (INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
		SELECT g % 1000, 1, now() - g * interval '1 hour', g, 'approved', 'rent' FROM generate_series(1, 2000) g
		RETURNING *)
	INSERT INTO control SELECT * FROM r;
});

my $iso = $o{isolation} eq 'repeatable-read' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ;' : 'BEGIN;';
my %sql = (
	insert => qq{\\set org random(1, 1000)
\\set fut random(1, 5)
\\set days random(0, 2000)
$iso
INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category)
  VALUES (:org, 1, CASE WHEN :fut = 1 THEN now() + interval '2 years' + :days * interval '1 day'
                        ELSE now() - :days * interval '4 hours' END, :org, 'approved', 'rent')
  RETURNING id \\gset
INSERT INTO control SELECT * FROM revenues WHERE id = :id;
END;
},
	update => qq{SELECT max(id) AS maxid FROM control \\gset
\\set id CASE WHEN random(0, 1) = 1 THEN :maxid - random(0, 20) ELSE random(1, :maxid) END
$iso
UPDATE revenues SET occurred_at = occurred_at + interval '95 days' WHERE id = :id;
UPDATE control SET occurred_at = occurred_at + interval '95 days' WHERE id = :id;
END;
},
	delete => qq{SELECT max(id) AS maxid FROM control \\gset
\\set id CASE WHEN random(0, 1) = 1 THEN :maxid - random(0, 20) ELSE random(1, :maxid) END
$iso
DELETE FROM revenues WHERE id = :id;
DELETE FROM control WHERE id = :id;
END;
});
my @files;
for my $k (sort keys %sql)
{
	open(my $fh, '>', "$dir/mix22_$k.sql") or die;
	print $fh $sql{$k};
	close $fh;
}
my @burn = map { IPC::Run::start([ 'sh', '-c', 'while :; do :; done' ]) } 1 .. $o{burners};
my @runs;
unless ($o{'no-pgpart'})
{
	for my $n (1 .. 2)
	{
		push @runs, IPC::Run::start([ $ENV{PGPART}, '-d', $node->connstr('postgres'), 'run', '--every', '3s',
				'--log-format', 'json' ], '<', \undef, '>', "$dir/mix22_run$n.log", '2>', "$dir/mix22_run$n.err");
	}
}
my ($bout, $berr) = ('', '');
IPC::Run::run([ 'pgbench', '-n', '-c', '4', '-j', '4', '-R', $o{rate}, '-T', $o{seconds},
		'--random-seed', $o{seed}, ($o{isolation} eq 'repeatable-read' ? ('--max-tries', '100') : ()),
		'-f', "$dir/mix22_insert.sql\@50", '-f', "$dir/mix22_update.sql\@25", '-f', "$dir/mix22_delete.sql\@25",
		$node->connstr('postgres') ], '>', \$bout, '2>', \$berr);
note($bout);
diag($berr) if $berr =~ /error|abort/i;
$_->signal('TERM') for @runs;
$_->finish for @runs;
$_->kill_kill for @burn;

my $moved = 0;
for my $n (1 .. @runs)
{
	open(my $fh, '<', "$dir/mix22_run$n.log") or next;
	while (<$fh>) { $moved += $1 if /(\d+) rows? moved/ }
}
note("pgpart run moved $moved rows out of the default partition");
my $diff = psql_ok($node, q{
	SELECT 'only_in_table', r.tableoid::regclass, r.xmin, r.xmax, r.ctid, r.* FROM revenues r
	  WHERE NOT EXISTS (SELECT FROM control c WHERE c.id = r.id AND c.occurred_at = r.occurred_at)
	UNION ALL
	SELECT 'only_in_control', 'control'::regclass, c.xmin, c.xmax, c.ctid, c.* FROM control c
	  WHERE NOT EXISTS (SELECT FROM revenues r WHERE c.id = r.id AND c.occurred_at = r.occurred_at)
	ORDER BY 6, 1});
my ($tx) = $bout =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $bout =~ /number of failed transactions: (\d+)/;
my ($retried) = $bout =~ /number of transactions retried: (\d+)/;
note("transactions $tx, failed " . ($failed // 0) . ", retried " . ($retried // 0));
is($diff, '', "table equals control ($o{isolation}, " . ($o{'no-pgpart'} ? 'no pgpart' : 'two pgpart run') . ')')
  or diag("differing rows:\n$diff\nserver log: " . $node->logfile);
if ($diff ne '')
{
	# the server's own account of every transaction that touched those ids
	for my $line (split /\n/, $diff)
	{
		my ($id) = (split /\|/, $line)[5];
		my $hist = psql_ok($node, qq{
			SELECT 'control page tuple', lp, t_xmin, t_xmax, t_ctid,
			  encode((tuple_data_split('control'::regclass, t_data, t_infomask, t_infomask2, t_bits))[1], 'hex')
			FROM generate_series(0, pg_relation_size('control') / 8192 - 1) b,
			     heap_page_items(get_raw_page('control', b::int))
			WHERE t_data IS NOT NULL
			  AND (tuple_data_split('control'::regclass, t_data, t_infomask, t_infomask2, t_bits))[1]
			      = int8send($id)});
		diag("id $id:\n$hist");
	}
}
done_testing();
