# Least privilege (issue 14, docs/security.md): every command run as a
# non-superuser table owner; report, status, metrics, archive list and
# migrate status as a reporting and a monitoring role holding exactly the
# grants the documentation gives, which cannot write; the attacks of the
# security review, each now without effect: a trigger function of pgpart
# attached to a temporary table with an implicit cast of the attacker's (and
# the guard that refuses it even when EXECUTE is granted back), the TRUNCATE
# of a migration's copy, the squatted leader lock, a --where crafted to
# comment out the refresh's bucket restriction; the upgrade of a schema made
# by version 4 (PUBLIC EXECUTE, unguarded functions, a --where stored as
# text, type text in key_types, a function owned by a superuser); and
# functions made by a superuser for a table it does not own.
use strict;
use warnings;
use JSON::PP;
use PgpartTest;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Path qw(make_path);

my $node = new_cluster('privileges');
my $super = psql_ok($node, 'SELECT current_user');
create_owner_role($node);
my $base = PostgreSQL::Test::Utils::tempdir();
make_path("$base/arch", "$base/ts");
my $url = "file://$base/arch";
psql_ok($node, qq{
	CREATE TABLESPACE warm LOCATION '$base/ts';
	GRANT CREATE ON TABLESPACE warm TO app_owner;
	CREATE ROLE app_writer LOGIN;
	CREATE ROLE reporting LOGIN;
	CREATE ROLE monitoring LOGIN;
	CREATE ROLE intruder LOGIN;
	CREATE ROLE nobody LOGIN;
	CREATE SCHEMA intruder AUTHORIZATION intruder;
	CREATE DATABASE other;
});
my $orders = q{"Sales Dept"."Order ""Lines"""};
{
	local $PgpartTest::ROLE = 'app_owner';
	seed_schema($node);
}
psql_as($node, 'app_owner', qq{
	CREATE SCHEMA "Sales Dept";
	CREATE TABLE $orders (id bigint, "Placed At" timestamptz NOT NULL, amount numeric NOT NULL,
		PRIMARY KEY (id, "Placed At"));
	INSERT INTO $orders SELECT g, timestamptz '2025-01-01' + g * interval '3 hours', g FROM generate_series(1, 3000) g;
	GRANT USAGE ON SCHEMA public, "Sales Dept" TO app_writer;
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, "Sales Dept" TO app_writer;
});

# the application writes as a role with rights on its tables only: no EXECUTE on
# any pgpart function, no right in schema pgpart
sub write_as_app
{
	my ($sql) = @_;
	return psql_as($node, 'app_writer', $sql);
}

# one-row-per-bucket-and-org comparison of a summary with the detail rows it summarises
sub summary_matches
{
	my ($summary, $where) = @_;
	return psql_ok($node, qq{
		SELECT count(*) FROM (
		  (SELECT bucket, org_id, sum(count) AS n, sum(sum_amount) AS s FROM $summary GROUP BY 1, 2
		   EXCEPT
		   SELECT (occurred_at AT TIME ZONE 'UTC')::date, org_id, count(*), sum(amount) FROM revenues
		   WHERE $where GROUP BY 1, 2)
		  UNION ALL
		  (SELECT (occurred_at AT TIME ZONE 'UTC')::date, org_id, count(*), sum(amount) FROM revenues
		   WHERE $where GROUP BY 1, 2
		   EXCEPT
		   SELECT bucket, org_id, sum(count), sum(sum_amount) FROM $summary GROUP BY 1, 2)) d});
}

my ($rc, $out, $err);
my $rid; # the filtered rollup's id (refused ones used up some)

