/*
 * fd.c -- the part of PostgreSQL's storage/fd.h that works without a
 * database: stdio files, directories and transient descriptors a module
 * opens through the server so that they are counted and released for it
 * (AllocateFile, FreeFile, OpenPipeStream, ClosePipeStream, AllocateDir,
 * ReadDir, ReadDirExtended, FreeDir, OpenTransientFile[Perm],
 * CloseTransientFile, BasicOpenFile[Perm]), and the durability helpers
 * (fsync_fname, fsync_fname_ext, durable_rename, durable_unlink, pg_fsync,
 * data_sync_elevel, MakePGDirectory), written from the header's contract
 * and PostgreSQL's documented behaviour (PostgreSQL's fd.c is not copied):
 *
 * - At most max_safe_fds / 3 such descriptors at once (max_safe_fds as the
 *   postmaster computes it at start: the descriptors a process can open,
 *   up to max_files_per_process, minus those already open and 10 reserved);
 *   one more is PostgreSQL's ERROR "exceeded maxAllocatedDescs (N) while
 *   trying to open file ...".
 * - Failing to open returns NULL / -1 with errno set, as PostgreSQL's.
 * - A worker's descriptors still open when it exits are released then
 *   (PostgreSQL releases them at transaction abort and at exit; without
 *   transactions here an ERROR that ends the worker ends at exit). An
 *   ERROR a module catches itself releases nothing, as in a PostgreSQL
 *   background worker outside a transaction.
 * - fsync failures of fsync_fname are a PANIC unless data_sync_retry is on
 *   (data_sync_elevel), as in PostgreSQL; pg_fsync does nothing when the
 *   fsync setting is off.
 *
 * Virtual file descriptors (PathNameOpenFile, FileRead, ...) and temporary
 * files are not here: they stay entries that end the caller with a FATAL.
 * One thread per process, as module code is.
 */
#include "pgcompat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERRCODE_INSUFFICIENT_RESOURCES MAKE_SQLSTATE('5','3','0','0','0')
#define NUM_RESERVED_FDS 10
#define FD_MINFREE 48
#define MAXPGPATH 1024

int			bgw_c_errcode_for_file_access(void);
void		bgw_c_on_proc_exit(void (*function) (int code, Datum arg), Datum arg);

/* PostgreSQL's variables (generated storage, or libpgport's). */
extern int	max_files_per_process;
extern int	max_safe_fds;
extern bool enableFsync;
extern bool data_sync_retry;
extern int	pg_dir_create_mode;
extern int	pg_file_create_mode;
extern void get_parent_directory(char *path);

typedef enum
{
	DESC_FILE,
	DESC_PIPE,
	DESC_DIR,
	DESC_RAW
} DescKind;

typedef struct
{
	DescKind	kind;
	union
	{
		FILE	   *file;
		DIR		   *dir;
		int			fd;
	}			desc;
} AllocatedDesc;

static AllocatedDesc *descs;
static int	ndescs;
static int	maxdescs;
static bool safe_fds_known;

/*
 * max_safe_fds as PostgreSQL's postmaster sets it: probe how many
 * descriptors can be opened (dup of 0) up to max_files_per_process, count
 * those already open below the highest one probed, keep 10 in reserve.
 */
