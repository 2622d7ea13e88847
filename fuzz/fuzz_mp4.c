/* The MP4 box reader: the check of a segment a phone sends before it is
 * stored as <name>.mp4, and the video track reader fpsest uses on it. */
#include "fuzz.h"
#include "mp4box.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	uint64_t samples;
	double seconds;
	size_t at;

	(void)mp4_check(data, size, &why, &at);
	(void)mp4_video_track(data, size, &samples, &seconds);
	return 0;
}
