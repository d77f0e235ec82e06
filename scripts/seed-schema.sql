-- The seed plan's tables, as an application would have created them before
-- partitioning: plain tables, empty.  The primary key includes occurred_at,
-- because a partitioned table's keys must contain the partition key.
CREATE TABLE revenues (
	id          bigint GENERATED ALWAYS AS IDENTITY,
	org_id      bigint NOT NULL,
	property_id bigint NOT NULL,
	occurred_at timestamptz NOT NULL,
	amount      numeric(14, 2) NOT NULL,
	status      text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'approved', 'rejected', 'void')),
	category    text NOT NULL DEFAULT 'other',
	description text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id, occurred_at)
);
COMMENT ON TABLE revenues IS 'money received, one row per transaction';
COMMENT ON COLUMN revenues.occurred_at IS 'when the transaction happened (partition key)';

CREATE TABLE expenses (
	id          bigint GENERATED ALWAYS AS IDENTITY,
	org_id      bigint NOT NULL,
	property_id bigint NOT NULL,
	occurred_at timestamptz NOT NULL,
	amount      numeric(14, 2) NOT NULL,
	status      text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'approved', 'rejected', 'void')),
	category    text NOT NULL DEFAULT 'other',
	description text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id, occurred_at)
);
COMMENT ON TABLE expenses IS 'money spent, one row per transaction';
COMMENT ON COLUMN expenses.occurred_at IS 'when the transaction happened (partition key)';