static void
compute_max_safe_fds(void)
{
	int		   *fds;
	int			used = 0,
				highest = -1,
				size = 1024,
				i;
	struct rlimit rlim;
	int			max_to_probe = max_files_per_process;

	if (getrlimit(RLIMIT_NOFILE, &rlim) == 0 && rlim.rlim_cur != RLIM_INFINITY &&
		(int) rlim.rlim_cur - 1 < max_to_probe)
		max_to_probe = (int) rlim.rlim_cur - 1;
	fds = malloc(size * sizeof(int));
	while (fds && used < max_to_probe)
	{
		int			fd = dup(0);

		if (fd < 0)
			break;
		if (used >= size)
		{
			int		   *more = realloc(fds, (size *= 2) * sizeof(int));

			if (!more)
			{
				close(fd);
				break;
			}
			fds = more;
		}
		fds[used++] = fd;
		if (fd > highest)
			highest = fd;
	}
	for (i = 0; i < used; i++)
		close(fds[i]);
	free(fds);
	{
		int			already_open = highest + 1 - used;
		int			n = used < max_files_per_process - already_open ?
			used : max_files_per_process - already_open;

		max_safe_fds = n - NUM_RESERVED_FDS;
	}
	if (max_safe_fds < FD_MINFREE)
		bgw_ereport(FATAL, (bgw_c_errcode(ERRCODE_INSUFFICIENT_RESOURCES),
							bgw_c_errmsg_internal("insufficient file descriptors available to start server process"),
							bgw_c_errdetail_internal("System allows %d, server needs at least %d.",
													 max_safe_fds + NUM_RESERVED_FDS,
													 FD_MINFREE + NUM_RESERVED_FDS)));
	safe_fds_known = true;
}

static void release_all(int code, Datum arg);

/* Room for one more descriptor? */
static bool
reserve_desc(void)
{
	int			limit;

	if (!safe_fds_known)
		compute_max_safe_fds();
	limit = max_safe_fds / 3;
	if (limit < FD_MINFREE / 3)
		limit = FD_MINFREE / 3;
	if (ndescs < maxdescs)
		return true;
	if (maxdescs >= limit)
		return false;
	if (descs == NULL)
	{
		/* Allocated outside any memory context: lives as long as the process. */
		descs = malloc(limit * sizeof(AllocatedDesc));
		if (descs == NULL)
			return false;
		bgw_c_on_proc_exit(release_all, 0);
	}
	maxdescs = limit;
	return true;
}

static void
too_many(const char *name)
{
	bgw_ereport(ERROR, (bgw_c_errcode(ERRCODE_INSUFFICIENT_RESOURCES),
						bgw_c_errmsg_internal("exceeded maxAllocatedDescs (%d) while trying to open file \"%s\"",
									 maxdescs, name)));
}

static int
close_desc(int i)
{
	AllocatedDesc d = descs[i];
	int			r = 0;

	descs[i] = descs[--ndescs];
	switch (d.kind)
	{
		case DESC_FILE:
			r = fclose(d.desc.file);
			break;
		case DESC_PIPE:
			r = pclose(d.desc.file);
			break;
		case DESC_DIR:
			r = closedir(d.desc.dir);
			break;
		case DESC_RAW:
			r = close(d.desc.fd);
			break;
	}
	return r;
}

/* At exit: whatever is still open (callers' FILE buffers are flushed). */
static void
release_all(int code, Datum arg)
{
	while (ndescs > 0)
		(void) close_desc(ndescs - 1);
}

FILE *
bgw_c_AllocateFile(const char *name, const char *mode)
{
	FILE	   *f;

	if (!reserve_desc())
		too_many(name);
	f = fopen(name, mode);
	if (f != NULL)
	{
		descs[ndescs].kind = DESC_FILE;
		descs[ndescs++].desc.file = f;
	}
	return f;
}

FILE *
bgw_c_OpenPipeStream(const char *command, const char *mode)
{
	FILE	   *f;

	if (!reserve_desc())
		too_many(command);
	fflush(NULL);
	errno = 0;
	f = popen(command, mode);
	if (f != NULL)
	{
		descs[ndescs].kind = DESC_PIPE;
		descs[ndescs++].desc.file = f;
	}
	return f;
}

