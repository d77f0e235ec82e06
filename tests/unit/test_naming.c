/* unit tests of core/naming.c: derived identifiers fit and never collide */
#include <stdlib.h>
#include <string.h>

#include "core/naming.h"
#include "tap.h"

int
main(void)
{
	char *a, *b;
	char longbase[80];
	char longbase2[80];

	a = naming_derive("revenues", "2025_q1");
	is_str(a, "revenues_2025_q1", "short names are base_suffix");
	free(a);

	memset(longbase, 'x', 70);
	longbase[70] = '\0';
	strcpy(longbase2, longbase);
	longbase2[69] = 'y'; /* differs only beyond the cut */

	a = naming_derive(longbase, "2025_q1");
	b = naming_derive(longbase2, "2025_q1");
	ok(a && strlen(a) <= PG_IDENT_MAX, "a long name is cut to 63 bytes (%zu)", a ? strlen(a) : 0);
	ok(a && strcmp(a + strlen(a) - 8, "_2025_q1") == 0, "the suffix is kept whole");
	ok(a && b && strcmp(a, b) != 0, "bases that differ only after the cut do not collide");
	free(a);
	free(b);

	a = naming_derive(longbase, "2025_q1");
	b = naming_derive(longbase, "2025_q2");
	ok(a && b && strcmp(a, b) != 0, "different suffixes give different names");
	free(a);
	free(b);

	/* exactly 63 bytes fits without hashing */
	memset(longbase, 'a', 55);
	longbase[55] = '\0';
	a = naming_derive(longbase, "2025_q1");
	is_int(strlen(a), 63, "55 + 1 + 7 = 63 bytes fits as is");
	ok(strchr(a, '_') == a + 55, "no hash when it fits");
	free(a);

	/* multi-byte characters are never split */
	{
		char utf[200] = "";

		for (int i = 0; i < 40; i++)
			strcat(utf, "\xc3\xa9"); /* é, 2 bytes: 80 bytes in all */
		a = naming_derive(utf, "default");
		ok(a && strlen(a) <= PG_IDENT_MAX, "UTF-8 name fits");
		{
			size_t cut = strchr(a, '_') - a;

			ok(cut % 2 == 0, "cut on a character boundary (%zu bytes)", cut);
		}
		free(a);
	}

	{
		char big[70];

		memset(big, 's', 62);
		big[62] = '\0';
		a = naming_derive("t", big);
		ok(a == NULL, "a suffix that cannot fit with a hash gives NULL");
		free(a);
	}
	return done_testing();
}
