/*
 * parallel_slot.c - the connection pool of parallel_slot.h: libpq's
 * asynchronous calls (PQsendQueryParams, PQconsumeInput, PQisBusy) and
 * poll() over the connections' sockets.
 */
#include "pg/parallel_slot.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/mem.h"

bool
slots_open(ParallelSlots *s, int n, const char *conninfo, int lock_timeout_ms, PgpError *err)
{
	char timeout[32];
	const char *params[1] = {timeout};
	int i;

	snprintf(timeout, sizeof(timeout), "%dms", lock_timeout_ms);
	s->items = pg_xcalloc((size_t) n + 1, sizeof(ParallelSlot));
	s->n = n;
	for (i = 0; i < n; i++)
	{
		s->items[i].job = -1;
		if (!pgc_connect(&s->items[i].pc, conninfo, false, err) ||
			!pgc_exec(&s->items[i].pc, "SELECT pg_catalog.set_config('lock_timeout', $1, false)",
					  1, params, err))
		{
			s->n = i + (s->items[i].pc.conn != NULL);
			return false;
		}
	}
	return true;
}

void
slots_close(ParallelSlots *s)
{
	int i;

	for (i = 0; i < s->n; i++)
	{
		free(s->items[i].error);
		pgc_close(&s->items[i].pc);
	}
	free(s->items);
	memset(s, 0, sizeof(*s));
}

bool
slot_send(ParallelSlot *slot, int job, const char *sql, char **error)
{
	/* the extended protocol, as every statement of pgpart: one statement per call */
	if (!PQsendQueryParams(slot->pc.conn, sql, 0, NULL, NULL, NULL, NULL, 0))
	{
		*error = pg_xstrdup(PQerrorMessage(slot->pc.conn));
		return false;
	}
	slot->job = job;
	slot->started = clock_ms();
	return true;
}

int
slots_busy(const ParallelSlots *s)
{
	int i, busy = 0;

	for (i = 0; i < s->n; i++)
		busy += s->items[i].job >= 0;
	return busy;
}

void
slots_wait(const ParallelSlots *s, int timeout_ms, bool *ready)
{
	struct pollfd *fds = pg_xcalloc((size_t) s->n + 1, sizeof(struct pollfd));
	int i;

	for (i = 0; i < s->n; i++)
	{
		fds[i].fd = s->items[i].job >= 0 ? PQsocket(s->items[i].pc.conn) : -1;
		fds[i].events = POLLIN;
	}
	poll(fds, (nfds_t) s->n, timeout_ms);
	for (i = 0; i < s->n; i++)
		ready[i] = s->items[i].job >= 0 && (fds[i].revents & (POLLIN | POLLERR | POLLHUP));
	free(fds);
}

bool
slot_collect(ParallelSlot *slot)
{
	PGresult *r;

	if (!PQconsumeInput(slot->pc.conn))
	{
		free(slot->error);
		slot->error = pg_xstrdup(PQerrorMessage(slot->pc.conn));
		return true;
	}
	while (!PQisBusy(slot->pc.conn))
	{
		r = PQgetResult(slot->pc.conn);
		if (r == NULL)
			return true;
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK &&
			slot->error == NULL)
		{
			char *m = pg_xstrdup(PQresultErrorMessage(r));
			size_t len = strlen(m);

			while (len > 0 && (m[len - 1] == '\n' || m[len - 1] == ' '))
				m[--len] = '\0';
			slot->error = m;
		}
		PQclear(r);
	}
	return false;
}

void
slots_cancel(const ParallelSlots *s)
{
	int i;
	char buf[256];

	for (i = 0; i < s->n; i++)
		if (s->items[i].job >= 0)
		{
			PGcancel *c = PQgetCancel(s->items[i].pc.conn);

			if (c)
			{
				PQcancel(c, buf, sizeof(buf));
				PQfreeCancel(c);
			}
		}
}
