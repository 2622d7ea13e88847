/* frameparse's parser of the phones' segment messages (JSON with a base64
 * MP4 and its QR code text): any text message either is no segment, a
 * segment whose MP4 bytes were decoded, or a bad one with a reason. */
#include <string.h>

#include "frameparse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct segment s;
	unsigned char *copy;

	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(&s, 0, sizeof s);
	if (segment_parse(copy, size, &s) == SEGMENT_BAD &&
	    memchr(s.why, '\0', sizeof s.why) == NULL)
		abort();
	segment_free(&s);
	free(copy);
	return 0;
}
