# PgpartTest.pm - what the integration tests share: a private cluster (from
# PostgreSQL's own PostgreSQL::Test::Cluster), running the pgpart binary under
# test, and content checksums of tables.
package PgpartTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(new_cluster pgpart pgpart_ok pgpart_fails table_fingerprint psql_ok
  seed_schema connstr_as psql_as create_owner_role new_standby citus_missing new_citus_cluster
  new_tcp_cluster);

# The role pgpart connects as; undef: the cluster's bootstrap superuser.
# "local $PgpartTest::ROLE = 'app_owner';" runs the commands of a block as
# that role, as production runs them on managed PostgreSQL.
our $ROLE;

my $bin = $ENV{PGPART} || die "PGPART (the pgpart binary to test) is not set\n";

# A fresh cluster, started, with settings that make tests fast and show
# every statement in the log.
sub new_cluster
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name || 'main');
	# allows_streaming: wal_level replica and WAL senders, for new_standby
	$node->init(allows_streaming => $opts{allows_streaming} ? 1 : 0);
	$node->append_conf('postgresql.conf', join("\n",
		'fsync = off', 'synchronous_commit = off', 'full_page_writes = off',
		'log_statement = all', 'log_lock_waits = on', 'deadlock_timeout = 100ms',
		'max_prepared_transactions = 5', 'max_connections = 50',
		($opts{conf} ? $opts{conf} : ())));
	$node->start;
	return $node;
}

# A streaming standby of $primary (made with new_cluster(..., allows_streaming
# => 1)), started from a fresh base backup and caught up.  It reports its
# replay position every second, so the primary's pg_stat_replication follows
# a paused replay quickly.
sub new_standby
{
	my ($primary, $name) = @_;
	$name ||= 'standby';
	$primary->backup("${name}_backup");
	my $standby = PostgreSQL::Test::Cluster->new($name);
	$standby->init_from_backup($primary, "${name}_backup", has_streaming => 1);
	$standby->append_conf('postgresql.conf', join("\n",
		'fsync = off', 'wal_receiver_status_interval = 1s', 'hot_standby = on'));
	$standby->start;
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	return $standby;
}

# A cluster reached on 127.0.0.1 over TCP with scram-sha-256 passwords (its
# Unix socket stays trusted, for the test's own psql): the remote server of a
# postgres_fdw user mapping, which a role that is not a superuser may use only
# when the remote asks for a password.  Returns the node; $node->port is its
# TCP port.
sub new_tcp_cluster
{
	my ($name) = @_;
	my $node = new_cluster($name,
		conf => join("\n", "listen_addresses = '127.0.0.1'", "password_encryption = 'scram-sha-256'"));
	open(my $hba, '>', $node->data_dir . '/pg_hba.conf') or die "pg_hba.conf: $!";
	print $hba "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n";
	close($hba);
	$node->reload;
	return $node;
}

# Why the Citus tests cannot run here (undef: they can): Citus 13.2 must be
# installed in this PostgreSQL ("make check" runs scripts/install-deps, which
# builds it as root with ../shared/citus/build.sh and logs to build/citus-build.log).
sub citus_missing
{
	my ($sharedir) = qx{pg_config --sharedir} =~ /(\S+)/;
	my ($pkglibdir) = qx{pg_config --pkglibdir} =~ /(\S+)/;
	my $control = "$sharedir/extension/citus.control";
	return undef
	  if -f $control && -f "$pkglibdir/citus.so"
	  && PostgreSQL::Test::Utils::slurp_file($control) =~ /default_version = '13\.2/;
	my $log = "$ENV{TOP}/build/citus-build.log";
	my $why = -r $log ? PostgreSQL::Test::Utils::slurp_file($log) : "no build log ($log)";
	$why =~ s/\s+$//;
	my @tail = (split /\n/, $why)[-3 .. -1];
	return "Citus 13.2 is not installed in this PostgreSQL (scripts/install-deps check "
	  . "builds it with ../shared/citus/build.sh as root): "
	  . join(' / ', grep { defined } @tail);
}

