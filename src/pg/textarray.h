/*
 * textarray.h - PostgreSQL's text form of a one-dimensional text[] (the
 * {a,"b c"} that an array column prints and takes as input), both ways: the
 * lists pgpart keeps in its own tables (a migration's key values, a rollup's
 * grouping columns) travel as one $n parameter and come back as one value.
 */
#ifndef PGPART_PG_TEXTARRAY_H
#define PGPART_PG_TEXTARRAY_H

#include "pg/catalog.h"

/* "{a,b}" array literal of the values, every element quoted as PostgreSQL wants */
char *text_array_literal(const NameList *values);
/* the elements of an array literal as the server prints a text[]; NULL literal: none */
bool text_array_parse(const char *literal, NameList *out);

#endif
