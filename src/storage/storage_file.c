/*
 * storage_file.c - archives in a directory of this machine.
 *
 * An object is written under a fresh temporary name beside it
 * (NAME.tmp-PID-RANDOM, created with O_CREAT | O_EXCL | O_NOFOLLOW, mode
 * 0600), fsynced, renamed to NAME, and the directory fsynced: after a crash
 * an object is either complete or absent (a leftover temporary file is
 * ignored by list).  Folders pgpart creates are 0700; the umask can only
 * make either stricter.
 *
 * The location's own path is taken as given (the administrator may have made
 * it a link to another disk).  Below it no symbolic link is followed: every
 * folder is opened with O_NOFOLLOW relative to the one above (openat), and
 * objects are opened, created, renamed and removed relative to their folder,
 * so a link planted in a shared folder can neither redirect a write nor be
 * truncated through; a non-regular file (a FIFO) is refused, not opened.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"
#include "util/log.h"
#include "util/mem.h"

typedef struct FileStorage
{
	char *root;
	bool warned_shared; /* the warning about a folder others can write, once */
} FileStorage;

struct StorageWriter
{
	FileStorage *fs;
	int dirfd;		/* the object's folder */
	char *name;		/* its name in dirfd */
	char *tmp_name; /* the temporary file's name in dirfd */
	char *path;		/* ROOT/KEY and ROOT/KEY.tmp-..., for messages */
	char *tmp_path;
	int fd;
#ifdef PGPART_TEST_HOOKS
	long long written;
	long long fail_after; /* PGPART_TEST_FILE_FAIL_AFTER: ENOSPC after this many bytes */
#endif
};

static char *
path_of(const FileStorage *fs, const char *key)
{
	return pg_xasprintf("%s/%s", strcmp(fs->root, "/") == 0 ? "" : fs->root, key);
}

static bool
io_error(PgpError *err, const char *what, const char *path, int e)
{
	if (e == ELOOP)
	{
		err_set(err, EXIT_RUNTIME, "could not %s \"%s\": it is a symbolic link", what, path);
		err_detail(err, "pgpart follows no symbolic link below the archive location: one "
						"planted in a shared folder could redirect or overwrite files.");
		err_hint(err, "Remove the link (and find out who made it); give the real folder as "
					  "the location instead.");
		return false;
	}
	err_set(err, EXIT_RUNTIME, "could not %s \"%s\": %s", what, path, strerror(e));
	if (e == ENOSPC)
		err_hint(err, "The archive's file system is full; free space and run again.");
	else if (e == EACCES || e == EPERM)
		err_hint(err, "pgpart (the client) needs write access to the archive directory.");
	return false;
}

/* io_error for the file of key; e is the errno, taken before the path is built */
static bool
key_error(const FileStorage *fs, const char *key, const char *what, int e, PgpError *err)
{
	char *path = path_of(fs, key);
	bool ok = io_error(err, what, path, e);

	free(path);
	return ok;
}

static void
warn_if_shared(FileStorage *fs, int dirfd, const char *path)
{
	struct stat st;

	if (fs->warned_shared || fstat(dirfd, &st) != 0)
		return;
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
	{
		fs->warned_shared = true;
		log_warning("archive folder \"%s\" is writable by other users (mode %04o): they can "
					"remove or replace archives there (a replaced one is refused by restore, a "
					"removed one is lost); keep archives in a folder only their owner can write",
					path, (unsigned) (st.st_mode & 07777));
	}
}

/*
 * The folder that holds key, opened without following links below the root
 * (created 0700 where missing when create); *leaf is key's last component.
 * Returns the folder's descriptor, or -1 with err set (errno kept).
 */
