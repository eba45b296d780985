/* Wine 8 lacks bcryptprimitives.dll, whose ProcessPrng Rust's std imports on windows-gnu.
   Every real Windows 10/11 and WinPE 10 has it; tests under Wine get this stand-in. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
