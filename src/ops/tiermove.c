#include "ops/tiermove.h"

#include <stdlib.h>
#include <string.h>

/* placeholder until the warm-tier move lands */
void
tiermoveresult_free(TierMoveResult *r)
{
	free(r->partition);
	free(r->from_tablespace);
	free(r->to_tablespace);
	memset(r, 0, sizeof(*r));
}

bool
ops_tier_move(PgConn *pc, const TierMoveOptions *opt, TierMoveResult *res, PgpError *err)
{
	(void) pc;
	(void) opt;
	(void) res;
	err_set(err, EXIT_RUNTIME, "moving a partition to another tablespace is not built yet");
	return false;
}
