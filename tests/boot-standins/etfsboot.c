/* Stand-in for etfsboot.com, the El Torito no-emulation boot image: says it ran, finds
 * \bootmgr in the disc's ISO 9660 tree as the real one does, loads it at 2000:0000 and
 * jumps there with the boot drive in DL. */
#include "bios16.h"

u8 boot_drive = 0xff;

#define BOOTMGR_SEG 0x2000

void main16(void) {
    struct disk d = {disk_read, 0, 2048};
    struct entry e;
    u32 s, sectors;
    int r;
    put("LIFEBOAT-STANDIN booted ");
    put(tag());
    put(" firmware=bios\n");
    r = iso_lookup(&d, TREE_ISO9660, "\\bootmgr", &e);
    if (report("iso9660", "\\bootmgr", r) || e.dir || e.size == 0 || e.size > 0xE000) {
        finish(1);
        return;
    }
    sectors = (e.size + 2047) / 2048;
    for (s = 0; s < sectors; s++) {
        if (bios_read(boot_drive, e.lba + s, 1, BOOTMGR_SEG, (u16)(s * 2048))) {
            put("LIFEBOAT-STANDIN cannot read \\bootmgr\n");
            finish(1);
            return;
        }
    }
    put("LIFEBOAT-STANDIN chain \\bootmgr\n");
    __asm__ volatile("ljmp $0x2000, $0" : : "d"((u16)boot_drive));
}
