/* What the simulated cameras send: an H.264 clip cut into access units (the
 * way MediaCodec hands them out), or a set of JPEG images. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "camsim.h"
#include "h264.h"
#include "mapfile.h"
#include "rec.h"

/* A whole file in a buffer of its own: the clip outlives no mapping, so
 * a clip rewritten while camsim runs cannot fault it. */
static int
load_file(const char *path, unsigned char **out, size_t *outlen)
{
	struct mapfile mf;

	if (mapfile_open(path, &mf) < 0)
		return -1;
	if ((*out = malloc(mf.len > 0 ? mf.len : 1)) == NULL) {
		mapfile_close(&mf);
		return -1;
	}
	memcpy(*out, mf.p, mf.len);
	*outlen = mf.len;
	mapfile_close(&mf);
	return 0;
}

static int
add_unit(struct media *m, size_t off, size_t len)
{
	struct unit *nu;

	if ((m->nunits & (m->nunits - 1)) == 0) {
		nu = realloc(m->units, (m->nunits ? m->nunits * 2 : 1) * sizeof(*nu));
		if (nu == NULL)
			return -1;
		m->units = nu;
	}
	m->units[m->nunits].off = off;
	m->units[m->nunits].len = len;
	m->nunits++;
	if (len > m->max_unit)
		m->max_unit = len;
	return 0;
}

static int
au_found(const struct h264_au *au, void *arg)
{
	struct media *m = arg;
	size_t start = au->start < m->config_len ? m->config_len : au->start;

	/* The config packet already carries the start of the first unit. */
	if (au->end <= start)
		return 0;
	return add_unit(m, start, au->end - start) < 0 ? -1 : 0;
}

/* The leading SPS/PPS become the config packet, as MediaCodec hands them
 * out; the rest is cut into access units by h264_au_scan, so config plus
 * units give back the clip byte for byte. */
int
media_load_clip(struct media *m, const char *path, const char **why)
{
	struct h264_nal nal;
	size_t pos = 0;

	memset(m, 0, sizeof(*m));
	if (load_file(path, &m->buf, &m->len) < 0)
		return -1;
	while (h264_next_nal(m->buf, m->len, &pos, &nal))
		if (nal.len > 0 && nal.type != NAL_SPS && nal.type != NAL_PPS &&
		    nal.type != NAL_AUD) {
			m->config_len = nal.start;
			break;
		}
	if (m->config_len == 0 || h264_classify(m->buf, m->config_len) != FRAME_CONFIG) {
		*why = "no SPS/PPS at the start of the clip";
		errno = EINVAL;
		return -2;
	}
	if (h264_au_scan(m->buf, m->len, au_found, m) != 0)
		return -1;
	if (m->nunits == 0) {
		*why = "no pictures in the clip";
		errno = EINVAL;
		return -2;
	}
	if (m->config_len > m->max_unit)
		m->max_unit = m->config_len;
	return 0;
}

static int
add_jpeg(struct media *m, const char *path, const char **why)
{
	struct mapfile img;
	unsigned char *nb;
	size_t len;

	if (mapfile_open(path, &img) < 0)
		return -1;
	len = img.len;
	if (len < 4 || img.p[0] != 0xff || img.p[1] != 0xd8 ||
	    img.p[len - 2] != 0xff || img.p[len - 1] != 0xd9) {
		mapfile_close(&img);
		*why = "not a JPEG image (FF D8 ... FF D9)";
		errno = EINVAL;
		return -2;
	}
	if ((nb = realloc(m->buf, m->len + len)) == NULL) {
		mapfile_close(&img);
		return -1;
	}
	m->buf = nb;
	memcpy(m->buf + m->len, img.p, len);
	mapfile_close(&img);
	if (add_unit(m, m->len, len) < 0)
		return -1;
	m->len += len;
	return 0;
}

static int
jpeg_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && ((n > 4 && strcasecmp(d->d_name + n - 4, ".jpg") == 0) ||
	    (n > 5 && strcasecmp(d->d_name + n - 5, ".jpeg") == 0));
}

/* Each path is a JPEG file or a folder whose *.jpg files are taken in name
 * order. On failure the path is left in failed, and for -2 *why says what
 * is wrong with its content. */
int
media_load_jpegs(struct media *m, char **paths, int npaths, char *failed,
    size_t n, const char **why)
{
	struct dirent **names;
	struct stat st;
	char sub[4096];
	int i, j, nnames, r;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < npaths; i++) {
		snprintf(failed, n, "%s", paths[i]);
		if (stat(paths[i], &st) < 0)
			return -1;
		if (!S_ISDIR(st.st_mode)) {
			if ((r = add_jpeg(m, paths[i], why)) < 0)
				return r;
			continue;
		}
		if ((nnames = scandir(paths[i], &names, jpeg_name, alphasort)) < 0)
			return -1;
		r = 0;
		for (j = 0; j < nnames; j++) {
			if (r == 0) {
				snprintf(sub, sizeof(sub), "%s/%s", paths[i], names[j]->d_name);
				snprintf(failed, n, "%s", sub);
				r = add_jpeg(m, sub, why);
			}
			free(names[j]);
		}
		free(names);
		if (r < 0)
			return r;
	}
	if (m->nunits == 0) {
		*why = "no JPEG images";
		errno = ENOENT;
		return -2;
	}
	return 0;
}

void
media_free(struct media *m)
{
	free(m->buf);
	free(m->units);
	memset(m, 0, sizeof(*m));
}
