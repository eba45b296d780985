#!/usr/bin/python3
"""A file system that promises more room than it has, as a thin-provisioned volume or a
share with a quota does: the folder ROOT seen through FUSE, reporting 4 GiB free, but
failing every write with ENOSPC once BUDGET bytes have been written through it. For
tests of what a program does when a disk fills while it writes, after any free-space
check it made has passed.

    overcommit.py MOUNTPOINT -f -o root=ROOT,budget=BYTES

Needs fuse-python (Debian: python3-fuse)."""

import errno
import os

import fuse
from fuse import Fuse

fuse.fuse_python_api = (0, 2)


class Handle:
    """An open file (fuse-python takes a bare number from open() for an error code)."""

    def __init__(self, fd):
        self.fd = fd


class Overcommit(Fuse):
    def __init__(self, *args, **kw):
        Fuse.__init__(self, *args, **kw)
        self.root = "/"
        self.budget = "0"
        self.written = 0

    def _p(self, path):
        return self.root + path

    def getattr(self, path):
        return os.lstat(self._p(path))

    def readlink(self, path):
        return os.readlink(self._p(path))

    def readdir(self, path, offset):
        for e in [".", ".."] + os.listdir(self._p(path)):
            yield fuse.Direntry(e)

    def unlink(self, path):
        os.unlink(self._p(path))

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def symlink(self, target, path):
        os.symlink(target, self._p(path))

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def link(self, old, new):
        os.link(self._p(old), self._p(new))

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid)

    def truncate(self, path, size):
        os.truncate(self._p(path), size)

    def mknod(self, path, mode, dev):
        os.mknod(self._p(path), mode, dev)

    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def utimens(self, path, ts_acc, ts_mod):
        os.utime(
            self._p(path),
            ns=(
                ts_acc.tv_sec * 10**9 + ts_acc.tv_nsec,
                ts_mod.tv_sec * 10**9 + ts_mod.tv_nsec,
            ),
        )

    def access(self, path, mode):
        if not os.access(self._p(path), mode):
            return -errno.EACCES

    def statfs(self):
        st = fuse.StatVfs()
        st.f_bsize = st.f_frsize = 4096
        st.f_blocks = st.f_bfree = st.f_bavail = 1 << 20
        st.f_files = st.f_ffree = st.f_favail = 1 << 20
        st.f_namemax = 255
        return st

    def open(self, path, flags):
        return Handle(os.open(self._p(path), flags))

    def create(self, path, flags, mode):
        return Handle(os.open(self._p(path), flags | os.O_CREAT, mode))

    def read(self, path, size, offset, fh):
        return os.pread(fh.fd, size, offset)

    def write(self, path, buf, offset, fh):
        if self.written + len(buf) > int(self.budget):
            return -errno.ENOSPC
        n = os.pwrite(fh.fd, buf, offset)
        self.written += n
        return n

    def ftruncate(self, path, size, fh):
        os.ftruncate(fh.fd, size)

    def fgetattr(self, path, fh):
        return os.fstat(fh.fd)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        os.fsync(fh.fd)

    def release(self, path, flags, fh):
        os.close(fh.fd)


def main():
    server = Overcommit(dash_s_do="setsingle")
    server.multithreaded = False
    server.parser.add_option(mountopt="root", metavar="PATH", default="/")
    server.parser.add_option(mountopt="budget", metavar="BYTES", default="0")
    server.parse(values=server, errex=1)
    server.main()


if __name__ == "__main__":
    main()