# A Citus cluster of three private servers on loopback TCP: a coordinator and
# two workers, each started like new_cluster's with citus preloaded and
# the extension created, the workers added to the coordinator.  Returns
# ($coordinator, $worker1, $worker2); all stop when the test ends, as every
# node of PostgreSQL::Test::Cluster does.
sub new_citus_cluster
{
	my ($name) = @_;
	$name ||= 'citus';
	# the nodes reach each other on 127.0.0.1 (trust, as initdb -A trust
	# allows), without TLS: Citus would otherwise ask for it between nodes
	my $conf = join("\n", "shared_preload_libraries = 'citus'", "listen_addresses = '127.0.0.1'",
		"citus.node_conninfo = 'sslmode=disable'", 'max_worker_processes = 16',
		'citus.log_remote_commands = off');
	my @nodes = map { new_cluster("${name}_$_", conf => $conf) } qw(coordinator worker1 worker2);
	$_->safe_psql('postgres', 'CREATE EXTENSION citus') for @nodes;
	my ($coord, @workers) = @nodes;
	my $sql = sprintf("SELECT pg_catalog.citus_set_coordinator_host('127.0.0.1', %d);\n", $coord->port);
	$sql .= sprintf("SELECT 1 FROM pg_catalog.citus_add_node('127.0.0.1', %d);\n", $_->port) for @workers;
	$coord->safe_psql('postgres', $sql);
	return @nodes;
}

# Runs pgpart against the node; returns (exit code, stdout, stderr).
sub pgpart
{
	my ($node, @args) = @_;
	my ($out, $err) = ('', '');
	my @cmd = ($bin, '-d', connstr_as($node, $ROLE), @args);
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note("pgpart @args -> $rc\n$out$err");
	return ($rc, $out, $err);
}

# Runs pgpart with exactly these arguments (no -d added).
sub run_raw
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $bin, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# pgpart must succeed; returns stdout.
sub pgpart_ok
{
	my ($node, $name, @args) = @_;
	my ($rc, $out, $err) = pgpart($node, @args);
	is($rc, 0, $name) or diag("stdout: $out\nstderr: $err");
	return $out;
}

# pgpart must fail with the given exit code and an error matching $re.
sub pgpart_fails
{
	my ($node, $name, $want_rc, $re, @args) = @_;
	my ($rc, $out, $err) = pgpart($node, @args);
	is($rc, $want_rc, "$name: exit code $want_rc") or diag("stdout: $out\nstderr: $err");
	like($err, $re, "$name: message");
	# one clear error line, no stack of messages
	my @errors = ($err =~ /^pgpart: error:/mg);
	is(scalar @errors, 1, "$name: exactly one error line");
	return $err;
}

sub psql_ok
{
	my ($node, $sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# The connection string of database postgres, as $role (undef: the superuser).
sub connstr_as
{
	my ($node, $role) = @_;
	my $c = $node->connstr('postgres');
	$c .= " user='$role'" if defined $role;
	return $c;
}

# psql as a role; dies on error, returns stdout.
sub psql_as
{
	my ($node, $role, $sql) = @_;
	return $node->safe_psql('postgres', $sql, extra_params => [ '-U', $role ]);
}

# A non-superuser that owns the application's tables, the normal set-up on
# managed PostgreSQL: LOGIN, CREATE on the database (for "pgpart init") and
# on schema public (revoked from PUBLIC since PostgreSQL 15).
sub create_owner_role
{
	my ($node, $role) = @_;
	$role //= 'app_owner';
	psql_ok($node, qq{CREATE ROLE "$role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
		GRANT CREATE ON DATABASE postgres TO "$role";
		GRANT CREATE ON SCHEMA public TO "$role";});
	return $role;
}

# Row count and an order-independent checksum of every row of a table
# (the whole row as text, so any changed value changes it).
sub table_fingerprint
{
	my ($node, $table) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) || ' ' || coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0) FROM $table t");
}

# The seed plan's tables, empty, in schema public, owned by $role (default:
# $ROLE, else the superuser).
sub seed_schema
{
	my ($node, $role) = @_;
	my $file = "$ENV{TOP}/scripts/seed-schema.sql";
	$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d',
			connstr_as($node, $role // $ROLE), '-f', $file ], 'load seed schema');
}

1;
