#!/usr/bin/python3
"""A dying disk for tests: a FUSE file system (python3-fuse) serving one file, disk.img,
read-only, with the bytes of a fixture image, and faults at chosen offsets:

  bad    [start, end]          every read touching it fails with EIO
  flaky  [start, end, n]       each 512-byte sector in it fails its first n reads (EIO)
  slow   [start, end, seconds] a read touching it takes that much longer

Reads go to this program as the reader made them (direct_io: no page cache, no read-ahead),
so a read of one sector is one request. Every read is logged, one line each, to the log
file: `offset size ok` or `offset size eio`.

    faultfs.py SPEC.json MOUNTPOINT

SPEC.json: {"image": PATH, "log": PATH, "bad": [...], "flaky": [...], "slow": [...]}.
Runs in the foreground until unmounted (umount MOUNTPOINT).
"""

import errno
import json
import os
import stat
import sys
import time

import fuse

fuse.fuse_python_api = (0, 2)

SECTOR = 512
NAME = "/disk.img"


class FaultFs(fuse.Fuse):
    def __init__(self, spec, *args, **kw):
        super().__init__(*args, **kw)
        self.fd = os.open(spec["image"], os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size
        self.bad = [tuple(r) for r in spec.get("bad", [])]
        self.flaky = [tuple(r) for r in spec.get("flaky", [])]
        self.slow = [tuple(r) for r in spec.get("slow", [])]
        self.tries = {}
        self.log = open(spec["log"], "a", buffering=1)

    def getattr(self, path):
        st = fuse.Stat()
        if path == "/":
            st.st_mode = stat.S_IFDIR | 0o555
            st.st_nlink = 2
        elif path == NAME:
            st.st_mode = stat.S_IFREG | 0o444
            st.st_nlink = 1
            st.st_size = self.size
        else:
            return -errno.ENOENT
        return st

    def readdir(self, path, offset):
        for n in (".", "..", NAME[1:]):
            yield fuse.Direntry(n)

    def open(self, path, flags):
        if path != NAME:
            return -errno.ENOENT
        if flags & (os.O_WRONLY | os.O_RDWR):
            return -errno.EROFS
        return None

    def fails(self, start, end):
        if any(s < end and start < e for s, e in self.bad):
            return True
        fail = False
        for s, e, n in self.flaky:
            sec = max(start, s) // SECTOR * SECTOR
            while sec < min(end, e):
                t = self.tries.get(sec, 0) + 1
                self.tries[sec] = t
                fail = fail or t <= n
                sec += SECTOR
        return fail

    def read(self, path, size, offset):
        if path != NAME:
            return -errno.ENOENT
        end = min(offset + size, self.size)
        if offset >= end:
            return b""
        # One request at a time (single-threaded): a disk has one head.
        delay = sum(d for s, e, d in self.slow if s < end and offset < e)
        if delay:
            time.sleep(delay)
        fail = self.fails(offset, end)
        self.log.write(f"{offset} {end - offset} {'eio' if fail else 'ok'}\n")
        if fail:
            return -errno.EIO
        return os.pread(self.fd, end - offset, offset)


def main():
    spec_path, mountpoint = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    server = FaultFs(spec, version="faultfs", usage=__doc__, dash_s_do="setsingle")
    server.fuse_args.mountpoint = mountpoint
    server.fuse_args.setmod("foreground")
    server.fuse_args.add("direct_io")
    server.fuse_args.add("ro")
    server.multithreaded = False
    server.main()


if __name__ == "__main__":
    main()
