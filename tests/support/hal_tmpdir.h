/* Temporary directories for the HAL tests. */
#ifndef HAL_TMPDIR_H
#define HAL_TMPDIR_H

#include <stddef.h>

/* Make a fresh mkdtemp directory under $TMPDIR (or /tmp) into @buf (asserts on failure). */
void hal_tmpdir_make(char *buf, size_t cap);
/* Remove @path and everything below it. */
void hal_tmpdir_remove(const char *path);
/* Number of entries of directory @path whose name starts with @prefix ("" for all), -1 on error. */
int hal_tmpdir_count(const char *path, const char *prefix);

#endif
