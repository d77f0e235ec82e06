-- Synthetic data for the seed schema, generated inside the server (one
-- INSERT ... SELECT per table: no client round trips).
--
-- psql variables (all optional):
--   rows         rows per table                    (default 1000000)
--   orgs         number of organisations           (default 300)
--   from, to     date range of ordinary rows       (default 2024-10-01 .. 2025-12-31)
--   future_rows  rows dated 3-4 years after "to"   (default 200); they land in
--                the default partition until maintain moves them out
--
-- Activity is skewed like real tenants: org n is drawn with probability
-- roughly proportional to 1/n (a few big organisations, a long tail).
\if :{?rows} \else \set rows 1000000 \endif
\if :{?orgs} \else \set orgs 300 \endif
\if :{?from} \else \set from 2024-10-01 \endif
\if :{?to} \else \set to 2025-12-31 \endif
\if :{?future_rows} \else \set future_rows 200 \endif

SELECT setseed(0.42) AS seeded \gset

CREATE TEMP TABLE seed_params AS
SELECT :'rows'::bigint AS nrows, :'orgs'::int AS norgs,
	:'from'::timestamptz AS t0,
	(:'to'::date + 1)::timestamptz AS t1,
	:'future_rows'::bigint AS nfuture;

-- one generator for both tables, differing in categories and amount scale
CREATE TEMP VIEW seed_rows AS
SELECT
	-- inverse of a 1/n distribution: exp(u * ln(norgs)) is skewed toward 1
	least(p.norgs, floor(exp(random() * ln(p.norgs + 1)))::int)::bigint AS org_id,
	(floor(random() * 20) + 1)::bigint AS property_id,
	CASE WHEN g <= p.nfuture
		THEN p.t1 + interval '3 years' + random() * interval '360 days'
		ELSE p.t0 + random() * (p.t1 - p.t0)
	END AS occurred_at,
	round((random() * random() * 5000)::numeric, 2) AS amount,
	(ARRAY['approved', 'approved', 'approved', 'pending', 'rejected', 'void'])
		[1 + floor(random() * 6)::int] AS status,
	(ARRAY['rent', 'fees', 'parking', 'utilities', 'repairs', 'services', 'other'])
		[1 + floor(random() * 7)::int] AS category,
	CASE WHEN random() < 0.01
		-- a few long descriptions, so TOAST is exercised
		THEN repeat(md5(g::text), 100)
		ELSE 'transaction ' || g
	END AS description
FROM seed_params p, generate_series(1, p.nrows) AS g;

INSERT INTO revenues (org_id, property_id, occurred_at, amount, status, category, description)
SELECT org_id, property_id, occurred_at, amount, status, category, description FROM seed_rows;

INSERT INTO expenses (org_id, property_id, occurred_at, amount, status, category, description)
SELECT org_id, property_id, occurred_at, round(amount * 0.6, 2), status, category, description
FROM seed_rows;

ANALYZE revenues;
ANALYZE expenses;

DROP VIEW seed_rows;
DROP TABLE seed_params;
