/*
 * storage_file.c - archives in a directory of this machine.
 *
 * An object is written as KEY.tmp-PID, fsynced, renamed to KEY, and the
 * directory fsynced: after a crash an object is either complete or absent
 * (a leftover temporary file is ignored by list and replaced by a re-run).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/storage.h"
#include "util/mem.h"

typedef struct FileStorage
{
	char *root;
} FileStorage;

struct StorageWriter
{
	char *final_path;
	char *tmp_path;
	char *key;
	int fd;
#ifdef PGPART_TEST_HOOKS
	long long written;
	long long fail_after; /* PGPART_TEST_FILE_FAIL_AFTER: ENOSPC after this many bytes */
#endif
};

static char *
path_of(Storage *s, const char *key)
{
	FileStorage *fs = s->impl;

	return pg_xasprintf("%s/%s", strcmp(fs->root, "/") == 0 ? "" : fs->root, key);
}

static bool
io_error(PgpError *err, const char *what, const char *path, int e)
{
	err_set(err, EXIT_RUNTIME, "could not %s \"%s\": %s", what, path, strerror(e));
	if (e == ENOSPC)
		err_hint(err, "The archive's file system is full; free space and run again.");
	else if (e == EACCES || e == EPERM)
		err_hint(err, "pgpart (the client) needs write access to the archive directory.");
	return false;
}

/* mkdir -p of the directories of path (below the root, which exists) */
static bool
make_parents(const char *path, PgpError *err)
{
	char *dir = pg_xstrdup(path);
	char *p;
	bool ok = true;

	for (p = dir + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		{
			ok = io_error(err, "create directory", dir, errno);
			break;
		}
		*p = '/';
	}
	free(dir);
	return ok;
}

static void
fsync_dir_of(const char *path)
{
	char *dir = pg_xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd;

	if (slash && slash != dir)
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0)
	{
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static bool
file_put_open(Storage *s, const char *key, StorageWriter **wp, PgpError *err)
{
	StorageWriter *w = pg_xcalloc(1, sizeof(*w));

	w->final_path = path_of(s, key);
	w->tmp_path = pg_xasprintf("%s.tmp-%ld", w->final_path, (long) getpid());
	w->key = pg_xstrdup(key);
	*wp = NULL;
	if (!make_parents(w->final_path, err))
		goto fail;
	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (w->fd < 0)
	{
		io_error(err, "create file", w->tmp_path, errno);
		goto fail;
	}
#ifdef PGPART_TEST_HOOKS
	{
		const char *env = getenv("PGPART_TEST_FILE_FAIL_AFTER");

		w->fail_after = env ? atoll(env) : -1;
	}
#endif
	*wp = w;
	return true;
fail:
	free(w->final_path);
	free(w->tmp_path);
	free(w->key);
	free(w);
	return false;
}

static bool
file_put_write(StorageWriter *w, const void *data, size_t n, PgpError *err)
{
	const char *p = data;

	while (n > 0)
	{
		ssize_t r;

#ifdef PGPART_TEST_HOOKS
		if (w->fail_after >= 0 && w->written + (long long) n > w->fail_after)
			return io_error(err, "write file", w->tmp_path, ENOSPC);
		w->written += (long long) n;
#endif
		r = write(w->fd, p, n);
		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			return io_error(err, "write file", w->tmp_path, errno);
		}
		p += r;
		n -= (size_t) r;
	}
	return true;
}

static bool
file_put_finish(StorageWriter *w, bool commit, PgpError *err)
{
	bool ok = false;

	if (commit)
	{
		if (fsync(w->fd) != 0)
			io_error(err, "fsync file", w->tmp_path, errno);
		else if (close(w->fd) != 0)
		{
			w->fd = -1;
			io_error(err, "close file", w->tmp_path, errno);
		}
		else
		{
			w->fd = -1;
			if (rename(w->tmp_path, w->final_path) != 0)
				io_error(err, "rename file to", w->final_path, errno);
			else
			{
				fsync_dir_of(w->final_path);
				ok = true;
			}
		}
	}
	if (w->fd >= 0)
		close(w->fd);
	if (!ok)
		unlink(w->tmp_path);
	free(w->final_path);
	free(w->tmp_path);
	free(w->key);
	free(w);
	return ok || !commit;
}