static int
free_kind(DescKind kind, const void *what, int fd, const char *fname)
{
	int			i;

	for (i = ndescs; --i >= 0;)
	{
		AllocatedDesc *d = &descs[i];

		if (d->kind == kind &&
			(kind == DESC_RAW ? d->desc.fd == fd :
			 kind == DESC_DIR ? (const void *) d->desc.dir == what :
			 (const void *) d->desc.file == what))
			return close_desc(i);
	}
	bgw_ereport(WARNING, bgw_c_errmsg_internal("%s was not obtained from %s", fname,
											   kind == DESC_DIR ? "AllocateDir" :
											   kind == DESC_RAW ? "OpenTransientFile" :
											   kind == DESC_PIPE ? "OpenPipeStream" : "AllocateFile"));
	switch (kind)
	{
		case DESC_RAW:
			return close(fd);
		case DESC_DIR:
			return closedir((DIR *) what);
		case DESC_PIPE:
			return pclose((FILE *) what);
		default:
			return fclose((FILE *) what);
	}
}

int
bgw_c_FreeFile(FILE *file)
{
	return free_kind(DESC_FILE, file, -1, "file passed to FreeFile");
}

int
bgw_c_ClosePipeStream(FILE *file)
{
	return free_kind(DESC_PIPE, file, -1, "file passed to ClosePipeStream");
}

DIR *
bgw_c_AllocateDir(const char *dirname)
{
	DIR		   *dir;

	if (!reserve_desc())
		too_many(dirname);
	dir = opendir(dirname);
	if (dir != NULL)
	{
		descs[ndescs].kind = DESC_DIR;
		descs[ndescs++].desc.dir = dir;
	}
	return dir;
}

/*
 * ReadDirExtended: the next entry, or NULL at the end. A NULL dir (a failed
 * AllocateDir, errno still set) and a read error are reported at elevel
 * (NULL returned below ERROR).
 */
struct dirent *
bgw_c_ReadDirExtended(DIR *dir, const char *dirname, int elevel)
{
	struct dirent *de;

	if (dir == NULL)
	{
		bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
							 bgw_c_errmsg_internal("could not open directory \"%s\": %m", dirname)));
		return NULL;
	}
	errno = 0;
	if ((de = readdir(dir)) != NULL)
		return de;
	if (errno)
		bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
							 bgw_c_errmsg_internal("could not read directory \"%s\": %m", dirname)));
	return NULL;
}

struct dirent *
bgw_c_ReadDir(DIR *dir, const char *dirname)
{
	return bgw_c_ReadDirExtended(dir, dirname, ERROR);
}

int
bgw_c_FreeDir(DIR *dir)
{
	if (dir == NULL)
		return 0;				/* PostgreSQL: nothing to do */
	return free_kind(DESC_DIR, dir, -1, "dir passed to FreeDir");
}

int
bgw_c_BasicOpenFilePerm(const char *fileName, int fileFlags, mode_t fileMode)
{
	return open(fileName, fileFlags, fileMode);
}

int
bgw_c_BasicOpenFile(const char *fileName, int fileFlags)
{
	return bgw_c_BasicOpenFilePerm(fileName, fileFlags, pg_file_create_mode);
}

int
bgw_c_OpenTransientFilePerm(const char *fileName, int fileFlags, mode_t fileMode)
{
	int			fd;

	if (!reserve_desc())
		too_many(fileName);
	fd = bgw_c_BasicOpenFilePerm(fileName, fileFlags, fileMode);
	if (fd >= 0)
	{
		descs[ndescs].kind = DESC_RAW;
		descs[ndescs++].desc.fd = fd;
	}
	return fd;
}

int
bgw_c_OpenTransientFile(const char *fileName, int fileFlags)
{
	return bgw_c_OpenTransientFilePerm(fileName, fileFlags, pg_file_create_mode);
}

int
bgw_c_CloseTransientFile(int fd)
{
	return free_kind(DESC_RAW, NULL, fd, "fd passed to CloseTransientFile");
}

/* pg_fsync: fsync(2), or nothing when the fsync setting is off. */
int
bgw_c_pg_fsync(int fd)
{
	if (!enableFsync)
		return 0;
	return fsync(fd);
}

/* data_sync_elevel: a failed data sync is a PANIC unless data_sync_retry. */
int
bgw_c_data_sync_elevel(int elevel)
{
	return data_sync_retry ? elevel : PANIC;
}

