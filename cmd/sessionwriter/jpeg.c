/* An ESP32 board's captures. The board sends JPEG images and no time of
 * its own, and says when it starts or stops only as an ACK to a command:
 * so a session begins with the first image after the connection opened
 * or after a start was acknowledged, and ends when a stop (or a new
 * start) is acknowledged, when the board disconnects, or when no image
 * came for longer than the idle time. Which command an ACK answers is
 * taken from the SENT record of the last command wsrecv passed to the
 * board, not from the ACK's free text (the real sketch writes Chinese).
 * Below sessionwriter.c; calls only session.c and images.c. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "sessionwriter.h"
#include "utf8.h"
#include "util.h"

#define ACK_KEEP 256		/* bytes of a start's ACK kept for session.json */

/* Whether text (len bytes) starts with the word w. */
static int
starts_word(const unsigned char *text, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && memcmp(text, w, n) == 0 &&
	    (len == n || text[n] == ' ' || text[n] == '\t' || text[n] == '\r' ||
	    text[n] == '\n' || text[n] == ':');
}

int
esp_idle(struct conn *c, uint64_t now_us, uint64_t idle_us)
{
	if (c->s == NULL || c->s->kind != SESSION_IMAGES || idle_us == 0 ||
	    now_us < c->last_image_t_us || now_us - c->last_image_t_us <= idle_us)
		return 0;
	session_end(c, c->last_image_t_us, "idle");
	return 1;
}

int
esp_image(struct sessions *ss, struct images *im, struct conn *c,
    const struct rec *r, uint64_t idle_us)
{
	struct rec_image image;
	int changed;

	if (rec_image_parse(r, &image) < 0)
		return 0;
	if (im->dir != NULL)
		images_add(im, image.jpeg, image.jpeg_len, session_wall(c, r->t_us));
	changed = esp_idle(c, r->t_us, idle_us);
	if (c->s == NULL) {
		/* After a write error, wait; then go on in a new session. */
		if (c->discard && r->t_us < c->retry_at_us)
			return changed;
		if (session_open(ss, c, r->t_us, c->discard ? "resumed" :
		    c->esp_started ? "start" : "images", c->esp_ack, SESSION_IMAGES) < 0)
			return 1;
		c->discard = 0;
		c->esp_started = 0;
		changed = 1;
	}
	c->last_image_t_us = r->t_us;
	session_image(c, &image, r->t_us);
	return changed || c->s == NULL;
}

void
esp_sent(struct conn *c, const struct rec *r)
{
	if (r->flags & REC_SENT_BINARY)
		return;
	if (starts_word(r->body, r->len, "start"))
		c->esp_sent = ESP_SENT_START;
	else if (starts_word(r->body, r->len, "stop"))
		c->esp_sent = ESP_SENT_STOP;
	else
		c->esp_sent = ESP_SENT_NONE;
}

int
esp_text(struct conn *c, const struct rec *r)
{
	int sent = c->esp_sent;

	if (starts_word(r->body, r->len, "ERROR")) {
		c->esp_sent = ESP_SENT_NONE;
		return 0;
	}
	if (!starts_word(r->body, r->len, "ACK") || sent == ESP_SENT_NONE)
		return 0;
	c->esp_sent = ESP_SENT_NONE;
	c->esp_started = sent == ESP_SENT_START;
	/* The sketch says there what it started with (size, quality). */
	free(c->esp_ack);
	c->esp_ack = NULL;
	if (c->esp_started) {
		size_t n = r->len < ACK_KEEP ? r->len : ACK_KEEP;

		if ((c->esp_ack = malloc(n + 1)) == NULL)
			err(1, NULL);
		memcpy(c->esp_ack, r->body, n);
		c->esp_ack[n] = '\0';
		utf8_fix(c->esp_ack, n);
	}
	if (c->s == NULL)
		return 0;
	session_end(c, r->t_us, sent == ESP_SENT_STOP ? "stop" : "start");
	return 1;
}
