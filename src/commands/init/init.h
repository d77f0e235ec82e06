/*
 * init.h - "pgpart init": pgpart's schema created or upgraded, and what
 * earlier versions made in it brought up to this version's rules (see
 * pg/privilege.h), in one transaction.
 */
#ifndef PGPART_COMMANDS_INIT_H
#define PGPART_COMMANDS_INIT_H

#include "pg/catalog.h"

typedef struct InitReport
{
	int from_version; /* 0: not installed */
	int to_version;
	NameList done;	   /* one line per thing changed beyond the schema steps */
	NameList problems; /* what could not be made safe, and how to */
} InitReport;

void initreport_free(InitReport *r);

/* true when the schema is current; problems may still be listed */
bool ops_init(PgConn *pc, InitReport *r, PgpError *err);

#endif
