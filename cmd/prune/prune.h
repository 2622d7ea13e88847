/* prune: the files of one tool, top down: prune.c (options, goals, the
 * order of deletion) over remove.c (deleting one session under its
 * locks), over scan.c (what each folder is), over tree.c (sizes and
 * removal of a folder tree, never following a symlink). */
#ifndef CAMREC_PRUNE_H
#define CAMREC_PRUNE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The file camrec.sh keeps in a session folder while its hook is due. */
#define HOOK_DUE ".hook-due"

/* What a folder of the recordings folder is, and whether prune may
 * delete it. */
enum kind {
	KIND_FINALIZED,		/* a session with its stream.mp4: deletable */
	KIND_OLD,		/* only stream.h264, the old recorder's: deletable */
	KIND_LEFTOVER,		/* a deletion prune did not finish: deletable */
	KIND_OPEN,		/* session.json says recording */
	KIND_UNFINALIZED,	/* ended, but no stream.mp4 yet */
	KIND_FINALIZING,	/* temporaries of a live mux or thumb */
	KIND_BUSY,		/* locked, or its hook is due (HOOK_DUE) */
	KIND_OTHER,		/* not a session (or not one prune understands) */
};

struct entry {
	char *name;
	enum kind kind;
	const char *why;	/* for the kinds kept: a few words */
	int64_t time_us;	/* its end, microseconds since the epoch */
	int ended;		/* time_us is session.json's end, not a file's */
	uint64_t bytes;		/* allocated, as du counts */
	dev_t dev;
	ino_t ino;
};

struct listing {
	struct entry *entries;
	size_t n;
	uint64_t total;		/* bytes of everything in the folder */
};

/* tree.c */
/* Bytes allocated to name in the folder dir_fd and everything below it,
 * on the file system dev only, symlinks not followed. */
uint64_t tree_size(int dir_fd, const char *name, dev_t dev);
/* Remove name from the folder dir_fd with everything below it: first
 * (when not NULL) its entry called first, so that a folder half removed
 * no longer looks like a session. Never follows a symlink, never leaves
 * the file system dev. 0, or -1 with errno. */
int tree_remove(int dir_fd, const char *name, const char *first, dev_t dev);

/* scan.c */
/* List the folders of the recordings folder open at root_fd: every
 * directory entry except hidden ones (.camrec.lock and temporaries), with
 * what it is. 0, or -1 with errno. */
int scan(int root_fd, struct listing *l, int64_t now_us);
/* What the session folder open at dir_fd is (e->kind, e->why,
 * e->time_us); e->name is its name in the recordings folder. */
void scan_classify(int dir_fd, struct entry *e, int64_t now_us);
void scan_free(struct listing *l);

/* remove.c */
/* Delete the deletable entry e of the folder root_fd, after taking its
 * locks and looking at it again under them. 1 deleted, 0 left alone
 * (e->kind and e->why then say why), -1 with errno. */
int remove_session(int root_fd, struct entry *e, int64_t now_us);

#endif