static int
open_dir_of(FileStorage *fs, const char *key, bool create, const char **leaf, PgpError *err)
{
	char *dir = pg_xstrdup(key);
	char *seg = dir, *slash;
	int fd;

	*leaf = strrchr(key, '/') ? strrchr(key, '/') + 1 : key;
	/* a key's components are plain names: keys come from manifests too */
	if (archurl_path_has_dot_segment(key, true))
	{
		err_set(err, EXIT_USAGE, "invalid archive object name \"%s\"", key);
		err_detail(err, "Names of objects in a file:// location are plain names: no empty, "
						"\".\" or \"..\" components.");
		free(dir);
		errno = EINVAL;
		return -1;
	}
	fd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
	{
		int e = errno;

		io_error(err, "open directory", fs->root, e);
		free(dir);
		errno = e;
		return -1;
	}
	if (create)
		warn_if_shared(fs, fd, fs->root);
	while ((slash = strchr(seg, '/')) != NULL)
	{
		int next;

		*slash = '\0';
		if (create && mkdirat(fd, seg, 0700) != 0 && errno != EEXIST)
		{
			int e = errno;

			key_error(fs, dir, "create directory", e, err);
			close(fd);
			free(dir);
			errno = e;
			return -1;
		}
		next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
		{
			int e = errno == ENOTDIR ? ELOOP : errno;
			char *p = path_of(fs, dir);
			struct stat st;

			/* O_DIRECTORY | O_NOFOLLOW on a link says ENOTDIR on some systems */
			if (errno == ENOTDIR && fstatat(fd, seg, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				!S_ISLNK(st.st_mode))
				e = ENOTDIR;
			if (e == ENOENT)
			{
				err_set(err, EXIT_RUNTIME, "archive object \"%s/%s\" does not exist", p,
						slash + 1);
				err_hint(err, "\"pgpart archive list LOCATION\" shows what the location holds.");
			}
			else
				io_error(err, "open directory", p, e);
			free(p);
			close(fd);
			free(dir);
			errno = e;
			return -1;
		}
		close(fd);
		fd = next;
		if (create)
		{
			char *p = path_of(fs, dir);

			warn_if_shared(fs, fd, p);
			free(p);
		}
		*slash = '/';
		seg = slash + 1;
	}
	free(dir);
	return fd;
}

/* a temporary name nobody can have guessed (a planted one is skipped, never opened) */
static char *
tmp_name_for(const char *leaf, int attempt)
{
	unsigned char r[6];
	char hex[13];
	int i;

#ifdef PGPART_TEST_HOOKS
	/* PGPART_TEST_FILE_TMP=SUFFIX: the first attempt's name, for the planted-link test */
	if (attempt == 0 && getenv("PGPART_TEST_FILE_TMP"))
		return pg_xasprintf("%s.tmp-%s", leaf, getenv("PGPART_TEST_FILE_TMP"));
#else
	(void) attempt;
#endif
	if (RAND_bytes(r, sizeof(r)) != 1)
	{
		/* no entropy: still unique per process and attempt, and O_EXCL keeps it safe */
		for (i = 0; i < (int) sizeof(r); i++)
			r[i] = (unsigned char) (attempt * 31 + i);
	}
	for (i = 0; i < (int) sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return pg_xasprintf("%s.tmp-%ld-%s", leaf, (long) getpid(), hex);
}

static void
writer_free(StorageWriter *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	FREE_ALL(w->name, w->tmp_name, w->path, w->tmp_path, w);
}

static bool
file_put_open(Storage *s, const char *key, StorageWriter **wp, PgpError *err)
{
	FileStorage *fs = s->impl;
	StorageWriter *w = pg_xcalloc(1, sizeof(*w));
	const char *leaf;
	int attempt;

	*wp = NULL;
	w->fs = fs;
	w->fd = -1;
	w->path = path_of(fs, key);
	w->dirfd = open_dir_of(fs, key, true, &leaf, err);
	if (w->dirfd < 0)
	{
		writer_free(w);
		return false;
	}
	w->name = pg_xstrdup(leaf);
	for (attempt = 0; attempt < 10 && w->fd < 0; attempt++)
	{
		free(w->tmp_name);
		w->tmp_name = tmp_name_for(leaf, attempt);
		w->fd = openat(w->dirfd, w->tmp_name,
					   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (w->fd < 0 && errno != EEXIST)
			break;
	}
	free(w->tmp_path);
	w->tmp_path = pg_xasprintf("%s.tmp", w->path);
	if (w->fd < 0)
	{
		io_error(err, "create file", w->tmp_path, errno);
		writer_free(w);
		return false;
	}
	free(w->tmp_path);
	w->tmp_path = pg_xasprintf("%.*s%s", (int) (strlen(w->path) - strlen(leaf)), w->path,
							   w->tmp_name);
#ifdef PGPART_TEST_HOOKS
	{
		const char *env = getenv("PGPART_TEST_FILE_FAIL_AFTER");

		w->fail_after = env ? atoll(env) : -1;
	}
#endif
	*wp = w;
	return true;
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
			/* replaces whatever has the name (a link is replaced, not followed) */
			if (renameat(w->dirfd, w->tmp_name, w->dirfd, w->name) != 0)
				io_error(err, "rename file to", w->path, errno);
			else
			{
				fsync(w->dirfd);
				ok = true;
			}
		}
	}
	if (w->fd >= 0)
	{
		close(w->fd);
		w->fd = -1;
	}
	if (!ok)
		unlinkat(w->dirfd, w->tmp_name, 0);
	writer_free(w);
	return ok || !commit;
}

static bool
file_get(Storage *s, const char *key, StorageChunkFn fn, void *arg, PgpError *err)
{
	FileStorage *fs = s->impl;
	char *path = path_of(fs, key);
	char *buf = NULL;
	const char *leaf;
	int dirfd, fd;
	struct stat st;
	bool ok = false;

	dirfd = open_dir_of(fs, key, false, &leaf, err);
	if (dirfd < 0)
	{
		free(path);
		return false;
	}
	/* O_NONBLOCK: a FIFO planted in its place must not hang the open */
	fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dirfd);
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
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		err_set(err, EXIT_RUNTIME, "archive object \"%s\" is not a regular file", path);
		close(fd);
		free(path);
		return false;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
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

/* every regular file below dirfd (which walk closes); links are not followed, only skipped */
static bool
walk(int dirfd, const char *path, const char *rel, NameList *keys, PgpError *err)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (d == NULL)
	{
		close(dirfd);
		return io_error(err, "read directory", path, errno);
	}
	while ((e = readdir(d)) != NULL)
	{
		char *full, *relname;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strstr(e->d_name, ".tmp-"))
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		full = pg_xasprintf("%s/%s", path, e->d_name);
		relname = rel[0] ? pg_xasprintf("%s/%s", rel, e->d_name) : pg_xstrdup(e->d_name);
		if (S_ISDIR(st.st_mode))
		{
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0 && !walk(sub, full, relname, keys, err))
			{
				free(full);
				free(relname);
				closedir(d);
				return false;
			}
		}
		else if (S_ISREG(st.st_mode))
			namelist_add(keys, relname);
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

	int fd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	(void) prefix; /* the whole location: it holds one pgpart archive tree */
	if (fd < 0)
		return io_error(err, "read directory", fs->root, errno);
	ok = walk(fd, fs->root, "", keys, err);
	if (ok && keys->n > 1)
		qsort(keys->items, (size_t) keys->n, sizeof(char *), cmp_str);
	return ok;
}

