/* The session files read back after a crash: index.tsv (index_load and
 * index_load_prefix, as sessionrecover, fpsest and mux read it) and
 * segments.tsv (segindex_load), the same bytes as either. */
#include "fuzz.h"
#include "index.h"
#include "segindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct index ix;
	struct segindex si;
	const char *why;
	char path[64];
	size_t bad;
	int fd;

	if ((fd = fuzz_memfd(data, size)) < 0)
		return 0;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (index_load(path, &ix, &bad) == 0)
		index_free(&ix);
	if (index_load_prefix(path, &ix, &bad) == 0)
		index_free(&ix);
	if (segindex_load(path, &si, &bad, &why) == 0)
		segindex_free(&si);
	close(fd);
	return 0;
}
