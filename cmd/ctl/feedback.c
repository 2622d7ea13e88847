/* Which cameras answered a command: the status file is read again every
 * 100 ms until each has confirmed, refused, or left, or -w runs out. An
 * answer counts only if it arrived after the command was written (the
 * status file's times and ours are both CLOCK_MONOTONIC). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

enum answer { ANS_NONE, ANS_OK, ANS_ERROR, ANS_GONE };

static enum answer
answer_of(const struct cam *cam, enum cam_kind kind, const struct ctl_cmd *c,
    int64_t sent_us)
{
	const char *want, *t;

	if (cam == NULL)
		return ANS_GONE;
	if (kind == KIND_ANDROID) {
		if (cam->last_status == NULL || cam->last_status_us < sent_us)
			return ANS_NONE;
		want = c->verb == VERB_START ? "capture_started" : "capture_stopped";
		if (strcmp(cam->last_status, want) == 0)
			return ANS_OK;
		return strcmp(cam->last_status, "error") == 0 ? ANS_ERROR : ANS_NONE;
	}
	if ((t = cam->last_text) == NULL || cam->last_text_us < sent_us)
		return ANS_NONE;
	if (strncmp(t, "ACK", 3) == 0 || (c->verb == VERB_ESP_STATUS &&
	    strncmp(t, "STATUS", 6) == 0))
		return ANS_OK;
	return strncmp(t, "ERROR", 5) == 0 ? ANS_ERROR : ANS_NONE;
}

/* What the camera said, escaped: the "message" of an Android status
 * object, or an ESP board's whole line. */
static void
said(char *buf, size_t n, const struct cam *cam)
{
	json_t *o;
	const char *m;

	buf[0] = '\0';
	if (cam->last_text == NULL)
		return;
	if (cam->kind == KIND_ANDROID && (o = json_loads(cam->last_text, 0, NULL))) {
		if ((m = json_string_value(json_object_get(o, "message"))) != NULL)
			escape_text(buf, n, m, 160);
		json_decref(o);
		return;
	}
	escape_text(buf, n, cam->last_text, 160);
}

static void
describe(char *buf, size_t n, const struct cam *cam, uint64_t id)
{
	char peer[80] = "", model[80] = "";

	if (cam == NULL) {
		snprintf(buf, n, "%llu", (unsigned long long)id);
		return;
	}
	escape_text(peer, sizeof(peer), cam->peer, 64);
	escape_text(model, sizeof(model), cam->model ? cam->model :
	    cam->kind_name, 60);
	snprintf(buf, n, "%llu %s:%u %s", (unsigned long long)id, peer,
	    cam->port, model);
}

int
feedback(const struct ctl_opts *o, const struct waiter *w,
    const struct ctl_cmd *c, const struct sent *s, const struct status *first)
{
	enum answer ans[sizeof(s->ids) / sizeof(s->ids[0])];
	struct status st = { 0 }, next;
	int64_t deadline = s->sent_us + (int64_t)(o->wait * 1e6);
	char errbuf[128], who[200], text[200];
	size_t i, nok = 0, nerr = 0, nnone = 0, pending;
	const struct cam *cam;

	for (;;) {
		if (status_load(o->status, &next, errbuf, sizeof(errbuf)) == 0) {
			status_free(&st);
			st = next;
		}
		pending = 0;
		for (i = 0; i < s->n; i++) {
			ans[i] = answer_of(status_find(st.root ? &st : first,
			    s->ids[i]), s->kinds[i], c, s->sent_us);
			pending += ans[i] == ANS_NONE;
		}
		if (pending == 0 || mono_us() >= deadline || wait_signal(w))
			break;
		if (wait_sleep(w, 100000) < 0)
			break;
	}
	for (i = 0; i < s->n; i++) {
		cam = status_find(st.root ? &st : first, s->ids[i]);
		describe(who, sizeof(who), cam ? cam : status_find(first, s->ids[i]),
		    s->ids[i]);
		switch (ans[i]) {
		case ANS_OK:
		case ANS_ERROR:
			said(text, sizeof(text), cam);
			printf("  %s: %s: %s%s\"%s\"\n", who,
			    ans[i] == ANS_OK ? "confirmed" : "error",
			    cam->kind == KIND_ANDROID ? cam->last_status : "",
			    cam->kind == KIND_ANDROID ? " " : "", text);
			if (ans[i] == ANS_OK)
				nok++;
			else
				nerr++;
			break;
		case ANS_GONE:
			printf("  %s: disconnected\n", who);
			nnone++;
			break;
		case ANS_NONE:
			printf("  %s: no answer within %gs\n", who, o->wait);
			nnone++;
			break;
		}
	}
	printf("%s: %zu confirmed, %zu error, %zu no answer\n", cmd_name(c), nok,
	    nerr, nnone);
	status_free(&st);
	if (nerr > 0)
		return EX_CTL_CAMERROR;
	return nnone > 0 ? EX_CTL_NOANSWER : 0;
}
