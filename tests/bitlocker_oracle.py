"""Independent readers of BitLocker volumes for tests/bitlocker.rs: dissect.fve (PyPI,
AGPL, test-time only) and libbde's Python binding (pybde, Debian's python3-libbde).

  bitlocker_oracle.py decrypt READER VOLUME KIND KEY OUT [START:END ...]
      READER: dissect | libbde; KIND: password | recovery | bek | clear | none.
      Writes the plain volume (or only the byte ranges given) to OUT, a sparse file of the
      volume's size; ranges not asked for stay zero.
  bitlocker_oracle.py info VOLUME
      Prints what dissect.fve reads of the metadata, as JSON: how many copies are valid
      (CRC32), the state, method and protector IDs.
"""

import json
import os
import sys


def open_dissect(volume, kind, key):
    from dissect.fve.bde import BDE

    bde = BDE(open(volume, "rb"))
    if kind == "password":
        bde.unlock_with_passphrase(key)
    elif kind == "recovery":
        bde.unlock_with_recovery_password(key)
    elif kind == "bek":
        bde.unlock_with_bek(open(key, "rb"))
    elif kind == "clear":
        bde.unlock_with_clear_key()
    return bde.open()


class LibbdeStream:
    def __init__(self, volume, kind, key):
        import pybde

        self.v = pybde.volume()
        if kind == "password":
            self.v.set_password(key)
        elif kind == "recovery":
            self.v.set_recovery_password(key)
        elif kind == "bek":
            self.v.read_startup_key(key)
        self.v.open(volume)
        if self.v.is_locked():
            raise SystemExit("libbde could not unlock the volume")

    def seek(self, at):
        self.v.seek_offset(at, os.SEEK_SET)

    def read(self, n):
        return self.v.read_buffer(n)


def decrypt(reader, volume, kind, key, out, ranges):
    s = open_dissect(volume, kind, key) if reader == "dissect" else LibbdeStream(volume, kind, key)
    size = os.path.getsize(volume)
    if not ranges:
        ranges = [(0, size)]
    with open(out, "wb") as o:
        o.truncate(size)
        for start, end in ranges:
            at = start
            while at < end:
                n = min(1 << 22, end - at)
                s.seek(at)
                data = s.read(n)
                o.seek(at)
                o.write(data)
                at += n


def info(volume):
    from dissect.fve.bde import BDE

    bde = BDE(open(volume, "rb"))
    i = bde.information
    print(
        json.dumps(
            {
                "copies": len(bde._available_information),
                "valid": len(bde._valid_information),
                "state": int(i.header.CurrentState),
                "method": int(i.dataset.header.FvekType),
                "ids": [str(x) for x in bde.identifiers],
                "description": bde.description(),
            }
        )
    )


def main():
    cmd = sys.argv[1]
    if cmd == "decrypt":
        reader, volume, kind, key, out = sys.argv[2:7]
        ranges = [tuple(int(x) for x in r.split(":")) for r in sys.argv[7:]]
        decrypt(reader, volume, kind, key, out, ranges)
    elif cmd == "info":
        info(sys.argv[2])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
