/* The small parsers of client text: base64 of MP4 segments, a segment id
 * made into a file name and a segments.tsv line, and a token given in a
 * query parameter. The first byte picks what the rest goes to. */
#include <string.h>

#include "base64.h"
#include "fuzz.h"
#include "secret.h"
#include "segindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[SEGINDEX_NAME_MAX + 1], *s;
	struct segindex_entry e;
	unsigned char *out;
	const char *why;
	size_t n, bad;

	if (size == 0)
		return 0;
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		if ((out = malloc(base64_decoded_max(size - 1) + 1)) == NULL)
			break;
		if (base64_decode(data + 1, size - 1, out, &n, &bad) == 0 &&
		    n > base64_decoded_max(size - 1))
			abort();
		free(out);
		break;
	case 1:
		n = segindex_safe_name(name, s, size - 1);
		if (n > SEGINDEX_NAME_MAX || !segindex_plain_name(name, n))
			abort();
		(void)segindex_plain_name(s, strlen(s));
		break;
	case 2:
		(void)segindex_parse_line(s, &e, &why);
		(void)segindex_unescape(s);
		break;
	case 3:
		(void)query_is(s, "token");
		if (!secret_equal(s, strlen(s), s, strlen(s)))
			abort();
		break;
	}
	free(s);
	return 0;
}
