-- Server-side generator with the distribution of bench/gen.c (one INSERT ...
-- SELECT, no client round trips): organisation n drawn with probability about
-- 1/n, --props properties per organisation (org_id * 1000 + k), rows in time
-- order over [from, to) with a few minutes of jitter, 1 % long descriptions.
-- psql variables: tbl, rows, orgs, props, from, to (all required).
INSERT INTO :"tbl" (org_id, property_id, occurred_at, amount, status, category, description)
SELECT o.org_id, o.org_id * 1000 + 1 + floor(random() * :props)::bigint,
	least(greatest(t.t0 + (t.t1 - t.t0) * ((g - 0.5) / :rows) + (random() - 0.5) * interval '600 s', t.t0),
		t.t1 - interval '1 s'),
	round((random() * random() * 5000)::numeric, 2),
	(ARRAY['approved', 'approved', 'approved', 'pending', 'rejected', 'void'])[1 + floor(random() * 6)::int],
	(ARRAY['rent', 'fees', 'parking', 'utilities', 'repairs', 'services', 'other'])[1 + floor(random() * 7)::int],
	CASE WHEN random() < 0.01 THEN repeat(md5(g::text), 100) ELSE 'transaction ' || g END
FROM (SELECT :'from'::timestamptz AS t0, :'to'::timestamptz AS t1) t,
	generate_series(1, :rows) AS g,
	LATERAL (SELECT least(:orgs, greatest(1, floor(exp(random() * ln(:orgs + 1))) + 0 * g))::bigint AS org_id
		OFFSET 0) o;
