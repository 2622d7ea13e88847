#!/usr/bin/env python3
"""eiofs.py BACKING MOUNTPOINT FAILFILE: a FUSE file system (python3-fusepy)
that passes everything through to the folder BACKING, except that while the
file FAILFILE exists every write, fsync and truncate fails with EIO, the way
a dying disk fails. Runs in the foreground until unmounted."""
import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations


class EioFS(Operations):
    def __init__(self, root, failfile):
        self.root = root
        self.failfile = failfile

    def _p(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _check(self):
        if os.path.exists(self.failfile):
            raise FuseOSError(errno.EIO)

    def getattr(self, path, fh=None):
        st = os.lstat(self._p(path))
        return {k: getattr(st, k) for k in ("st_atime", "st_ctime", "st_gid", "st_mode",
                                             "st_mtime", "st_nlink", "st_size", "st_uid")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._p(path))

    def access(self, path, mode):
        if not os.access(self._p(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid)

    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def unlink(self, path):
        os.unlink(self._p(path))

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def utimens(self, path, times=None):
        os.utime(self._p(path), times)

    def statfs(self, path):
        st = os.statvfs(self._p(path))
        return {k: getattr(st, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize",
                                             "f_favail", "f_ffree", "f_files", "f_flag",
                                             "f_frsize", "f_namemax")}

    def open(self, path, flags):
        return os.open(self._p(path), flags)

    def create(self, path, mode, fi=None):
        return os.open(self._p(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self._check()
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        self._check()
        if fh is None:
            os.truncate(self._p(path), length)
        else:
            os.ftruncate(fh, length)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        self._check()
        os.fsync(fh)

    def release(self, path, fh):
        os.close(fh)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n")[0])
    FUSE(EioFS(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[3])), sys.argv[2],
         foreground=True, nothreads=True, allow_other=False)
