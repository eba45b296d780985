/* Stand-in for a UEFI boot manager (bootx64.efi, bootmgfw_EX.efi, and the loader inside
 * efisys*.bin): says which file it stands for, then looks up through EFI Block I/O the files
 * the real one reads next. Started from a disc (El Torito): in the disc's ISO 9660 and Joliet
 * trees. Started from a stick: in the FAT32 partition it was loaded from. */
#include <efi.h>
#include "lookup.h"

static int block_read(void *ctx, u32 lba, u32 count, void *buf) {
    EFI_BLOCK_IO *b = ctx;
    return b->ReadBlocks(b, b->Media->MediaId, lba, count * b->Media->BlockSize, buf) != EFI_SUCCESS;
}

/* The whole disc (2048-byte blocks, not a partition), if the machine has one. */
static EFI_BLOCK_IO *disc(EFI_BOOT_SERVICES *bs) {
    EFI_GUID guid = BLOCK_IO_PROTOCOL;
    UINTN n = 0, i;
    EFI_HANDLE *h;
    if (bs->LocateHandleBuffer(ByProtocol, &guid, NULL, &n, &h) != EFI_SUCCESS) return 0;
    for (i = 0; i < n; i++) {
        EFI_BLOCK_IO *b;
        if (bs->HandleProtocol(h[i], &guid, (void **)&b) != EFI_SUCCESS) continue;
        if (b->Media->BlockSize == 2048 && !b->Media->LogicalPartition && b->Media->MediaPresent) return b;
    }
    return 0;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st) {
    EFI_BOOT_SERVICES *bs = st->BootServices;
    EFI_GUID bio = BLOCK_IO_PROTOCOL, loaded = LOADED_IMAGE_PROTOCOL;
    EFI_LOADED_IMAGE *li;
    EFI_BLOCK_IO *b = disc(bs);
    struct entry e;
    int failures = 0, f, t;
    put("LIFEBOAT-STANDIN booted ");
    put(tag());
    put(" firmware=uefi\n");
    if (b) {
        static const char *const trees[2] = {"iso9660", "joliet"};
        struct disk d = {block_read, b, 2048};
        for (t = 0; t < 2; t++)
            for (f = 0; f < 5; f++)
                failures += report(trees[t], next_files[f], iso_lookup(&d, t ? TREE_JOLIET : TREE_ISO9660, next_files[f], &e));
    } else if (bs->HandleProtocol(image, &loaded, (void **)&li) == EFI_SUCCESS &&
               bs->HandleProtocol(li->DeviceHandle, &bio, (void **)&b) == EFI_SUCCESS) {
        struct disk d = {block_read, b, b->Media->BlockSize};
        for (f = 0; f < 5; f++) failures += report("fat", next_files[f], fat_lookup(&d, 0, next_files[f], &e));
    } else {
        put("LIFEBOAT-STANDIN no Block I/O for the boot device\n");
        failures = 1;
    }
    finish(failures);
    return EFI_SUCCESS;
}