# ---- every command as the table owner (not a superuser)
{
	local $PgpartTest::ROLE = 'app_owner';
	like(pgpart_ok($node, 'init as the owner', 'init'), qr/created pgpart schema \(version 11\)/,
		'init needs only CREATE on the database');
	pgpart_ok($node, 'create', 'create', 'revenues', '--column', 'occurred_at', '--start', '2025-01-01',
		'--premake', '1');
	write_as_app(q{INSERT INTO revenues (org_id, property_id, occurred_at, amount, status)
		SELECT g % 5, 1, timestamptz '2025-01-01' + g * interval '90 minutes', g % 97,
		  CASE WHEN g % 3 = 0 THEN 'approved' ELSE 'pending' END FROM generate_series(1, 4000) g});
	pgpart_ok($node, 'index add', 'index', 'add', 'revenues', '--name', 'revenues_org', '(org_id, occurred_at)');
	pgpart_ok($node, 'maintain', 'maintain');
	like(pgpart_ok($node, 'status', 'status', 'revenues'), qr/revenues_2025_q1/, 'status as the owner');
	like(pgpart_ok($node, 'metrics', 'metrics'), qr/^pgpart_/m, 'metrics as the owner');
	pgpart_ok($node, 'policy', 'policy', 'revenues', '--warm-after', '1 quarter', '--warm-tablespace', 'warm');
	pgpart_ok($node, 'rollup add', 'rollup', 'add', 'revenues', '--name', 'revenues_daily', '--grain', 'day',
		'--group-by', 'org_id, status', '--measures', 'sum(amount), count(*)');

	# (d) --where: the crafted value that commented out the bucket restriction, and friends
	for my $case (
		[ q{status = 'approved') OR true --}, qr/closing parenthesis has no opening one/ ],
		[ q{status = 'approved' --}, qr/comments are not allowed/ ],
		[ q{true) OR (true}, qr/closing parenthesis has no opening one/ ],
		[ q{status = 'approved'; DROP TABLE revenues}, qr/semicolon is not allowed/ ],
		[ q{amount > (SELECT 0)}, qr/cannot use subquery/ ],
		[ q{occurred_at < now()}, qr/not immutable/ ],
		[ q{amount}, qr/type boolean/ ],
		[ q{count(*) > 1}, qr/aggregate functions are not allowed/ ])
	{
		my ($where, $re) = @$case;
		pgpart_fails($node, "--where $where", 2, qr/invalid --where .*$re/s, 'rollup', 'add', 'revenues',
			'--name', 'bad_where', '--grain', 'day', '--group-by', 'org_id', '--measures', 'count(*)',
			'--where', $where);
	}
	psql_as($node, 'app_owner', q{CREATE FUNCTION public.big(numeric) RETURNS boolean IMMUTABLE
		LANGUAGE sql AS 'SELECT $1 > 10'});
	pgpart_fails($node, '--where with a function of a user', 2, qr/uses function public\.big\(numeric\)/,
		'rollup', 'add', 'revenues', '--name', 'bad_where', '--grain', 'day', '--group-by', 'org_id',
		'--measures', 'count(*)', '--where', 'public.big(amount)');
	is(psql_ok($node, q{SELECT count(*) FROM pg_class WHERE relname LIKE 'bad_where%'}) .
		psql_ok($node, q{SELECT count(*) FROM pgpart.rollup}), '01', 'a refused --where leaves nothing behind');
	my $add = pgpart_ok($node, 'rollup add --where', 'rollup', 'add', 'revenues', '--name', 'revenues_approved',
		'--grain', 'day', '--group-by', 'org_id', '--measures', 'sum(amount), count(*)',
		'--where', q{status = 'approved' AND amount >= 0});
	like($add, qr/where \(\(status = 'approved'::text\) AND \(amount >= \(0\)::numeric\)\)/,
		'the --where shown is PostgreSQL\'s own text of it');
	$rid = psql_ok($node, q{SELECT id FROM pgpart.rollup WHERE summary = 'revenues_approved'::regclass});
	is(psql_ok($node, qq{SELECT pg_get_function_sqlbody('pgpart.rollup_${rid}_filter(numeric, text)'::regprocedure) ~ 'RETURN'}),
		't', 'kept as a SQL-standard function of the two columns it reads');
	write_as_app(q{INSERT INTO revenues (org_id, property_id, occurred_at, amount, status)
		SELECT g % 5, 2, timestamptz '2025-02-01' + g * interval '7 hours', 3, 'approved' FROM generate_series(1, 200) g;
		UPDATE revenues SET status = 'approved' WHERE id % 10 = 1 AND occurred_at < '2025-03-01';
		DELETE FROM revenues WHERE id % 17 = 0 AND occurred_at < '2025-03-01'});
	# what the refresh runs names the function, never the text
	my ($rrc, undef, $rerr) = pgpart($node, '-v', '-v', 'rollup', 'refresh', '--name', 'revenues_approved');
	is($rrc, 0, 'refresh of the filtered rollup');
	like($rerr, qr/INSERT INTO .* AND pgpart\."rollup_${rid}_filter"\(s\."amount", s\."status"\)/,
		'the refresh calls the function');
	unlike($rerr, qr/status = 'approved'/, 'and never pastes the expression');
	pgpart_ok($node, 'rollup refresh', 'rollup', 'refresh');
	is(summary_matches('revenues_approved', q{status = 'approved' AND amount >= 0}), '0',
		'the filtered summary equals the detail rows after writes and a refresh');
	is(summary_matches('revenues_daily', 'true'), '0', 'and the unfiltered one');
	like(pgpart_ok($node, 'report', 'report', 'yearly', 'revenues', '--org', '1', '--year', '2025'),
		qr/2025-01/, 'report as the owner');
	for my $cmd (qw(vacuum analyze reindex))
	{
		pgpart_ok($node, "$cmd -j 2", $cmd, 'revenues', '-j', '2');
	}
	($rc, $out, $err) = pgpart($node, 'run', '--once');
	is($rc, 0, 'run --once as the owner') or diag($err);
	like($out, qr/leader: ok/, 'it takes the leader lock');
	pgpart_ok($node, 'move', 'move', 'revenues', 'revenues_2025_q1', '--tablespace', 'warm');
	is(psql_ok($node, q{SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace
		WHERE c.relname = 'revenues_2025_q1'}), 'warm', 'moved with CREATE on the tablespace only');
	my $q2 = table_fingerprint($node, 'revenues_2025_q2');
	my $arch = pgpart_ok($node, 'archive', 'archive', 'revenues', 'revenues_2025_q2', '--to', $url);
	my ($manifest) = $arch =~ m{(file://\S+\.manifest\.json)};
	like(pgpart_ok($node, 'archive list', 'archive', 'list', $url), qr/revenues_2025_q2/, 'archive list');
	pgpart_ok($node, 'restore', 'restore', 'revenues', '--from', $manifest);
	is(table_fingerprint($node, 'revenues_2025_q2'), $q2, 'archive and restore as the owner keep every row');

	# an online migration of a table whose schema and name need quoting
	pgpart_ok($node, 'migrate plan', 'migrate', 'plan', $orders, '--column', 'Placed At');
	pgpart_ok($node, 'migrate start', 'migrate', 'start', $orders, '--column', 'Placed At', '--start', '2025-01-01');
	write_as_app(qq{INSERT INTO $orders VALUES (100000, '2025-03-03', 1); UPDATE $orders SET amount = 0 WHERE id = 5;
		DELETE FROM $orders WHERE id = 6});
	pgpart_ok($node, 'migrate backfill', 'migrate', 'backfill', $orders);
}

# (b) the TRUNCATE of the migration's copy from an intruder's own trigger
psql_ok($node, 'GRANT USAGE ON SCHEMA pgpart TO intruder');
my $mid = psql_ok($node, q{SELECT id FROM pgpart.migration WHERE phase = 'backfilled'});
my $shadow = psql_ok($node, qq{SELECT shadow::regclass::text FROM pgpart.migration WHERE id = $mid});
my $copied = psql_ok($node, "SELECT count(*) FROM $shadow");
is($copied, psql_ok($node, "SELECT count(*) FROM $orders"), "the copy has every row ($copied)");
my ($trc, undef, $terr) = $node->psql('postgres', qq{CREATE TEMP TABLE bait (id int);
	CREATE TRIGGER t AFTER TRUNCATE ON bait FOR EACH STATEMENT EXECUTE FUNCTION pgpart."migration_${mid}_forward_truncate"();},
	extra_params => [ '-U', 'intruder' ]);
like($terr, qr/permission denied for function pgpart\.migration_${mid}_forward_truncate/,
	'a role with USAGE on schema pgpart cannot attach the TRUNCATE function');
psql_ok($node, qq{GRANT EXECUTE ON FUNCTION pgpart."migration_${mid}_forward_truncate"() TO PUBLIC});
($trc, undef, $terr) = $node->psql('postgres', qq{CREATE TEMP TABLE bait (id int);
	CREATE TRIGGER t AFTER TRUNCATE ON bait FOR EACH STATEMENT EXECUTE FUNCTION pgpart."migration_${mid}_forward_truncate"();
	TRUNCATE bait;}, extra_params => [ '-U', 'intruder' ]);
like($terr, qr/refuses to run for bait \(trigger t\)/, 'with EXECUTE granted back (version 4), the function refuses other tables');
psql_ok($node, qq{REVOKE ALL ON FUNCTION pgpart."migration_${mid}_forward_truncate"() FROM PUBLIC});
is(psql_ok($node, "SELECT count(*) FROM $shadow"), $copied, 'the copy is not emptied');
{
	local $PgpartTest::ROLE = 'app_owner';
	like(pgpart_ok($node, 'migrate verify', 'migrate', 'verify', $orders), qr/result\s+equal/, 'verify: equal');
	pgpart_ok($node, 'migrate switch', 'migrate', 'switch', $orders);
	write_as_app(qq{INSERT INTO $orders VALUES (100001, '2025-04-04', 2); UPDATE $orders SET amount = 7 WHERE id = 7});
	my $after = table_fingerprint($node, $orders);
	pgpart_ok($node, 'migrate rollback', 'migrate', 'rollback', $orders);
	is(table_fingerprint($node, $orders), $after, 'rollback after switch keeps the writes');
	pgpart_ok($node, 'migrate switch again', 'migrate', 'switch', $orders);
	like(pgpart_ok($node, 'migrate verify after switch', 'migrate', 'verify', $orders), qr/result\s+equal/,
		'verify after switch: equal');
	pgpart_ok($node, 'migrate finish', 'migrate', 'finish', $orders);
	is(table_fingerprint($node, $orders), $after, 'migrated online as the owner, quoted names, no row lost');
}

# ---- the read-only roles, with exactly the grants of docs/security.md
psql_ok($node, q{
	GRANT USAGE ON SCHEMA pgpart TO reporting;
	GRANT SELECT ON ALL TABLES IN SCHEMA pgpart TO reporting;
	GRANT USAGE ON SCHEMA public TO reporting;
	GRANT SELECT ON public.revenues, public.revenues_default TO reporting;
	GRANT SELECT ON public.revenues_daily, public.revenues_approved TO reporting;
	GRANT USAGE ON SCHEMA pgpart TO monitoring;
	GRANT SELECT ON ALL TABLES IN SCHEMA pgpart TO monitoring;
});
{
	# each managed table's schema needs USAGE (public has it for PUBLIC), and its default
	# partition SELECT (status counts the rows waiting there)
	local $PgpartTest::ROLE = 'monitoring';
	pgpart_fails($node, 'metrics without USAGE on a managed table\'s schema', 1,
		qr/permission denied for schema Sales Dept/, 'metrics');
}
psql_ok($node, q{GRANT USAGE ON SCHEMA "Sales Dept" TO reporting, monitoring;
	GRANT SELECT ON public.revenues_default, "Sales Dept"."Order ""Lines""_default" TO monitoring;
	GRANT SELECT ON "Sales Dept"."Order ""Lines""_default" TO reporting});
{
	local $PgpartTest::ROLE = 'reporting';
	like(pgpart_ok($node, 'report as reporting', 'report', 'yearly', 'revenues', '--org', '1', '--year', '2025'),
		qr/2025-01/, 'report reads as the reporting role');
	like(pgpart_ok($node, 'status as reporting', 'status', 'revenues'), qr/revenues_2025_q1/, 'status');
	like(pgpart_ok($node, 'rollup status as reporting', 'rollup', 'status'), qr/revenues_approved/, 'rollup status');
	like(pgpart_ok($node, 'migrate status as reporting', 'migrate', 'status', $orders), qr/finished/, 'migrate status');
	like(pgpart_ok($node, 'archive list as reporting', 'archive', 'list', $url), qr/revenues_2025_q2/,
		'archive list (no database rights at all)');
	pgpart_fails($node, 'reporting cannot maintain', 1, qr/maintenance failed/, 'maintain', 'revenues');
	pgpart_fails($node, 'reporting cannot refresh', 1, qr/permission denied|must be owner/, 'rollup', 'refresh');
	pgpart_fails($node, 'reporting cannot lead', 1, qr/could not take the leader lock: permission denied for view scheduler_leader/,
		'run', '--once');
}
my ($wrc, undef, $werr) = $node->psql('postgres', q{INSERT INTO pgpart.part_config VALUES ('revenues', 'x', 'day', '2025-01-01', 1)},
	extra_params => [ '-U', 'reporting' ]);
like($werr, qr/permission denied for table part_config/, 'reporting cannot write pgpart\'s tables');
{
	local $PgpartTest::ROLE = 'monitoring';
	like(pgpart_ok($node, 'metrics as monitoring', 'metrics'), qr/^pgpart_partitions\{/m, 'metrics as the monitoring role');
	pgpart_fails($node, 'monitoring reads no detail rows', 1, qr/permission denied for table revenues/, 'report',
		'daily', 'revenues', '--org', '1', '--date', '2025-01-02', '--source', 'detail');
}

# ---- (a) a pgpart trigger function on a temporary table, with an implicit cast of one's own
psql_as($node, 'intruder', q{
	CREATE TABLE intruder.ran (at timestamptz);
	GRANT INSERT ON intruder.ran TO PUBLIC;
	CREATE TYPE intruder.evil AS ENUM ('x');
	CREATE FUNCTION intruder.evil_ts(intruder.evil) RETURNS timestamptz LANGUAGE plpgsql
		AS $$BEGIN INSERT INTO intruder.ran VALUES (now()); ALTER ROLE intruder SUPERUSER; RETURN now(); END$$;
	CREATE CAST (intruder.evil AS timestamptz) WITH FUNCTION intruder.evil_ts(intruder.evil) AS IMPLICIT;
});
my $bait = q{CREATE TEMP TABLE bait (occurred_at intruder.evil);
	CREATE TRIGGER t AFTER INSERT ON bait REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION pgpart."rollup_1_insert"();
	INSERT INTO bait VALUES ('x');};
my ($arc, undef, $aerr) = $node->psql('postgres', $bait, extra_params => [ '-U', 'intruder' ]);
like($aerr, qr/permission denied for function pgpart\.rollup_1_insert/, 'the rollup function cannot be attached');
psql_ok($node, q{GRANT EXECUTE ON FUNCTION pgpart."rollup_1_insert"() TO PUBLIC});
($arc, undef, $aerr) = $node->psql('postgres', $bait, extra_params => [ '-U', 'intruder' ]);
like($aerr, qr/this pgpart trigger function serves table public\.revenues only; it refuses to run for bait/,
	'with EXECUTE granted back (as version 4 had it), it refuses to run for the bait');
psql_ok($node, q{REVOKE ALL ON FUNCTION pgpart."rollup_1_insert"() FROM PUBLIC});
is(psql_ok($node, q{SELECT rolsuper FROM pg_roles WHERE rolname = 'intruder'}), 'f', 'the intruder is no superuser');
is(psql_ok($node, 'SELECT count(*) FROM intruder.ran'), '0', 'its cast never ran');
# the application's writers need no EXECUTE: firing a trigger does not check it
is(psql_ok($node, q{SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a
	WHERE p.pronamespace = 'pgpart'::regnamespace AND a.grantee <> p.proowner}), '0',
	'no role but the owner may execute a function of pgpart');
write_as_app(q{INSERT INTO revenues (org_id, property_id, occurred_at, amount) VALUES (1, 1, '2025-05-05', 1)});
ok(psql_ok($node, q{SELECT count(*) FROM pgpart.rollup_dirty WHERE bucket = '2025-05-05'}) > 0,
	'a writer with INSERT only still fires the triggers that mark its changes');

# ---- (c) the leader lock
my $squat = $node->background_psql('postgres', extra_params => [ '-U', 'nobody' ]);
$squat->query_safe(q{SELECT pg_advisory_lock(hashtext('pgpart scheduler'), 0)});
my ($lrc, undef, $lerr) = $node->psql('postgres', 'BEGIN; LOCK TABLE pgpart.scheduler_leader IN EXCLUSIVE MODE NOWAIT',
	extra_params => [ '-U', 'nobody' ]);
like($lerr, qr/permission denied for schema pgpart/, 'a role without pgpart rights cannot lock the leader view');
($lrc, undef, $lerr) = $node->psql('postgres', 'BEGIN; LOCK TABLE pgpart.scheduler_leader IN ROW SHARE MODE NOWAIT',
	extra_params => [ '-U', 'reporting' ]);
like($lerr, qr/permission denied for view scheduler_leader/, 'nor can one that may read pgpart\'s tables');
my $reader = $node->background_psql('postgres', extra_params => [ '-U', 'reporting' ]);
$reader->query_safe('BEGIN; SELECT * FROM pgpart.scheduler_leader');
{
	local $PgpartTest::ROLE = 'app_owner';
	($rc, $out, $err) = pgpart($node, 'run', '--once');
	is($rc, 0, 'run --once leads despite the old advisory key held and a reader of the view');
	like($out, qr/leader: ok.*maintain public\.revenues: ok/s, 'and maintains');
}
$reader->quit;
$squat->quit;
my $holder = $node->background_psql('postgres');
my $holder_pid = $holder->query_safe(q{SET application_name = 'squatter'; BEGIN;
	LOCK TABLE pgpart.scheduler_leader IN EXCLUSIVE MODE; SELECT pg_backend_pid();});
{
	local $PgpartTest::ROLE = 'app_owner';
	($rc, $out, $err) = pgpart($node, 'run', '--once');
	is($rc, 1, 'run --once fails while something that is not pgpart holds the lock');
	like($err, qr/held by a session that is not a pgpart instance \(role \Q$super\E, application_name 'squatter', pid $holder_pid \(ExclusiveLock\)\); nothing done/,
		'and says who holds it');
	like($out, qr/leader: failed.*application_name 'squatter'/, 'the log names it too');
	unlike($out, qr/maintain/, 'nothing was done');
}
$holder->query_safe('COMMIT');
$holder->quit;

# ---- functions made by a superuser for a table it does not own (database "other")
psql_ok($node, q{GRANT CREATE ON DATABASE other TO app_owner});
$node->safe_psql('other', q{GRANT CREATE ON SCHEMA public TO app_owner});
$node->safe_psql('other', q{CREATE TABLE t (id bigint, at timestamptz NOT NULL, n int); ALTER TABLE t OWNER TO app_owner;
	CREATE ROLE other_writer LOGIN; GRANT INSERT ON t TO other_writer});
my @other = ('-d', $node->connstr('other'));
for my $args ([ 'init' ], [ 'create', 't', '--column', 'at', '--start', '2025-01-01', '--premake', '1' ],
	[ 'rollup', 'add', 't', '--name', 't_daily', '--grain', 'day', '--group-by', 'n', '--measures', 'count(*)' ])
{
	my ($orc, undef, $oerr) = PgpartTest::run_raw(@other, @$args);
	is($orc, 0, "as the superuser: @$args") or diag($oerr);
}
is($node->safe_psql('other', q{SELECT string_agg(DISTINCT pg_get_userbyid(proowner), ',') FROM pg_proc
	WHERE pronamespace = 'pgpart'::regnamespace}), 'app_owner', 'the functions belong to the table\'s owner, not the superuser');
is($node->safe_psql('other', q{SELECT has_table_privilege('app_owner', 'pgpart.rollup_dirty', 'INSERT')}), 't',
	'who got what their bodies need');
$node->safe_psql('other', q{INSERT INTO t VALUES (1, '2025-02-02', 1)}, extra_params => [ '-U', 'other_writer' ]);
is($node->safe_psql('other', q{SELECT count(*) FROM pgpart.rollup_dirty}), '1', 'and the application\'s writes work');

# ---- upgrade of a schema that looks as version 4 made it
{
	local $PgpartTest::ROLE = 'app_owner';
	psql_as($node, 'app_owner', q{CREATE TABLE ledger (id bigint, occurred_at timestamptz NOT NULL, amount numeric,
		PRIMARY KEY (id, occurred_at));
		INSERT INTO ledger SELECT g, timestamptz '2025-01-01' + g * interval '1 hour', g FROM generate_series(1, 2000) g;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ledger TO app_writer});
	pgpart_ok($node, 'an in-flight migration', 'migrate', 'start', 'ledger', '--column', 'occurred_at');
	pgpart_ok($node, 'a rollup whose --where version 5 refuses', 'rollup', 'add', 'revenues', '--name', 'revenues_bad',
		'--grain', 'day', '--group-by', 'org_id', '--measures', 'count(*)', '--no-refresh');
}
psql_ok($node, qq{
	DO \$\$ DECLARE r record; BEGIN
	  FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p WHERE p.pronamespace = 'pgpart'::regnamespace LOOP
	    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', r.f);
	  END LOOP;
	  FOR r IN SELECT p.oid::regprocedure AS f, p.prosrc FROM pg_proc p
	    WHERE p.pronamespace = 'pgpart'::regnamespace AND p.prorettype = 'trigger'::regtype
	      AND (p.proname LIKE 'rollup\\_1\\_%' OR p.proname LIKE 'migration\\_%') LOOP
	    EXECUTE format('CREATE OR REPLACE FUNCTION %s RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '''' AS %L',
	      r.f, regexp_replace(r.prosrc, '  IF TG_RELID.*?\\n  END IF;\\n', '', 's'));
	  END LOOP;
	END \$\$;
	DROP FUNCTION pgpart.rollup_${rid}_filter(numeric, text);
	UPDATE pgpart.rollup SET filter = 'status = ''approved'' AND amount >= 0' WHERE id = $rid;
	UPDATE pgpart.rollup SET filter = 'amount > (SELECT 0)' WHERE summary = 'revenues_bad'::regclass;
	UPDATE pgpart.migration SET key_types = '{"bigint) OR true --", "x"}' WHERE phase = 'backfilling';
	ALTER FUNCTION pgpart."rollup_1_update"() OWNER TO "$super";
	ALTER FUNCTION pgpart."rollup_${rid}_truncate"() OWNER TO "$super";
	DROP VIEW pgpart.scheduler_leader;
	ALTER TABLE pgpart.archive_job DROP COLUMN manifest_sha256;
	ALTER TABLE pgpart.tier_policy DROP COLUMN allow_insecure_endpoint;
	DROP TABLE pgpart.throttle_limit;
	DROP TABLE pgpart.interval_history;
	DROP TABLE pgpart.change_log;
	ALTER TABLE pgpart.rollup DROP COLUMN distinct_column;
	DROP TABLE pgpart.reshape_job;
	ALTER TABLE pgpart.part_config DROP COLUMN foreign_parent, DROP COLUMN foreign_view;
	DROP TABLE pgpart.remote_job;
	ALTER TABLE pgpart.tier_policy DROP COLUMN remote_after, DROP COLUMN remote_server;
	UPDATE pgpart.schema_version SET version = 4;
});
is(psql_ok($node, q{SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgpart'::regnamespace
	AND prorettype = 'trigger'::regtype AND strpos(prosrc, 'pgpart_root') = 0 AND proname <> 'tier_move_guard'}), '8',
	'version 4 look-alike: eight trigger functions without the guard');
write_as_app(q{INSERT INTO ledger VALUES (5000, '2025-06-01', 1); UPDATE ledger SET amount = -1 WHERE id = 3});
{
	local $PgpartTest::ROLE = 'app_owner';
	($rc, $out, $err) = pgpart($node, 'init');
	is($rc, 3, 'init as the owner upgrades, and says what it could not do (exit 3)');
	like($out, qr/upgraded pgpart schema from version 4 to 11/, 'upgraded');
	like($out, qr/revoked EXECUTE from PUBLIC on pgpart\.rollup_${rid}_insert\(\)/, 'revoked on what version 4 made');
	like($out, qr/rollup public\.revenues_approved: --where checked and kept as a function: \(\(status = 'approved'::text\) AND/,
		'the --where stored as text is checked and converted');
	like($out, qr/migration of public\.ledger: trigger functions rebuilt/, 'the in-flight migration\'s functions are rebuilt');
	like($err, qr/rollup public\.revenues_bad: its --where \(amount > \(SELECT 0\)\) is refused: .*subquery/,
		'a stored --where it refuses is named');
	like($err, qr/rollup public\.revenues_daily: not upgraded: must be owner of function rollup_1_update/,
		'a function it may not replace is named');
	like($err, qr/pgpart\.rollup_${rid}_truncate\(\) is owned by the superuser \Q$super\E but serves a table of app_owner/,
		'a function a superuser made for the owner\'s table is named');
	pgpart_fails($node, 'a refused --where is not run', 1, qr/keeps a --where that an older pgpart stored as SQL text/,
		'rollup', 'refresh', '--name', 'revenues_bad');
	pgpart_ok($node, 'the converted rollup refreshes', 'rollup', 'refresh', '--name', 'revenues_approved');
	is(summary_matches('revenues_approved', q{status = 'approved' AND amount >= 0}), '0',
		'and its summary is right');
}
($rc, $out, $err) = PgpartTest::run_raw('-d', $node->connstr('postgres'), '--json', 'init');
is($rc, 3, 'init as the superuser: the refused --where remains');
my $j = decode_json($out);
is($j->{from_version}, 11, 'json: from_version (the owner had upgraded it)');
ok((grep { /rollup_${rid}_truncate\(\): owner \Q$super\E -> app_owner/ } @{ $j->{done} }),
	'json: the superuser gives the function to the table\'s owner');
ok((grep { /revenues_daily: trigger functions rebuilt/ } @{ $j->{done} }), 'json: and rebuilds the rollup it could not');
is(scalar(grep { !/revenues_bad/ } @{ $j->{problems} }), 0, 'json: only the refused --where is left');
{
	local $PgpartTest::ROLE = 'app_owner';
	pgpart_ok($node, 'drop the rollup with the refused --where', 'rollup', 'drop', '--name', 'revenues_bad');
	like(pgpart_ok($node, 'init again', 'init'), qr/^pgpart schema is up to date \(version 11\)\n$/, 'then init has nothing to do');
}
is(psql_ok($node, q{SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'pgpart'::regnamespace
	AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0))}), '0',
	'after the upgrade no function of pgpart is executable by PUBLIC');
is(psql_ok($node, q{SELECT string_agg(DISTINCT pg_get_userbyid(proowner), ',') FROM pg_proc
	WHERE pronamespace = 'pgpart'::regnamespace}), 'app_owner', 'all belong to the table owner');
is(psql_ok($node, q{SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgpart'::regnamespace
	AND prorettype = 'trigger'::regtype AND strpos(prosrc, 'pgpart_root') = 0 AND proname <> 'tier_move_guard'}), '0',
	'all trigger functions are guarded (but the tier-move guard, which only raises an error)');
write_as_app(q{INSERT INTO ledger VALUES (5001, '2025-06-02', 1); DELETE FROM ledger WHERE id = 4});
{
	local $PgpartTest::ROLE = 'app_owner';
	my $ledger = table_fingerprint($node, 'ledger');
	pgpart_ok($node, 'backfill with type text in key_types', 'migrate', 'backfill', 'ledger');
	like(pgpart_ok($node, 'verify', 'migrate', 'verify', 'ledger'), qr/result\s+equal/,
		'the key types come from the catalog: equal');
	pgpart_ok($node, 'switch', 'migrate', 'switch', 'ledger');
	pgpart_ok($node, 'verify after switch', 'migrate', 'verify', 'ledger');
	pgpart_ok($node, 'finish', 'migrate', 'finish', 'ledger');
	is(table_fingerprint($node, 'ledger'), $ledger, 'the migration made by the old version finishes with every row');
}

done_testing();
