/* Which request paths carry what. Paths are the only thing that tells an
 * Android camera from an ESP32 board or a browser. */
#ifndef CAMREC_CAMPATH_H
#define CAMREC_CAMPATH_H

#include <stddef.h>

enum campath_kind {
	CAMPATH_ANDROID,	/* any path not named below: H.264 frames */
	CAMPATH_ESP,		/* /esp: JPEG images, plain-text commands */
	CAMPATH_DEV,		/* /dev: developer console (reserved) */
	CAMPATH_LIVE,		/* /live: live viewers (reserved) */
};

/* campath.c */
/* Classify a request path (not NUL-terminated); a query string is ignored. */
enum campath_kind campath_kind(const char *path, size_t len);

#endif
