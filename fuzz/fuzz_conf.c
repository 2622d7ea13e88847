/* camconf's reading of the settings file: any text is parsed as JSON and
 * checked against the schema; where it is refused, the place named must be
 * found in the text (or said not to be), and every key's value can be read. */
#include <string.h>

#include <jansson.h>

#include "camconf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_error e;
	json_t *root;
	size_t k;
	int line, col;

	if ((root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;
	memset(&e, 0, sizeof e);
	if (schema_check(root, &e) < 0) {
		if (memchr(e.what, '\0', sizeof e.what) == NULL || e.depth > 3)
			abort();
		if (jsonpos_find((const char *)data, size, e.path, e.depth, e.at_key,
		    &line, &col) == 0 && (line < 1 || col < 1))
			abort();
	} else {
		for (k = 0; schema_keys[k].name != NULL; k++)
			(void)schema_get(root, schema_keys[k].name);
	}
	json_decref(root);
	return 0;
}
