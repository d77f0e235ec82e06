# Shared shell for the benchmarks (sourced by bench/reports, bench/operations,
# bench/partman, bench/migrate).  The caller sets "name" before sourcing.  Provides:
# a private cluster (optionally inside a memory-limited cgroup), a cold-cache
# restart, the machine and settings capture, percentiles, JSON output, and the
# loader of the same synthetic data into a plain and a partitioned table.
# shellcheck shell=bash

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
dir=${BENCH_DIR:-$top/bench/.cluster-$name}
out=${BENCH_OUT:-$top/bench/results}
pgpart=${PGPART:-$top/pgpart}
gen=${BENCH_GEN_BIN:-$top/build/bench-gen}
stamp=$(date -u +%Y-%m-%d)
work=$(mktemp -d)
chmod 755 "$work"
cgroup=
cold_method=
export PGOPTIONS='-c client_min_messages=warning'

say() { printf '== %s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ms_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
is_root() { [ "$(id -u)" = 0 ]; }

bench_cleanup() {
	scripts/pgcluster destroy "$dir" >/dev/null 2>&1 || true
	if [ -n "$cgroup" ] && [ -d "$cgroup" ]; then rmdir "$cgroup" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap bench_cleanup EXIT

[ -x "$pgpart" ] || make -s pgpart
[ -x "$gen" ] || make -s build/bench-gen
# private copies: a rebuild during the run must not change what is measured
cp "$pgpart" "$work/pgpart"; pgpart=$work/pgpart
cp "$gen" "$work/gen"; gen=$work/gen
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# settings every bench cluster gets (recorded with the results)
bench_conf() {
	cat >> "$dir/data/postgresql.conf" <<CONF
# bench settings
max_wal_size = '4GB'
checkpoint_timeout = '15min'
log_lock_waits = on
deadlock_timeout = '100ms'
log_line_prefix = '%m [%p] '
${BENCH_EXTRA_CONF:-}
CONF
}

# start the cluster; with a memory limit (MiB) as root, the server and every
# process it forks run in a cgroup whose memory (incl. page cache) is capped
cluster_start() {
	local limit_mb=${1:-}
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		scripts/pgcluster start "$dir" >/dev/null
		bench_conf
		scripts/pgcluster stop "$dir" >/dev/null
	fi
	if [ -n "$limit_mb" ] && cgroup_make "$limit_mb"; then
		(echo "$BASHPID" > "$cgroup/cgroup.procs"; exec scripts/pgcluster start "$dir" >/dev/null)
	else
		scripts/pgcluster start "$dir" >/dev/null
	fi
	# shellcheck disable=SC1091
	. "$dir/env"
	export PGDATABASE=${bench_db:-postgres}
}
cluster_stop() { scripts/pgcluster stop "$dir" >/dev/null; }

# a memory cgroup (v2 memory.max, or v1 memory.limit_in_bytes); false if impossible
cgroup_make() {
	local bytes=$(( $1 * 1024 * 1024 ))
	is_root || return 1
	if [ -z "$cgroup" ]; then
		if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
			cgroup=/sys/fs/cgroup/pgpart-bench-$$
			mkdir -p "$cgroup" || { cgroup=; return 1; }
		elif [ -d /sys/fs/cgroup/memory ]; then
			cgroup=/sys/fs/cgroup/memory/pgpart-bench-$$
			mkdir -p "$cgroup" || { cgroup=; return 1; }
		else
			return 1
		fi
	fi
	if [ -f "$cgroup/memory.max" ]; then
		echo "$bytes" > "$cgroup/memory.max"
		cgroup_how="cgroup v2 $cgroup, memory.max=$bytes"
	else
		echo "$bytes" > "$cgroup/memory.limit_in_bytes"
		cgroup_how="cgroup v1 $cgroup, memory.limit_in_bytes=$bytes (page cache of the server's reads is charged to it)"
	fi
}
cgroup_peak_mb() {
	if [ -f "$cgroup/memory.peak" ]; then awk '{ printf "%.0f", $1 / 1048576 }' "$cgroup/memory.peak"
	elif [ -f "$cgroup/memory.max_usage_in_bytes" ]; then awk '{ printf "%.0f", $1 / 1048576 }' "$cgroup/memory.max_usage_in_bytes"
	else echo ""; fi
}

# restart with an empty cache: server restart (empties shared_buffers) and,
# as root, the OS page cache dropped (sync; echo 3 > drop_caches)
cold_restart() {
	cluster_stop
	if is_root && sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
		cold_method="server restart + OS page cache dropped (echo 3 > /proc/sys/vm/drop_caches)"
	else
		cold_method="server restart only (not root: OS page cache NOT dropped, so 'cold' is shared_buffers-cold only)"
	fi
	cluster_start "${1:-}"
}

# p50 p95 p99 of a file of numbers (nearest rank)
pcts() { sort -n "$1" | awk '{ a[NR] = $1 } END {
	if (NR == 0) { print "null null null"; exit }
	split("0.5 0.95 0.99", p, " ");
	for (k = 1; k <= 3; k++) { i = int(NR * p[k] + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; printf "%s%.2f", (k > 1 ? " " : ""), a[i] }
	print "" }'; }

machine_capture() {
	cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
	cores=$(nproc)
	ram_gib=$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
	disk=$(df -h "$dir" | awk 'NR == 2 { print $1 " (" $2 ", " $4 " free)" }')
	disk_rot=$(lsblk -ndo ROTA "$(df "$dir" | awk 'NR == 2 { print $1 }')" 2>/dev/null | tr -d ' ' || echo '?')
	pgver=$(q -d postgres -c 'SHOW server_version')
	settings=$(q -d postgres -c "SELECT string_agg(name || '=' || setting || COALESCE(unit, ''), ', ' ORDER BY name)
		FROM pg_settings WHERE source NOT IN ('default', 'override', 'client') AND name NOT LIKE 'lc_%'
		AND name NOT IN ('port', 'unix_socket_directories', 'listen_addresses')")
	key_settings=$(q -d postgres -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
		FROM pg_settings WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'wal_level',
		'max_wal_size', 'checkpoint_timeout', 'autovacuum', 'deadlock_timeout', 'work_mem',
		'maintenance_work_mem', 'effective_io_concurrency', 'max_connections')")
	pgpart_version=$("$pgpart" --version 2>/dev/null | head -1)
	# a binary from elsewhere (PGPART) is not this checkout's: BENCH_PGPART_COMMIT names it
	if [ -n "${BENCH_PGPART_COMMIT:-}" ]; then
		pgpart_commit=$BENCH_PGPART_COMMIT
	else
		pgpart_commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
		if [ -n "$(git -C "$top" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
			pgpart_commit="$pgpart_commit (with uncommitted changes)"
		fi
		[ -z "${PGPART:-}" ] || pgpart_commit="$pgpart_commit of the bench scripts; binary $PGPART"
	fi
	load_end=$(cut -d' ' -f1-3 /proc/loadavg)
}
machine_md() {
	echo "Machine: $cores cores ($cpu), ${ram_gib} GiB RAM, data on $disk (rotational: $disk_rot); shared with other engineers' builds and tests: load average (1, 5, 15 min) $load_start at start, $load_end at end."
	echo "PostgreSQL $pgver; key settings: $key_settings; non-default settings: $settings."
	echo "$pgpart_version, commit $pgpart_commit."
}

# JSON from a flat list of key value pairs; a value that is a JSON document
# (starts with { or [) is embedded; numbers stay numbers
json_out() {
	perl -MJSON::PP -e '
		my %r;
		while (@ARGV) {
			my ($k, $v) = splice(@ARGV, 0, 2);
			if ($v =~ /^\s*[\[{]/) { $v = JSON::PP->new->decode($v) }
			elsif ($v =~ /^-?\d+(\.\d+)?$/) { $v = $v + 0 }
			$r{$k} = $v;
		}
		print JSON::PP->new->pretty->canonical->encode(\%r);' "$@"
}
machine_json_args() {  # fills the array mj
	mj=(date "$stamp" cores "$cores" cpu "$cpu" ram_gib "$ram_gib" disk "$disk" disk_rotational "$disk_rot"
		postgres "$pgver" settings "$settings" key_settings "$key_settings" load_start "$load_start" load_end "$load_end"
		pgpart_version "$pgpart_version" pgpart_commit "$pgpart_commit")
}

# Exact per-transaction latency figures from pgbench -l logs, per time window.
# WINDOWS: lines "name start_epoch end_epoch [threshold_ms]"; a transaction
# counts in every window its completion time (time_epoch.time_us) falls in.
# Prints per window: name transactions p50 p99 max max_schedule_lag (ms,
# nearest rank over every transaction, "null" when none) and how many took
# longer than threshold_ms, failed (non-numeric time: failed or skipped), and
# the worst time without its schedule lag (from when the transaction was
# sent: what the server could see).  The time (column 3) of a run with -R counts from the scheduled start, so it
# includes the schedule lag: what an application whose requests arrive at that
# rate feels.
pgbench_windows() {  # windows-file log-file...
	perl -e '
		my $wf = shift;
		open(my $w, "<", $wf) or die "$wf: $!";
		my @w;
		while (<$w>) {
			my ($n, $t0, $t1, $th) = split;
			next unless defined $t1;
			push @w, { n => $n, a => $t0, b => $t1, th => ($th // 0) * 1000, l => [], lag => 0, over => 0, failed => 0, nolag => 0 };
		}
		for my $f (@ARGV) {
			open(my $l, "<", $f) or die "$f: $!";
			while (<$l>) {
				my @c = split;
				next if @c < 6;
				my $t = $c[4] + $c[5] / 1e6;
				for my $x (@w) {
					next if $t < $x->{a} || $t > $x->{b};
					if ($c[2] !~ /^\d+$/) { $x->{failed}++; next }
					push @{ $x->{l} }, $c[2];
					$x->{lag} = $c[6] if defined $c[6] && $c[6] =~ /^\d+$/ && $c[6] > $x->{lag};
					$x->{over}++ if $x->{th} && $c[2] > $x->{th};
					# the part the server could see: from when the transaction was sent
					my $own = $c[2] - (defined $c[6] && $c[6] =~ /^\d+$/ ? $c[6] : 0);
					$x->{nolag} = $own if $own > $x->{nolag};
				}
			}
		}
		for my $x (@w) {
			my @s = sort { $a <=> $b } @{ $x->{l} };
			my $n = @s;
			my $rank = sub { my $i = int(($_[0] * $n + 99) / 100); $i = 1 if $i < 1; sprintf "%.2f", $s[$i - 1] / 1000 };
			if ($n) {
				printf "%s %d %s %s %.2f %.2f %d %d %.2f\n", $x->{n}, $n, $rank->(50), $rank->(99),
					$s[-1] / 1000, $x->{lag} / 1000, $x->{over}, $x->{failed}, $x->{nolag} / 1000;
			} else {
				printf "%s 0 null null null null 0 %d null\n", $x->{n}, $x->{failed};
			}
		}' "$@"
}

# ---- data ----
rows=${BENCH_ROWS:-5000000}
orgs=${BENCH_ORGS:-100000}
props=${BENCH_PROPS:-20}
from=${BENCH_FROM:-2024-10-01}
to=${BENCH_TO:-2026-10-01}        # exclusive: eight quarters

# the seed schema twice: revenues_plain (plain) and revenues (pgpart, quarterly)
make_tables() {
	q -f scripts/seed-schema.sql -c 'DROP TABLE expenses' -c 'ALTER TABLE revenues RENAME TO revenues_plain'
	q -f scripts/seed-schema.sql -c 'DROP TABLE expenses'
	"$pgpart" init >/dev/null
	"$pgpart" create revenues --column occurred_at --interval quarter --start "$from" >/dev/null
}

# generate N rows into TABLE with the C generator (COPY) or server-side SQL
gen_c() {  # table rows
	"$gen" --rows "$2" --orgs "$orgs" --props "$props" --from "$from" --to "$to" |
		q -c "COPY $1 (org_id, property_id, occurred_at, amount, status, category, description) FROM STDIN"
}
gen_sql() {
	q -v rows="$2" -v orgs="$orgs" -v props="$props" -v from="$from" -v to="$to" -v tbl="$1" -f bench/gen.sql
}

# measure both generators on a sample into an unindexed table; keep the faster
gen_compare() {
	local n=$(( rows < 1000000 ? rows : 1000000 )) t0
	q -c 'CREATE UNLOGGED TABLE gen_probe (LIKE revenues_plain INCLUDING DEFAULTS INCLUDING IDENTITY)'
	t0=$(now); gen_c gen_probe "$n"; gen_c_rps=$(awk -v n="$n" -v s="$(secs "$t0" "$(now)")" 'BEGIN { printf "%.0f", n / s }')
	q -c 'TRUNCATE gen_probe'
	t0=$(now); gen_sql gen_probe "$n"; gen_sql_rps=$(awk -v n="$n" -v s="$(secs "$t0" "$(now)")" 'BEGIN { printf "%.0f", n / s }')
	q -c 'DROP TABLE gen_probe'
	gen_probe_rows=$n
	if [ "${BENCH_GEN:-}" = sql ] || { [ -z "${BENCH_GEN:-}" ] && [ "$gen_sql_rps" -gt "$gen_c_rps" ]; }; then
		gen_used=sql
	else
		gen_used=c
	fi
}

# load the data into both tables, time each step; indexes per the seed plan
load_data() {
	local t0
	gen_compare
	say "generate $rows rows ($orgs orgs) into revenues_plain with the $gen_used generator"
	t0=$(now); "gen_$gen_used" revenues_plain "$rows"; load_plain_s=$(secs "$t0" "$(now)")
	say "copy them into the partitioned revenues"
	t0=$(now)
	q -c 'INSERT INTO revenues OVERRIDING SYSTEM VALUE SELECT * FROM revenues_plain'
	load_part_s=$(secs "$t0" "$(now)")
	q -c "SELECT setval(pg_get_serial_sequence('revenues', 'id'), (SELECT max(id) FROM revenues_plain))" >/dev/null
	in_default=$(q -c 'SELECT count(*) FROM revenues_default')
}

# the seed plan's indexes, built on each table (timed)
seed_indexes() {
	local t0
	t0=$(now)
	q -c 'CREATE INDEX plain_org_prop_time ON revenues_plain (org_id, property_id, occurred_at)' \
	  -c "CREATE INDEX plain_approved ON revenues_plain (status) WHERE status = 'approved'"
	idx_seed_plain_s=$(secs "$t0" "$(now)")
	t0=$(now)
	q -c 'CREATE INDEX part_org_prop_time ON revenues (org_id, property_id, occurred_at)' \
	  -c "CREATE INDEX part_approved ON revenues (status) WHERE status = 'approved'"
	idx_seed_part_s=$(secs "$t0" "$(now)")
	q -c 'VACUUM ANALYZE revenues_plain' -c 'VACUUM ANALYZE revenues'
}
# sizes of a table and all its partitions (pg_partition_tree is empty for a plain table)
size_of() { q -c "SELECT coalesce(sum(pg_total_relation_size(relid)), pg_total_relation_size('$1')) FROM pg_partition_tree('$1')"; }
heap_of() { q -c "SELECT coalesce(sum(pg_relation_size(relid)), pg_relation_size('$1')) FROM pg_partition_tree('$1')"; }
