/*
 * testhook.h - the pause tests use to act in the middle of a command (write
 * meanwhile, or kill pgpart there).  Only test builds call it
 * (PGPART_TEST_HOOKS): the variable "env" = "STEP:SECONDS" stops the
 * command at STEP for that long, after saying so on stderr.
 */
#ifndef PGPART_UTIL_TESTHOOK_H
#define PGPART_UTIL_TESTHOOK_H

void testhook_pause(const char *env, const char *step);

#endif
