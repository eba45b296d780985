/* Stand-in for bootmgr, loaded at 2000:0000 by etfsboot.com (disc) or syslinux's chain.c32
 * `ntldr=` (FAT32 stick): says it ran, then looks up through INT 13h the files the real
 * boot manager reads next. On a disc: in the ISO 9660 and the Joliet tree. On a disk: in the
 * active partition's FAT32, after checking that its boot sector on disk says where the
 * partition starts (hidden sectors), as loaders that read it from disk rely on. */
#include "bios16.h"

u8 boot_drive = 0xff;

static u8 block[512];

static u32 le32(const u8 *p) { return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }

static int disc(void) {
    static const char *const trees[2] = {"iso9660", "joliet"};
    struct disk d = {disk_read, 0, 2048};
    struct entry e;
    int failures = 0, t, f;
    for (t = 0; t < 2; t++)
        for (f = 0; f < 5; f++)
            failures += report(trees[t], next_files[f], iso_lookup(&d, t ? TREE_JOLIET : TREE_ISO9660, next_files[f], &e));
    return failures;
}

static int stick(void) {
    struct disk d = {disk_read, 0, 512};
    struct entry e;
    u32 start = 0, hidden;
    int failures = 0, p, f;
    if (disk_read(0, 0, 1, block)) return 1;
    for (p = 0; p < 4; p++)
        if (block[446 + p * 16] == 0x80) start = le32(block + 446 + p * 16 + 8);
    if (!start || disk_read(0, start, 1, block)) {
        put("LIFEBOAT-STANDIN no active partition\n");
        return 1;
    }
    hidden = le32(block + 28);
    put("LIFEBOAT-STANDIN check hidden-sectors ");
    put_u32(hidden);
    put(hidden == start ? " ok\n" : " wrong\n");
    failures += hidden != start;
    for (f = 0; f < 5; f++)
        failures += report("fat", next_files[f], fat_lookup(&d, start, next_files[f], &e));
    return failures;
}

void main16(void) {
    put("LIFEBOAT-STANDIN booted ");
    put(tag());
    put(" firmware=bios\n");
    finish(bios_sector_size(boot_drive) == 2048 ? disc() : stick());
}