static bool
file_get(Storage *s, const char *key, StorageChunkFn fn, void *arg, PgpError *err)
{
	char *path = path_of(s, key);
	char *buf = NULL;
	int fd;
	bool ok = false;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		if (errno == ENOENT)
		{
			err_set(err, EXIT_RUNTIME, "archive object \"%s\" does not exist", path);
			err_hint(err, "\"pgpart archive list LOCATION\" shows what the location holds.");
		}
		else
			io_error(err, "open file", path, errno);
		free(path);
		return false;
	}
	buf = pg_xmalloc(1 << 17);
	for (;;)
	{
		ssize_t r = read(fd, buf, 1 << 17);

		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			io_error(err, "read file", path, errno);
			break;
		}
		if (r == 0)
		{
			ok = true;
			break;
		}
		if (!fn(arg, buf, (size_t) r, err))
			break;
	}
	close(fd);
	free(buf);
	free(path);
	return ok;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool
walk(const char *dir, const char *rel, NameList *keys, PgpError *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
	{
		if (errno == ENOENT && rel[0])
			return true;
		return io_error(err, "read directory", dir, errno);
	}
	while ((e = readdir(d)) != NULL)
	{
		char *full, *relname;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strstr(e->d_name, ".tmp-"))
			continue;
		full = pg_xasprintf("%s/%s", dir, e->d_name);
		relname = rel[0] ? pg_xasprintf("%s/%s", rel, e->d_name) : pg_xstrdup(e->d_name);
		if (stat(full, &st) == 0)
		{
			if (S_ISDIR(st.st_mode))
			{
				if (!walk(full, relname, keys, err))
				{
					free(full);
					free(relname);
					closedir(d);
					return false;
				}
			}
			else if (S_ISREG(st.st_mode))
				namelist_add(keys, relname);
		}
		free(full);
		free(relname);
	}
	closedir(d);
	return true;
}

static bool
file_list(Storage *s, const char *prefix, NameList *keys, PgpError *err)
{
	FileStorage *fs = s->impl;
	bool ok;

	(void) prefix; /* the whole location: it holds one pgpart archive tree */
	ok = walk(fs->root, "", keys, err);
	if (ok && keys->n > 1)
		qsort(keys->items, (size_t) keys->n, sizeof(char *), cmp_str);
	return ok;
}

static bool
file_head(Storage *s, const char *key, bool *exists, long long *size, PgpError *err)
{
	char *path = path_of(s, key);
	struct stat st;
	bool ok = true;

	*exists = false;
	*size = 0;
	if (stat(path, &st) == 0)
	{
		*exists = S_ISREG(st.st_mode);
		*size = (long long) st.st_size;
	}
	else if (errno != ENOENT)
		ok = io_error(err, "stat file", path, errno);
	free(path);
	return ok;
}

static bool
file_del(Storage *s, const char *key, PgpError *err)
{
	char *path = path_of(s, key);
	bool ok = true;

	if (unlink(path) != 0 && errno != ENOENT)
		ok = io_error(err, "remove file", path, errno);
	free(path);
	return ok;
}

static void
file_close(Storage *s)
{
	FileStorage *fs = s->impl;

	free(fs->root);
	free(fs);
	free(s);
}

static const StorageOps file_ops = {file_put_open, file_put_write, file_put_finish, file_get,
									file_list,	   file_head,	   file_del,		file_close};

bool
storage_file_open(const ArchUrl *u, Storage **sp, PgpError *err)
{
	struct stat st;
	Storage *s;
	FileStorage *fs;

	if (stat(u->path, &st) != 0 || !S_ISDIR(st.st_mode))
	{
		err_set(err, EXIT_USAGE, "archive directory \"%s\" does not exist", u->path);
		err_hint(err, "Create it first; pgpart does not create the top directory of a "
					  "file:// location.");
		return false;
	}
	fs = pg_xcalloc(1, sizeof(*fs));
	fs->root = pg_xstrdup(u->path);
	s = pg_xcalloc(1, sizeof(*s));
	s->ops = &file_ops;
	s->impl = fs;
	*sp = s;
	return true;
}
