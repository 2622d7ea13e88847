/* ctl: declarations shared by the files of cmd/ctl.
 *
 * Layers, every call pointing down: ctl.c (main, the command loop and the
 * timers of "for") calls send.c, which calls feedback.c; below them
 * status.c reads the status file, parse.c turns lines into commands and
 * messages, and at the bottom escape.c makes client text safe for a
 * terminal and wait.c owns the signals and every sleep and poll. No file
 * calls a file above it, and no state is global: main() builds the
 * options and the waiter and passes them down. */
#ifndef CTL_H
#define CTL_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Exit statuses; man/ctl.1 documents them. */
enum {
	EX_CTL_OK = 0,
	EX_CTL_RUNTIME = 1,
	EX_CTL_USAGE = 2,	/* also: a refused command */
	EX_CTL_BADSTATUS = 3,	/* unreadable or malformed status file */
	EX_CTL_NOTRUNNING = 4,	/* nobody reads the control FIFO */
	EX_CTL_NOCAMERA = 5,	/* no connected camera matched; nothing sent */
	EX_CTL_CAMERROR = 6,	/* a camera answered with an error */
	EX_CTL_NOANSWER = 7,	/* a camera did not answer within -w */
};

#define CTL_MAX_TARGETS 32
#define CTL_MAX_CAMERAS 1024	/* per command */
#define CTL_ANDROID_PATH "/android-cam"
#define CTL_ESP_PATH "/esp"

enum ctl_verb {
	VERB_START,		/* generic: Android JSON, ESP "start" */
	VERB_STOP,
	VERB_ESP_START,		/* ESP boards only, plain text */
	VERB_ESP_STOP,
	VERB_ESP_STATUS,
	VERB_LIST,
	VERB_HELP,
	VERB_QUIT,
};

struct ctl_target {
	int is_peer;		/* 0: connection id; 1: peer address */
	uint64_t id;
	char addr[64];
	unsigned port;		/* 0: any port */
	char text[80];		/* as typed, for messages */
};

struct ctl_cmd {
	enum ctl_verb verb;
	int has_ratio;
	unsigned ratio_w, ratio_h;
	unsigned bitrate;	/* Mbit/s */
	unsigned fps;		/* 0: unlimited */
	int has_settings;	/* the operator gave W:H, bitrate or fps */
	const char *esp_res;	/* canonical name, or NULL */
	unsigned esp_quality;	/* 0: not given */
	double duration;	/* seconds; 0: no "for" */
	double segment;		/* seconds; 0: no "segments" (the app's own 60) */
	char duration_text[32];
	size_t ntargets;
	struct ctl_target targets[CTL_MAX_TARGETS];
};

/* wait.c */
struct waiter {
	sigset_t mask;			/* the mask inside ppoll() */
	volatile sig_atomic_t *caught;	/* the signal that came, or 0 */
};

/* Catch SIGINT, SIGTERM and SIGHUP (unless ignored), blocked except while
 * waiting. */
void wait_init(struct waiter *w);
/* The signal caught so far, or 0. */
int wait_signal(const struct waiter *w);
/* ppoll() until until_us on the monotonic clock (INT64_MAX: no limit);
 * -1 at once when a signal has come. */
int wait_poll(const struct waiter *w, struct pollfd *fds, nfds_t nfds,
    int64_t until_us);
/* Sleep up to us microseconds; -1 when a signal cut it short. */
int wait_sleep(const struct waiter *w, int64_t us);

/* escape.c */
/* Append s to buf (size n) with quotes, control characters (C0, DEL, C1)
 * and invisible format characters (bidi controls, zero-width characters
 * and the rest of Unicode's Cf) escaped, cut at max bytes of input. */
void escape_text(char *buf, size_t n, const char *s, size_t max);

/* parse.c */
/* Parse one command line (modified in place). 0, or -1 with a message
 * for the operator in err. An empty line or comment gives 1. */
int cmd_parse(char *line, struct ctl_cmd *c, char *err, size_t errlen);
/* The stop that ends a start "for DURATION". */
void cmd_stop_for(const struct ctl_cmd *start, struct ctl_cmd *stop);
/* The message for an Android camera (a JSON text), or for an ESP board
 * (plain text). Returns a malloc'd string, or NULL when the verb has none. */
char *cmd_android_message(const struct ctl_cmd *c);
char *cmd_esp_message(const struct ctl_cmd *c);
const char *cmd_name(const struct ctl_cmd *c);
void cmd_help(void);

/* status.c */
enum cam_kind { KIND_ANDROID, KIND_ESP, KIND_DEV, KIND_LIVE, KIND_OTHER };

struct cam {
	uint64_t conn;
	const char *peer;	/* strings live in status.root */
	unsigned port;
	const char *path;
	enum cam_kind kind;
	const char *kind_name;
	const char *model;	/* or NULL */
	int recording;
	const char *session;	/* or NULL */
	double fps, kbps;
	const char *last_text;	/* or NULL */
	int64_t last_text_us;	/* -1: none */
	const char *last_status;
	int64_t last_status_us;
};

struct status {
	json_t *root;
	struct cam *cams;
	size_t ncams;
};

/* Load the status file. 0; -1 with errno (ENOENT and such); -2 with a
 * message in err when the file is not a camrec status document. */
int status_load(const char *path, struct status *st, char *err, size_t errlen);
void status_free(struct status *st);
const struct cam *status_find(const struct status *st, uint64_t conn);
int target_matches(const struct ctl_target *t, const struct cam *cam);
void list_cameras(const struct status *st, const struct ctl_cmd *c);

/* send.c */
struct ctl_opts {
	const char *fifo;	/* or NULL */
	const char *status;	/* or NULL */
	double wait;		/* seconds */
	int dry_run;
};

/* Cameras a command was sent to, for the confirmation report and for the
 * stop of a "for". */
struct sent {
	int written;		/* the FIFO lines went out */
	int with_status;	/* addressed by the status file */
	size_t n;
	uint64_t ids[CTL_MAX_CAMERAS];
	enum cam_kind kinds[CTL_MAX_CAMERAS];
	int64_t sent_us;
};

/* Send a start/stop/esp command: resolve targets, write the FIFO lines,
 * report. Returns an exit status; fills *out (may be NULL). */
int cmd_send(const struct ctl_opts *o, const struct waiter *w,
    const struct ctl_cmd *c, struct sent *out);
/* Send the stop for an earlier start to the cameras in *prev. */
int cmd_send_stop(const struct ctl_opts *o, const struct waiter *w,
    const struct ctl_cmd *stop, const struct sent *prev);

/* feedback.c */
/* Report which cameras in *s answered; first is the status the command
 * was addressed from. Returns an exit status. */
int feedback(const struct ctl_opts *o, const struct waiter *w,
    const struct ctl_cmd *c, const struct sent *s, const struct status *first);

#endif
