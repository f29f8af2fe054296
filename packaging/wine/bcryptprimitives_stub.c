/* FOR TESTS UNDER WINE ONLY — never shipped. Wine 8.0 lacks bcryptprimitives.dll, whose
 * ProcessPrng Rust's std (>= 1.78) calls for random numbers; real Windows 10+ has it.
 * scripts/release-check.sh builds this stub beside a test copy of the exe. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    return RtlGenRandom(data, (ULONG)len);
}
