/* The ESP32 board's plain-text commands (protocol.md section 2):
 * "start [RES] [QUALITY]", "stop", "status". One grammar for every tool
 * that checks or sends them. The board's sketch takes an unknown
 * resolution for UXGA and never says so, so a wrong word is refused here
 * rather than passed on. */
#ifndef CAMREC_BOARDCMD_H
#define CAMREC_BOARDCMD_H

#include <stddef.h>

#define BOARDCMD_QUALITY_MAX 63
#define BOARDCMD_SIZES "QQVGA QCIF HQVGA 240X240 QVGA CIF HVGA VGA SVGA " \
	"XGA HD SXGA UXGA FHD P_HD P_3MP QXGA"

enum boardcmd_verb { BOARDCMD_START, BOARDCMD_STOP, BOARDCMD_STATUS };

struct boardcmd {
	enum boardcmd_verb verb;
	const char *res;	/* canonical frame size; NULL: the board's own */
	unsigned quality;	/* 1..63, lower is better; 0: the board's own */
};

/* boardcmd.c */
/* The canonical spelling of a frame size named in any case, or NULL. */
const char *boardcmd_size(const char *name);
/* A start with res (NULL: not given) and quality (0: not given) checked
 * into c. 0, or -1 with the reason in err. */
int boardcmd_start(struct boardcmd *c, const char *res, long quality,
    char *err, size_t errlen);
/* The nw words after "start": [RES] [QUALITY]. 0, or -1 with the reason
 * (quoting the word, printable ASCII only) in err. */
int boardcmd_start_words(struct boardcmd *c, char *const *w, size_t nw,
    char *err, size_t errlen);
/* The text the board is sent, in buf; its length, 0 when it did not fit. */
size_t boardcmd_text(const struct boardcmd *c, char *buf, size_t n);

#endif
