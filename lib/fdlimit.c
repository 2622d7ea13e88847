#include <sys/resource.h>

#include "util.h"

/* Raise the soft limit on open files to the hard limit, but no higher than
 * cap (lws sizes its tables by the limit, so "unlimited" would cost memory).
 * Returns the limit now in force, or 0 when it cannot be read. */
rlim_t
fdlimit_raise(rlim_t cap)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur >= cap && rl.rlim_cur != RLIM_INFINITY)
		return rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > cap)
		rl.rlim_cur = cap;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	return rl.rlim_cur;
}