/*
 * Like open_dir_of() without creating anything, for the operations to which a
 * missing folder simply means a missing object: returns -1 with *ok true then,
 * and -1 with *ok false and err set when the folder could not be opened.
 */
static int
open_existing_dir_of(FileStorage *fs, const char *key, const char **leaf, bool *ok, PgpError *err)
{
	PgpError derr;
	int dirfd;

	err_init(&derr);
	dirfd = open_dir_of(fs, key, false, leaf, &derr);
	*ok = dirfd >= 0 || errno == ENOENT;
	if (dirfd < 0 && !*ok)
	{
		err_clear(err);
		*err = derr;
	}
	else
		err_clear(&derr);
	return dirfd;
}

static bool
file_head(Storage *s, const char *key, bool *exists, long long *size, PgpError *err)
{
	FileStorage *fs = s->impl;
	const char *leaf;
	struct stat st;
	int dirfd;
	bool ok = true;

	*exists = false;
	*size = 0;
	dirfd = open_existing_dir_of(fs, key, &leaf, &ok, err);
	if (dirfd < 0)
		return ok;
	if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0)
	{
		*exists = S_ISREG(st.st_mode);
		*size = (long long) st.st_size;
	}
	else if (errno != ENOENT)
		ok = key_error(fs, key, "stat file", errno, err);
	close(dirfd);
	return ok;
}

static bool
file_del(Storage *s, const char *key, PgpError *err)
{
	FileStorage *fs = s->impl;
	const char *leaf;
	int dirfd;
	bool ok = true;

	dirfd = open_existing_dir_of(fs, key, &leaf, &ok, err);
	if (dirfd < 0)
		return ok;
	if (unlinkat(dirfd, leaf, 0) != 0 && errno != ENOENT)
		ok = key_error(fs, key, "remove file", errno, err);
	close(dirfd);
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
