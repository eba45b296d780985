/* Stand-in boot loaders for Lifeboat's boot tests: what they share.
 *
 * The files Microsoft's loaders need next are looked up the way those loaders find them:
 * in the ISO 9660 and the Joliet tree of a disc (ECMA-119; Joliet: a supplementary volume
 * descriptor with escape sequence %/@, %/C or %/E and UCS-2 big-endian names), or in the
 * FAT32 file system of a stick (8.3 short names). Names compare ignoring case, as Windows
 * does; a folder holding two entries of one name is reported as ambiguous.
 *
 * Freestanding C: the same file builds for 16-bit real mode (gcc -m16) and for UEFI
 * (x86_64-w64-mingw32-gcc). Sectors come through the firmware (INT 13h, EFI Block I/O). */
#ifndef LOOKUP_H
#define LOOKUP_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

/* Reads `count` sectors from `lba` into `buf`; 0 on success. */
typedef int (*read_fn)(void *ctx, u32 lba, u32 count, void *buf);

struct disk {
    read_fn read;
    void *ctx;
    u32 sector_size; /* 2048 (disc) or 512 (disk, partition) */
};

enum tree { TREE_ISO9660, TREE_JOLIET, TREE_FAT };

enum found { FOUND = 1, MISSING = 0, AMBIGUOUS = -1, UNREADABLE = -2 };

struct entry {
    u32 lba;  /* first sector (disc) or cluster (FAT) */
    u32 size; /* bytes */
    int dir;
};

/* `path` is a Windows path from the root ("\\Boot\\BCD"). */
int iso_lookup(struct disk *d, enum tree t, const char *path, struct entry *out);
/* FAT32 in the partition whose boot sector is at `part_lba`. */
int fat_lookup(struct disk *d, u32 part_lba, const char *path, struct entry *out);

/* The files Microsoft's loaders read after the first one. */
extern const char *const next_files[5];

/* Serial output (COM1) and the end of a test run (QEMU's isa-debug-exit at port 0xf4). */
void put(const char *s);
void put_u32(u32 v);
/* Prints one lookup's result; returns 1 when it failed. */
int report(const char *tree, const char *path, int result);
void finish(int failures);

/* The name this copy stands in for: the test patches it after "@@LIFEBOAT-TAG@@". */
const char *tag(void);

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) {
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#endif
