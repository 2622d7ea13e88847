/* ctl's command grammar: any line an operator (or a script) types goes
 * through cmd_parse; a line it accepts is made into the messages for the
 * phones and the boards, which must be valid JSON and plain text. With a
 * first byte of 0 the rest is ctl's status file instead (status_load). */
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_cmd c, stop;
	char *line, err[256], *m;
	json_t *j;

	if (size > 0 && data[0] == 0) {
		static char path[] = "/tmp/fuzz_ctl.XXXXXX";
		static int fd = -1;
		struct status st;

		if (fd < 0 && (fd = mkstemp(path)) < 0)
			abort();
		if (ftruncate(fd, 0) < 0 || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
			abort();
		if (status_load(path, &st, err, sizeof err) == 0)
			status_free(&st);
		return 0;
	}
	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (cmd_parse(line, &c, err, sizeof err) == 0) {
		(void)cmd_name(&c);
		if (c.verb == VERB_START || c.verb == VERB_STOP) {
			if ((m = cmd_android_message(&c)) != NULL) {
				if ((j = json_loads(m, 0, NULL)) == NULL)
					abort();	/* the phones would get broken JSON */
				json_decref(j);
				free(m);
			}
			if ((m = cmd_esp_message(&c)) != NULL) {
				if (strchr(m, '\n') != NULL)
					abort();	/* one line to a board */
				free(m);
			}
			cmd_stop_for(&c, &stop);
		}
	} else if (memchr(err, '\0', sizeof err) == NULL) {
		abort();
	}
	free(line);
	return 0;
}
