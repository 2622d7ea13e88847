/* The ESP32 board's JPEG check: whatever a board sends as a binary
 * message, jpeg_check answers without reading outside it, and a size it
 * reports comes from a frame header inside the image. */
#include <string.h>

#include "fuzz.h"
#include "jpeg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jpeg_info info;
	unsigned char *copy;

	/* An exact-size copy, so ASan sees any read past the message. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(&info, 0, sizeof info);
	if (jpeg_check(copy, size, &info) == 0 && size < 4)
		abort();
	free(copy);
	return 0;
}
