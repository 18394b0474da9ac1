/*
 * LD_PRELOAD shim for Debian's User-Mode Linux 6.1 (linux.uml) on hosts with a large XSAVE area
 * (AVX-512, AMX).
 *
 * Why: UML saves and restores each guest process's FPU state with ptrace(PTRACE_GETREGSET/SETREGSET,
 * NT_X86_XSTATE) into a buffer of a size fixed when UML was built (the size of struct _xstate: 832
 * bytes). The host kernel truncates a short GETREGSET, but refuses a SETREGSET whose size is not its
 * full XSAVE size with EFAULT (arch/x86/kernel/fpu/regset.c xstateregs_set). UML then kills the guest's
 * init ("userspace - ptrace set fp regs failed, errno = 14"). Newer UML sizes the buffer at run time;
 * the 6.1 package does not.
 *
 * What: for NT_X86_XSTATE requests with a buffer shorter than the host's XSAVE size, keep a full-size
 * copy per UML buffer (UML has one per guest thread, at a fixed address), read the full state into it
 * and hand UML its prefix; on a write, lay UML's prefix over the full copy and write the whole. Every
 * guest thread so keeps all of its registers, including the ones UML does not know of. Everything else
 * passes through unchanged. UML drives ptrace from one host thread, so no locking is needed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Distinct UML buffers (guest threads alive at once, plus reuse of freed ones): a bounded table. */
#define SLOTS 8192
/* Larger than any XSAVE area the kernel reports (AMX: about 11 KiB). */
#define PROBE_SIZE 65536

struct slot {
  void *key;
  unsigned char *full;
};

static struct slot slots[SLOTS];
static size_t full_size;

static long raw_ptrace(long request, pid_t pid, void *addr, void *data) {
  return syscall(SYS_ptrace, request, pid, addr, data);
}

static struct slot *slot_for(void *key) {
  size_t start = ((uintptr_t)key >> 4) % SLOTS;
  for (size_t i = 0; i < SLOTS; i++) {
    struct slot *s = &slots[(start + i) % SLOTS];
    if (s->key == key) return s;
    if (s->key == NULL) {
      s->full = calloc(1, full_size);
      if (s->full == NULL) return NULL;
      s->key = key;
      return s;
    }
  }
  return NULL;
}

static int learn_full_size(pid_t pid) {
  static unsigned char probe[PROBE_SIZE];
  struct iovec iov = {probe, PROBE_SIZE};
  if (raw_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov) < 0) return -1;
  full_size = iov.iov_len;
  return 0;
}

static long xstate_request(long request, pid_t pid, struct iovec *iov) {
  if (full_size == 0 && learn_full_size(pid) < 0) return -1;
  if (iov->iov_len >= full_size) return raw_ptrace(request, pid, (void *)NT_X86_XSTATE, iov);
  struct slot *s = slot_for(iov->iov_base);
  if (s == NULL) {
    errno = ENOMEM;
    return -1;
  }
  struct iovec full = {s->full, full_size};
  if (request == PTRACE_GETREGSET) {
    if (raw_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &full) < 0) return -1;
    memcpy(iov->iov_base, s->full, iov->iov_len);
    return 0;
  }
  memcpy(s->full, iov->iov_base, iov->iov_len);
  return raw_ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &full);
}

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) && (uintptr_t)addr == NT_X86_XSTATE && data != NULL) {
    return xstate_request(request, pid, data);
  }
  static long (*next_ptrace)(enum __ptrace_request, pid_t, void *, void *);
  if (next_ptrace == NULL) next_ptrace = (long (*)(enum __ptrace_request, pid_t, void *, void *))dlsym(RTLD_NEXT, "ptrace");
  return next_ptrace(request, pid, addr, data);
}
