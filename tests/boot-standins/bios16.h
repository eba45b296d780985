/* Real-mode helpers of the BIOS stand-ins: INT 13h extended reads and drive parameters. */
#ifndef BIOS16_H
#define BIOS16_H
#include "lookup.h"

extern u8 boot_drive;

struct dap {
    u8 size, zero;
    u16 count, off, seg;
    u32 lba_lo, lba_hi;
} __attribute__((packed));

static inline u16 data_segment(void) {
    u16 ds;
    __asm__ volatile("movw %%ds, %0" : "=r"(ds));
    return ds;
}

/* INT 13h AH=42h: `count` sectors from `lba` to seg:off. */
static inline int bios_read(u8 drive, u32 lba, u16 count, u16 seg, u16 off) {
    static struct dap dap;
    u16 ax = 0x4200;
    u8 cf;
    dap.size = 16;
    dap.zero = 0;
    dap.count = count;
    dap.off = off;
    dap.seg = seg;
    dap.lba_lo = lba;
    dap.lba_hi = 0;
    __asm__ volatile("int $0x13; setc %1"
                     : "+a"(ax), "=qm"(cf)
                     : "d"((u16)drive), "S"(&dap)
                     : "memory", "cc", "ebx", "ecx", "edi");
    return cf ? -1 : 0;
}

/* A read_fn for the shared lookups: the boot drive, into this segment. */
static inline int disk_read(void *ctx, u32 lba, u32 count, void *buf) {
    (void)ctx;
    return bios_read(boot_drive, lba, (u16)count, data_segment(), (u16)(u32)buf);
}

/* INT 13h AH=48h: bytes per sector of the drive (2048 for a disc), 0 when unknown. */
static inline u32 bios_sector_size(u8 drive) {
    static u8 params[0x1E];
    u16 ax = 0x4800;
    u8 cf;
    params[0] = 0x1E;
    params[1] = 0;
    __asm__ volatile("int $0x13; setc %1"
                     : "+a"(ax), "=qm"(cf)
                     : "d"((u16)drive), "S"(params)
                     : "memory", "cc", "ebx", "ecx", "edi");
    return cf ? 0 : (u32)(params[0x18] | params[0x19] << 8);
}
#endif