int
bgw_c_fsync_fname_ext(const char *fname, bool isdir, bool ignore_perm, int elevel)
{
	int			fd,
				r,
				save;

	fd = bgw_c_OpenTransientFile(fname, isdir ? O_RDONLY : O_RDWR);
	/* Some systems do not open directories; that is not an error. */
	if (fd < 0 && isdir && (errno == EISDIR || errno == EACCES))
		return 0;
	else if (fd < 0 && ignore_perm && errno == EACCES)
		return 0;
	else if (fd < 0)
	{
		bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
							 bgw_c_errmsg_internal("could not open file \"%s\": %m", fname)));
		return -1;
	}
	r = bgw_c_pg_fsync(fd);
	if (r != 0 && !(isdir && (errno == EBADF || errno == EINVAL)))
	{
		save = errno;
		(void) bgw_c_CloseTransientFile(fd);
		errno = save;
		bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
							 bgw_c_errmsg_internal("could not fsync file \"%s\": %m", fname)));
		return -1;
	}
	if (bgw_c_CloseTransientFile(fd) != 0)
	{
		bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
							 bgw_c_errmsg_internal("could not close file \"%s\": %m", fname)));
		return -1;
	}
	return 0;
}

void
bgw_c_fsync_fname(const char *fname, bool isdir)
{
	(void) bgw_c_fsync_fname_ext(fname, isdir, false, bgw_c_data_sync_elevel(ERROR));
}

/* The directory holding fname (".", for a bare name), synced. */
static int
fsync_parent_path(const char *fname, int elevel)
{
	char		parent[MAXPGPATH];

	snprintf(parent, sizeof(parent), "%s", fname);
	get_parent_directory(parent);
	if (parent[0] == '\0')
		snprintf(parent, sizeof(parent), ".");
	return bgw_c_fsync_fname_ext(parent, true, false, elevel);
}

/*
 * durable_rename: the old file synced, the target (if it exists) synced,
 * renamed, the new name and its directory synced; failures reported at
 * elevel and -1 returned below ERROR.
 */
int
bgw_c_durable_rename(const char *oldfile, const char *newfile, int elevel)
{
	int			fd,
				save;

	if (bgw_c_fsync_fname_ext(oldfile, false, false, elevel) != 0)
		return -1;
	fd = bgw_c_OpenTransientFile(newfile, O_RDWR);
	if (fd < 0)
	{
		if (errno != ENOENT)
		{
			bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
								 bgw_c_errmsg_internal("could not open file \"%s\": %m", newfile)));
			return -1;
		}
	}
	else
	{
		if (bgw_c_pg_fsync(fd) != 0)
		{
			save = errno;
			(void) bgw_c_CloseTransientFile(fd);
			errno = save;
			bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
								 bgw_c_errmsg_internal("could not fsync file \"%s\": %m", newfile)));
			return -1;
		}
		if (bgw_c_CloseTransientFile(fd) != 0)
		{
			bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
								 bgw_c_errmsg_internal("could not close file \"%s\": %m", newfile)));
			return -1;
		}
	}
	if (rename(oldfile, newfile) < 0)
	{
		bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
							 bgw_c_errmsg_internal("could not rename file \"%s\" to \"%s\": %m",
										  oldfile, newfile)));
		return -1;
	}
	if (bgw_c_fsync_fname_ext(newfile, false, false, elevel) != 0)
		return -1;
	if (fsync_parent_path(newfile, elevel) != 0)
		return -1;
	return 0;
}

int
bgw_c_durable_unlink(const char *fname, int elevel)
{
	if (unlink(fname) < 0)
	{
		bgw_ereport(elevel, (bgw_c_errcode_for_file_access(),
							 bgw_c_errmsg_internal("could not remove file \"%s\": %m", fname)));
		return -1;
	}
	if (fsync_parent_path(fname, elevel) != 0)
		return -1;
	return 0;
}

int
bgw_c_MakePGDirectory(const char *directoryName)
{
	return mkdir(directoryName, pg_dir_create_mode);
}
