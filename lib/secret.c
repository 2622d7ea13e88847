/* The shared secret of access control: one line of a file, compared in
 * constant time. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"

static int
token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int
secret_load(const char *path, char *buf, size_t *len, const char **why)
{
	char raw[SECRET_MAX + 2];
	ssize_t n;
	size_t i, end;
	int fd, e;

	*why = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	do
		n = read(fd, raw, sizeof raw);
	while (n < 0 && errno == EINTR);
	e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	for (end = 0; end < (size_t)n && raw[end] != '\n'; end++)
		;
	while (end > 0 && (raw[end - 1] == ' ' || raw[end - 1] == '\t' ||
	    raw[end - 1] == '\r'))
		end--;
	if (end > SECRET_MAX)
		*why = "longer than 256 characters";
	else if (end < SECRET_MIN)
		*why = end == 0 ? "empty" : "shorter than 16 characters";
	for (i = 0; *why == NULL && i < end; i++)
		if (!token_char((unsigned char)raw[i]))
			*why = "has a character other than letters, digits, - . _ ~";
	if (*why != NULL) {
		explicit_bzero(raw, sizeof raw);
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, raw, end);
	buf[end] = '\0';
	*len = end;
	explicit_bzero(raw, sizeof raw);
	return 0;
}

int
secret_equal(const char *given, size_t glen, const char *want, size_t wlen)
{
	volatile unsigned char diff = 0;
	size_t i;

	/* Every byte of want is compared, against a byte of given or, past
	 * its end, against itself with the length already counted wrong. */
	diff |= glen != wlen;
	for (i = 0; i < wlen; i++)
		diff |= (unsigned char)want[i] ^
		    (unsigned char)(i < glen ? given[i] : ~want[i]);
	return diff == 0;
}
