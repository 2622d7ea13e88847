/* Names for files written beside another one: the hidden temporary name a
 * tool writes to before renaming, a sibling in the same folder, and the
 * "file:" URL handed to ffmpeg. */
#ifndef CAMREC_OUTFILE_H
#define CAMREC_OUTFILE_H

/* outfile.c */
/* Each returns a string to free, or NULL with errno. */
/* .NAME.tmp-PID in the folder of path, so a rename onto path stays in one
 * file system. */
char *outfile_temp(const char *path);
/* name in the folder of path ("name" when path has no '/'). */
char *outfile_beside(const char *path, const char *name);
/* "file:PATH": ffmpeg takes such names literally, no option parsing of a
 * leading '-', no protocol guessed from a ':'. */
char *outfile_url(const char *path);

#endif
