// Before any system header: recvmmsg, sendmmsg, pthread_setname_np, struct mmsghdr and
// struct in6_pktinfo are GNU extensions (feature_test_macros(7)).
#define _GNU_SOURCE
#include "CBulwarkLinux.h"

#ifdef __linux__
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

// The header's copies of the GNU-only structs are the real ones, member for member.
#define SAME_LAYOUT(ours, real, member)                                                  \
    _Static_assert(offsetof(ours, member) == offsetof(real, member), #real "." #member); \
    _Static_assert(sizeof(((ours *)0)->member) == sizeof(((real *)0)->member), #real "." #member)
_Static_assert(sizeof(CBulwarkLinux_mmsghdr) == sizeof(struct mmsghdr), "struct mmsghdr");
_Static_assert(_Alignof(CBulwarkLinux_mmsghdr) == _Alignof(struct mmsghdr), "struct mmsghdr");
SAME_LAYOUT(CBulwarkLinux_mmsghdr, struct mmsghdr, msg_hdr);
SAME_LAYOUT(CBulwarkLinux_mmsghdr, struct mmsghdr, msg_len);
_Static_assert(sizeof(CBulwarkLinux_in6_pktinfo) == sizeof(struct in6_pktinfo), "struct in6_pktinfo");
_Static_assert(_Alignof(CBulwarkLinux_in6_pktinfo) == _Alignof(struct in6_pktinfo), "struct in6_pktinfo");
SAME_LAYOUT(CBulwarkLinux_in6_pktinfo, struct in6_pktinfo, ipi6_addr);
SAME_LAYOUT(CBulwarkLinux_in6_pktinfo, struct in6_pktinfo, ipi6_ifindex);

int CBulwarkLinux_recvmmsg(int fd, CBulwarkLinux_mmsghdr *messages, unsigned int count, int flags,
                           struct timespec *timeout) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, timeout);
}

int CBulwarkLinux_sendmmsg(int fd, CBulwarkLinux_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int CBulwarkLinux_attach_reuseport_cbpf(int fd, struct sock_filter *instructions, unsigned short count) {
    struct sock_fprog program = {.len = count, .filter = instructions};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof(program));
}

int CBulwarkLinux_pthread_setname_np(pthread_t thread, const char *name) {
    // pthread_setname_np(3): ERANGE beyond 16 bytes with the terminator.
    char cut[16];
    strncpy(cut, name, sizeof(cut) - 1);
    cut[sizeof(cut) - 1] = '\0';
    return pthread_setname_np(thread, cut);
}

int CBulwarkLinux_malloc_trim(size_t pad) {
#ifdef __GLIBC__
    return malloc_trim(pad);
#else
    (void)pad;
    return 0;
#endif
}
#endif  // __linux__
