// The Linux calls, structs and macros that Swift's Glibc module does not show. That
// module is built without _GNU_SOURCE, so recvmmsg, sendmmsg, pthread_setname_np,
// malloc_trim, struct mmsghdr and struct in6_pktinfo are hidden, and function-like
// macros (CMSG_*) never import.
//
// Defining _GNU_SOURCE in this header does not help Swift: the libc headers it sees are
// the Glibc module's, already built (and a second copy of them compiled here with other
// feature macros declares structs such as fd_set differently: a module error). So the
// two GNU-only structs Swift needs are declared here under their own names, and shim.c,
// compiled with _GNU_SOURCE, checks at compile time that they match the real ones
// member for member. The functions are compiled there against the real declarations.
#ifndef C_BULWARK_LINUX_H
#define C_BULWARK_LINUX_H

#ifdef __linux__

#include <features.h>
#if defined(__swift__) && defined(__GLIBC__)
// Seen from Swift: take the libc declarations from Swift's Glibc module rather than
// from a second textual copy of the same headers in this module. With a copy, Swift
// finds two owners of names such as SOCK_DGRAM and may hide them from Swift files that
// do not import this module.
#pragma clang module import SwiftGlibc
#endif
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <pthread.h>
#include <time.h>

// recvmmsg(2): `struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; }`.
typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} CBulwarkLinux_mmsghdr;

// ipv6(7) IPV6_PKTINFO, RFC 3542 §6.1: `struct in6_pktinfo`. (IPv4's struct
// in_pktinfo, ip(7) IP_PKTINFO, is visible without _GNU_SOURCE.)
typedef struct {
    struct in6_addr ipi6_addr;
    unsigned int ipi6_ifindex;
} CBulwarkLinux_in6_pktinfo;

// recvmmsg(2), sendmmsg(2): several datagrams per system call.
int CBulwarkLinux_recvmmsg(int fd, CBulwarkLinux_mmsghdr *messages, unsigned int count, int flags,
                           struct timespec *timeout);
int CBulwarkLinux_sendmmsg(int fd, CBulwarkLinux_mmsghdr *messages, unsigned int count, int flags);

// cmsg(3): the CMSG_* macros as functions, inline so the query path pays no call.
static inline struct cmsghdr *CBulwarkLinux_CMSG_FIRSTHDR(const struct msghdr *message) {
    return CMSG_FIRSTHDR(message);
}
static inline struct cmsghdr *CBulwarkLinux_CMSG_NXTHDR(struct msghdr *message, struct cmsghdr *current) {
    return CMSG_NXTHDR(message, current);
}
static inline unsigned char *CBulwarkLinux_CMSG_DATA(struct cmsghdr *header) {
    return CMSG_DATA(header);
}
static inline size_t CBulwarkLinux_CMSG_SPACE(size_t length) {
    return CMSG_SPACE(length);
}
static inline size_t CBulwarkLinux_CMSG_LEN(size_t length) {
    return CMSG_LEN(length);
}

// socket(7) SO_ATTACH_REUSEPORT_CBPF: attaches a classic BPF program of `count`
// instructions (linux/filter.h `struct sock_filter`) that returns the index of the
// reuseport group's socket a datagram goes to. The setsockopt(2) result; errno on -1.
int CBulwarkLinux_attach_reuseport_cbpf(int fd, struct sock_filter *instructions, unsigned short count);

// pthread_setname_np(3): names longer than 15 bytes are cut (the call refuses them).
int CBulwarkLinux_pthread_setname_np(pthread_t thread, const char *name);

// malloc_trim(3): hands free heap memory back to the system (glibc; a no-op elsewhere).
int CBulwarkLinux_malloc_trim(size_t pad);

#endif  // __linux__
#endif  // C_BULWARK_LINUX_H
