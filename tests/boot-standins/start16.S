/* 16-bit entry of the BIOS stand-ins: one segment (SEG) for code, data and stack, the boot
 * drive from DL kept, .bss cleared, then main16() (C built with gcc -m16). */
    .code16
    .section .start, "ax"
    .globl _start
_start:
    cli
    ljmp $SEG, $1f
1:  movw $SEG, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $0xfff0, %esp
    movb %dl, boot_drive
    cld
    movw $__bss_start, %di
    movw $__bss_end, %cx
    subw %di, %cx
    xorb %al, %al
    rep stosb
    sti
    calll main16
2:  hlt
    jmp 2b
    .section .note.GNU-stack,"",@progbits
