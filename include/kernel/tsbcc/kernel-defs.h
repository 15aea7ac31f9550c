/* tsbcc: what kernel headers give a BPF program and BTF cannot carry.
 *
 * vmlinux.h (generated from the running kernel's BTF) has every type and every enum constant, but no
 * macro: no AF_INET, no MAJOR(), no O_CREAT, no EPERM. This header supplies the ones BCC programs use.
 * Values are the kernel's ABI (x86_64 and the generic asm headers unless an arch is named).
 * Constants that are enums in some kernels and macros in others (TASK_COMM_LEN, IPPROTO_*, TCP_*
 * states, BPF_F_*) are in the generated <tsbcc/btf-fallbacks.h>, which defines only what the running
 * kernel's BTF lacks. Every definition is guarded so that a program's own definition wins silently.
 */
#ifndef __TSBCC_KERNEL_DEFS_H
#define __TSBCC_KERNEL_DEFS_H

/* ---- annotations that only mean something to sparse or the kernel build ---- */
#ifndef __user
#define __user
#endif
#ifndef __kernel
#define __kernel
#endif
#ifndef __iomem
#define __iomem
#endif
#ifndef __percpu
#define __percpu
#endif
#ifndef __rcu
#define __rcu
#endif
#ifndef __force
#define __force
#endif
#ifndef __bitwise
#define __bitwise
#endif
#ifndef __nocast
#define __nocast
#endif
#ifndef __safe
#define __safe
#endif
#ifndef __private
#define __private
#endif
#ifndef __must_hold
#define __must_hold(x)
#endif
#ifndef __acquires
#define __acquires(x)
#endif
#ifndef __releases
#define __releases(x)
#endif
#ifndef __counted_by
#define __counted_by(m)
#endif
/* x86 per-cpu address spaces: tracepoint formats print them (`void __seg_gs * ptr`), BPF has no segments. */
#ifndef __seg_gs
#define __seg_gs
#endif
#ifndef __seg_fs
#define __seg_fs
#endif
#ifndef __init
#define __init
#endif
#ifndef __exit
#define __exit
#endif
#ifndef __read_mostly
#define __read_mostly
#endif
#ifndef notrace
#define notrace
#endif
#ifndef asmlinkage
#define asmlinkage
#endif
#ifndef __visible
#define __visible
#endif
#ifndef __must_check
#define __must_check
#endif
#ifndef __always_unused
#define __always_unused __attribute__((unused))
#endif
#ifndef __maybe_unused
#define __maybe_unused __attribute__((unused))
#endif
#ifndef __used
#define __used __attribute__((used))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#ifndef __packed
#define __packed __attribute__((packed))
#endif
#ifndef __aligned
#define __aligned(x) __attribute__((aligned(x)))
#endif
#ifndef __section
#define __section(s) __attribute__((section(s)))
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef noinline
#define noinline __attribute__((noinline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __attribute_const__
#define __attribute_const__ __attribute__((const))
#endif
#ifndef __cold
#define __cold __attribute__((cold))
#endif

/* ---- compiler helpers ---- */
#ifndef NULL
#define NULL ((void *)0)
#endif
#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef offsetofend
#define offsetofend(type, member) (offsetof(type, member) + sizeof_field(type, member))
#endif
#ifndef sizeof_field
#define sizeof_field(type, member) sizeof(((type *)0)->member)
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
	({ void *__tsbcc_mptr = (void *)(ptr); ((type *)(__tsbcc_mptr - offsetof(type, member))); })
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))
#endif
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef barrier
#define barrier() __asm__ __volatile__("" : : : "memory")
#endif
/* One plain load/store through a volatile lvalue: the compiler may neither split, merge nor drop it. */
#ifndef READ_ONCE
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val) (*(volatile __typeof__(x) *)&(x) = (val))
#endif
#ifndef BUILD_BUG_ON
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(cond)]))
#endif
#ifndef min
#define min(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) ((a) > (b) ? (a) : (b))
#endif
#ifndef min_t
#define min_t(type, a, b) ((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#endif
#ifndef max_t
#define max_t(type, a, b) ((type)(a) > (type)(b) ? (type)(a) : (type)(b))
#endif
#ifndef clamp
#define clamp(v, lo, hi) min(max(v, lo), hi)
#endif
#ifndef DIV_ROUND_UP
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#endif
#ifndef BIT
#define BIT(nr) (1UL << (nr))
#endif
#ifndef BIT_ULL
#define BIT_ULL(nr) (1ULL << (nr))
#endif
#ifndef BITS_PER_BYTE
#define BITS_PER_BYTE 8
#endif
#ifndef BITS_PER_LONG
#define BITS_PER_LONG 64
#endif

/* IS_ENABLED(CONFIG_FOO): 1 when CONFIG_FOO or CONFIG_FOO_MODULE is defined to 1 (see <tsbcc/kernel-config.h>).
 * A defined-to-1 option turns into "0," which shifts the 1 into the second argument slot. */
#define __tsbcc_one_if_set_1 0,
#define __tsbcc_second(ignored, val, ...) val
#define __tsbcc_pick(arg_or_junk) __tsbcc_second(arg_or_junk 1, 0, 0)
#define __tsbcc_is_set(x) __tsbcc_is_set_(x)
#define __tsbcc_is_set_(val) __tsbcc_pick(__tsbcc_one_if_set_##val)
#ifndef IS_BUILTIN
#define IS_BUILTIN(option) __tsbcc_is_set(option)
#endif
#ifndef IS_MODULE
#define IS_MODULE(option) __tsbcc_is_set(option##_MODULE)
#endif
#ifndef IS_ENABLED
#define IS_ENABLED(option) (IS_BUILTIN(option) || IS_MODULE(option))
#endif

/* ---- limits ---- */
#ifndef U8_MAX
#define U8_MAX ((u8)~0U)
#define S8_MAX ((s8)(U8_MAX >> 1))
#define S8_MIN ((s8)(-S8_MAX - 1))
#define U16_MAX ((u16)~0U)
#define S16_MAX ((s16)(U16_MAX >> 1))
#define S16_MIN ((s16)(-S16_MAX - 1))
#define U32_MAX ((u32)~0U)
#define S32_MAX ((s32)(U32_MAX >> 1))
#define S32_MIN ((s32)(-S32_MAX - 1))
#define U64_MAX ((u64)~0ULL)
#define S64_MAX ((s64)(U64_MAX >> 1))
#define S64_MIN ((s64)(-S64_MAX - 1))
#endif
#ifndef INT_MAX
#define INT_MAX ((int)(~0U >> 1))
#define INT_MIN (-INT_MAX - 1)
#define UINT_MAX (~0U)
#define LONG_MAX ((long)(~0UL >> 1))
#define LONG_MIN (-LONG_MAX - 1)
#define ULONG_MAX (~0UL)
#define LLONG_MAX ((long long)(~0ULL >> 1))
#define LLONG_MIN (-LLONG_MAX - 1)
#define ULLONG_MAX (~0ULL)
#define SHRT_MAX ((short)(USHRT_MAX >> 1))
#define SHRT_MIN ((short)(-SHRT_MAX - 1))
#define USHRT_MAX ((unsigned short)~0U)
#endif
#ifndef SIZE_MAX
#define SIZE_MAX (~(size_t)0)
#endif
#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
#ifndef NAME_MAX
#define NAME_MAX 255
#endif
#ifndef IFNAMSIZ
#define IFNAMSIZ 16
#endif
#ifndef DISK_NAME_LEN
#define DISK_NAME_LEN 32
#endif
#ifndef BDEVNAME_SIZE
#define BDEVNAME_SIZE 32
#endif
#ifndef PERF_MAX_STACK_DEPTH
#define PERF_MAX_STACK_DEPTH 127
#endif
#ifndef BPF_MAX_STACK_DEPTH
#define BPF_MAX_STACK_DEPTH 127
#endif
#ifndef INET_ADDRSTRLEN
#define INET_ADDRSTRLEN 16
#endif
#ifndef INET6_ADDRSTRLEN
#define INET6_ADDRSTRLEN 48
#endif
#ifndef __NEW_UTS_LEN
#define __NEW_UTS_LEN 64
#endif

/* ---- time ---- */
#ifndef MSEC_PER_SEC
#define MSEC_PER_SEC 1000L
#endif
#ifndef USEC_PER_MSEC
#define USEC_PER_MSEC 1000L
#endif
#ifndef NSEC_PER_USEC
#define NSEC_PER_USEC 1000L
#endif
#ifndef NSEC_PER_MSEC
#define NSEC_PER_MSEC 1000000L
#endif
#ifndef USEC_PER_SEC
#define USEC_PER_SEC 1000000L
#endif
#ifndef NSEC_PER_SEC
#define NSEC_PER_SEC 1000000000L
#endif

/* ---- pages (PAGE_SHIFT comes from <tsbcc/kernel-config.h>, measured on the running system) ----
 * The x86-64 direct map starts at one of two fixed addresses (4- or 5-level paging); KASLR moves it, which
 * is why the kernel's PAGE_OFFSET is a variable there and programs (profile.py) use these constants. */
#if defined(__TARGET_ARCH_x86)
#ifndef __PAGE_OFFSET_BASE_L4
#define __PAGE_OFFSET_BASE_L4 0xffff888000000000UL
#define __PAGE_OFFSET_BASE_L5 0xff11000000000000UL
#endif
#ifndef PAGE_OFFSET
#if defined(CONFIG_X86_5LEVEL)
#define PAGE_OFFSET __PAGE_OFFSET_BASE_L5
#else
#define PAGE_OFFSET __PAGE_OFFSET_BASE_L4
#endif
#endif
#elif defined(__TARGET_ARCH_arm64) && defined(CONFIG_ARM64_VA_BITS)
#ifndef PAGE_OFFSET
#define PAGE_OFFSET (-(1UL << (CONFIG_ARM64_VA_BITS > 48 ? 48 : CONFIG_ARM64_VA_BITS)))
#endif
#endif
#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#endif
#ifndef PAGE_MASK
#define PAGE_MASK (~(PAGE_SIZE - 1))
#endif

/* ---- device numbers (kernel-internal dev_t: 12-bit major, 20-bit minor) ---- */
#ifndef MINORBITS
#define MINORBITS 20
#endif
#ifndef MINORMASK
#define MINORMASK ((1U << MINORBITS) - 1)
#endif
#ifndef MAJOR
#define MAJOR(dev) ((unsigned int)((dev) >> MINORBITS))
#endif
#ifndef MINOR
#define MINOR(dev) ((unsigned int)((dev) & MINORMASK))
#endif
#ifndef MKDEV
#define MKDEV(ma, mi) (((ma) << MINORBITS) | (mi))
#endif

/* ---- file modes ---- */
#ifndef S_IFMT
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_ISUID 0004000
#define S_ISGID 0002000
#define S_ISVTX 0001000
#endif
#ifndef S_ISREG
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define S_ISBLK(m) (((m) & S_IFMT) == S_IFBLK)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
#define S_ISSOCK(m) (((m) & S_IFMT) == S_IFSOCK)
#endif
#ifndef S_IRWXU
#define S_IRWXU 00700
#define S_IRUSR 00400
#define S_IWUSR 00200
#define S_IXUSR 00100
#define S_IRWXG 00070
#define S_IRGRP 00040
#define S_IWGRP 00020
#define S_IXGRP 00010
#define S_IRWXO 00007
#define S_IROTH 00004
#define S_IWOTH 00002
#define S_IXOTH 00001
#endif

/* ---- open(2) flags: generic values; arm64 (and 32-bit arm) move four of them ---- */
#ifndef O_ACCMODE
#define O_ACCMODE 00000003
#define O_RDONLY 00000000
#define O_WRONLY 00000001
#define O_RDWR 00000002
#define O_CREAT 00000100
#define O_EXCL 00000200
#define O_NOCTTY 00000400
#define O_TRUNC 00001000
#define O_APPEND 00002000
#define O_NONBLOCK 00004000
#define O_DSYNC 00010000
#define FASYNC 00020000
#if defined(__TARGET_ARCH_arm64) || defined(__TARGET_ARCH_arm)
#define O_DIRECTORY 040000
#define O_NOFOLLOW 0100000
#define O_DIRECT 0200000
#define O_LARGEFILE 0400000
#else
#define O_DIRECT 00040000
#define O_LARGEFILE 00100000
#define O_DIRECTORY 00200000
#define O_NOFOLLOW 00400000
#endif
#define O_NOATIME 01000000
#define O_CLOEXEC 02000000
#define __O_SYNC 04000000
#define O_SYNC (__O_SYNC | O_DSYNC)
#define O_PATH 010000000
#define __O_TMPFILE 020000000
#define O_TMPFILE (__O_TMPFILE | O_DIRECTORY)
#define O_NDELAY O_NONBLOCK
#endif
#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif
#ifndef FMODE_READ
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_LSEEK 0x4
#define FMODE_PREAD 0x8
#define FMODE_PWRITE 0x10
#define FMODE_EXEC 0x20
#define FMODE_CREATED 0x100000
#endif

/* ---- errno ---- */
#ifndef EPERM
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define ENOTBLK 15
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENOTTY 25
#define ETXTBSY 26
#define EFBIG 27
#define ENOSPC 28
#define ESPIPE 29
#define EROFS 30
#define EMLINK 31
#define EPIPE 32
#define EDOM 33
#define ERANGE 34
#define EDEADLK 35
#define ENAMETOOLONG 36
#define ENOLCK 37
#define ENOSYS 38
#define ENOTEMPTY 39
#define ELOOP 40
#define EWOULDBLOCK EAGAIN
#define ENOMSG 42
#define EIDRM 43
#define ENODATA 61
#define ETIME 62
#define EPROTO 71
#define EBADMSG 74
#define EOVERFLOW 75
#define EILSEQ 84
#define EUSERS 87
#define ENOTSOCK 88
#define EDESTADDRREQ 89
#define EMSGSIZE 90
#define EPROTOTYPE 91
#define ENOPROTOOPT 92
#define EPROTONOSUPPORT 93
#define ESOCKTNOSUPPORT 94
#define EOPNOTSUPP 95
#define ENOTSUP EOPNOTSUPP
#define EPFNOSUPPORT 96
#define EAFNOSUPPORT 97
#define EADDRINUSE 98
#define EADDRNOTAVAIL 99
#define ENETDOWN 100
#define ENETUNREACH 101
#define ENETRESET 102
#define ECONNABORTED 103
#define ECONNRESET 104
#define ENOBUFS 105
#define EISCONN 106
#define ENOTCONN 107
#define ESHUTDOWN 108
#define ETOOMANYREFS 109
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTDOWN 112
#define EHOSTUNREACH 113
#define EALREADY 114
#define EINPROGRESS 115
#define ESTALE 116
#define EDQUOT 122
#define ECANCELED 125
#define EOWNERDEAD 130
#define ENOTRECOVERABLE 131
/* kernel-internal codes that leak into return values BPF programs see */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ENOTSUPP 524
#endif
#ifndef MAX_ERRNO
#define MAX_ERRNO 4095
#endif
#ifndef IS_ERR_VALUE
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
#endif
#ifndef IS_ERR
#define IS_ERR(ptr) IS_ERR_VALUE((unsigned long)(ptr))
#define IS_ERR_OR_NULL(ptr) (unlikely(!(ptr)) || IS_ERR_VALUE((unsigned long)(ptr)))
#define PTR_ERR(ptr) ((long)(ptr))
#define ERR_PTR(err) ((void *)(long)(err))
#endif

/* ---- tasks ---- */
#ifndef TASK_RUNNING
#define TASK_RUNNING 0x00000000
#define TASK_INTERRUPTIBLE 0x00000001
#define TASK_UNINTERRUPTIBLE 0x00000002
#define __TASK_STOPPED 0x00000004
#define __TASK_TRACED 0x00000008
#define EXIT_DEAD 0x00000010
#define EXIT_ZOMBIE 0x00000020
#define EXIT_TRACE (EXIT_ZOMBIE | EXIT_DEAD)
#define TASK_PARKED 0x00000040
#define TASK_DEAD 0x00000080
#define TASK_WAKEKILL 0x00000100
#define TASK_WAKING 0x00000200
#define TASK_NOLOAD 0x00000400
#define TASK_NEW 0x00000800
#define TASK_KILLABLE (TASK_WAKEKILL | TASK_UNINTERRUPTIBLE)
#define TASK_STOPPED (TASK_WAKEKILL | __TASK_STOPPED)
#define TASK_TRACED __TASK_TRACED
#define TASK_IDLE (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)
#define TASK_NORMAL (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)
#endif
#ifndef PF_KTHREAD
#define PF_IDLE 0x00000002
#define PF_EXITING 0x00000004
#define PF_WQ_WORKER 0x00000020
#define PF_FORKNOEXEC 0x00000040
#define PF_SUPERPRIV 0x00000100
#define PF_DUMPCORE 0x00000200
#define PF_SIGNALED 0x00000400
#define PF_MEMALLOC 0x00000800
#define PF_NOFREEZE 0x00008000
#define PF_KTHREAD 0x00200000
#endif
#ifndef CLONE_VM
#define CLONE_VM 0x00000100
#define CLONE_FS 0x00000200
#define CLONE_FILES 0x00000400
#define CLONE_SIGHAND 0x00000800
#define CLONE_PTRACE 0x00002000
#define CLONE_VFORK 0x00004000
#define CLONE_PARENT 0x00008000
#define CLONE_THREAD 0x00010000
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000
#endif
#ifndef SIGKILL
#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#endif

/* ---- block layer: REQ_OP_* are enum constants in BTF, the mask is a macro ---- */
#ifndef REQ_OP_BITS
#define REQ_OP_BITS 8
#endif
#ifndef REQ_OP_MASK
#define REQ_OP_MASK ((1 << REQ_OP_BITS) - 1)
#endif
#ifndef READ
#define READ 0
#define WRITE 1
#endif
#ifndef req_op
#define req_op(req) ((req)->cmd_flags & REQ_OP_MASK)
#endif
#ifndef op_is_write
#define op_is_write(op) (!!((op) & 1))
#endif

/* ---- sockets and packets ---- */
#ifndef AF_INET
#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_LOCAL 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define AF_PACKET 17
#define AF_VSOCK 40
#define AF_XDP 44
#define PF_UNSPEC AF_UNSPEC
#define PF_UNIX AF_UNIX
#define PF_LOCAL AF_LOCAL
#define PF_INET AF_INET
#define PF_INET6 AF_INET6
#define PF_NETLINK AF_NETLINK
#define PF_PACKET AF_PACKET
#endif
#ifndef SCM_RIGHTS
#define SCM_RIGHTS 0x01
#define SCM_CREDENTIALS 0x02
#define SCM_SECURITY 0x03
#endif
#ifndef SOL_SOCKET
#define SOL_IP 0
#define SOL_SOCKET 1
#define SOL_TCP 6
#define SOL_UDP 17
#define SOL_IPV6 41
#endif
#ifndef ETH_ALEN
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_ZLEN 60
#define ETH_DATA_LEN 1500
#define ETH_FRAME_LEN 1514
#endif
#ifndef ETH_P_IP
#define ETH_P_ALL 0x0003
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_IPV6 0x86DD
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_8021AD 0x88A8
#endif
#ifndef IPPROTO_ICMPV6
#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_ICMPV6 58
#define IPPROTO_NONE 59
#define IPPROTO_DSTOPTS 60
#define IPPROTO_MH 135
#endif
#ifndef ICMP_ECHO
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#endif
#ifndef ICMPV6_ECHO_REQUEST
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#endif
#ifndef TC_ACT_OK
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_OK 0
#define TC_ACT_RECLASSIFY 1
#define TC_ACT_SHOT 2
#define TC_ACT_PIPE 3
#define TC_ACT_STOLEN 4
#define TC_ACT_QUEUED 5
#define TC_ACT_REPEAT 6
#define TC_ACT_REDIRECT 7
#endif

/* ---- scatterlists: the low bits of page_link mark chain and end entries ---- */
#ifndef SG_CHAIN
#define SG_CHAIN 0x01UL
#define SG_END 0x02UL
#define SG_PAGE_LINK_MASK (SG_CHAIN | SG_END)
#endif
#ifndef sg_is_chain
#define sg_is_chain(sg) ((sg)->page_link & SG_CHAIN)
#define sg_is_last(sg) ((sg)->page_link & SG_END)
#define sg_chain_ptr(sg) ((struct scatterlist *)((sg)->page_link & ~SG_PAGE_LINK_MASK))
#endif

/* ---- socket buffers: queue_mapping holds the rx queue + 1 (0: not recorded) ---- */
#ifndef skb_rx_queue_recorded
#define skb_rx_queue_recorded(skb) ((skb)->queue_mapping != 0)
#define skb_get_rx_queue(skb) ((skb)->queue_mapping - 1)
#define skb_get_queue_mapping(skb) ((skb)->queue_mapping)
#endif

/* ---- byte order ---- */
#ifndef __LITTLE_ENDIAN
#define __LITTLE_ENDIAN 1234
#endif
#ifndef __BIG_ENDIAN
#define __BIG_ENDIAN 4321
#endif
#ifndef __swab16
#define __swab16(x) ((__u16)__builtin_bswap16((__u16)(x)))
#define __swab32(x) ((__u32)__builtin_bswap32((__u32)(x)))
#define __swab64(x) ((__u64)__builtin_bswap64((__u64)(x)))
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#ifndef __LITTLE_ENDIAN_BITFIELD
#define __LITTLE_ENDIAN_BITFIELD
#endif
#ifndef __cpu_to_be16
#define __cpu_to_be16(x) __swab16(x)
#define __cpu_to_be32(x) __swab32(x)
#define __cpu_to_be64(x) __swab64(x)
#define __be16_to_cpu(x) __swab16(x)
#define __be32_to_cpu(x) __swab32(x)
#define __be64_to_cpu(x) __swab64(x)
#define __cpu_to_le16(x) ((__u16)(x))
#define __cpu_to_le32(x) ((__u32)(x))
#define __cpu_to_le64(x) ((__u64)(x))
#define __le16_to_cpu(x) ((__u16)(x))
#define __le32_to_cpu(x) ((__u32)(x))
#define __le64_to_cpu(x) ((__u64)(x))
#endif
#else
#ifndef __BIG_ENDIAN_BITFIELD
#define __BIG_ENDIAN_BITFIELD
#endif
#ifndef __cpu_to_be16
#define __cpu_to_be16(x) ((__u16)(x))
#define __cpu_to_be32(x) ((__u32)(x))
#define __cpu_to_be64(x) ((__u64)(x))
#define __be16_to_cpu(x) ((__u16)(x))
#define __be32_to_cpu(x) ((__u32)(x))
#define __be64_to_cpu(x) ((__u64)(x))
#define __cpu_to_le16(x) __swab16(x)
#define __cpu_to_le32(x) __swab32(x)
#define __cpu_to_le64(x) __swab64(x)
#define __le16_to_cpu(x) __swab16(x)
#define __le32_to_cpu(x) __swab32(x)
#define __le64_to_cpu(x) __swab64(x)
#endif
#endif
#ifndef cpu_to_be16
#define cpu_to_be16 __cpu_to_be16
#define cpu_to_be32 __cpu_to_be32
#define cpu_to_be64 __cpu_to_be64
#define be16_to_cpu __be16_to_cpu
#define be32_to_cpu __be32_to_cpu
#define be64_to_cpu __be64_to_cpu
#define cpu_to_le16 __cpu_to_le16
#define cpu_to_le32 __cpu_to_le32
#define cpu_to_le64 __cpu_to_le64
#define le16_to_cpu __le16_to_cpu
#define le32_to_cpu __le32_to_cpu
#define le64_to_cpu __le64_to_cpu
#endif
#ifndef ntohs
#define ntohs(x) __be16_to_cpu(x)
#define htons(x) __cpu_to_be16(x)
#define ntohl(x) __be32_to_cpu(x)
#define htonl(x) __cpu_to_be32(x)
#endif

/* ---- reads the kernel does with plain loads; a BPF tracing program must use a probe read ----
 * These are inline functions in the kernel (atomic_read() is a READ_ONCE of ->counter). A BPF program that
 * dereferences a kernel pointer directly is rejected by the verifier, so these read through
 * bpf_probe_read_kernel (helper 113, Linux 5.5+), called by number to stay independent of helper headers. */
#define __tsbcc_probe_read_kernel ((long (*)(void *dst, __u32 size, const void *src))113)

#define __TSBCC_READ_FIELD(type, ptr, field) \
	({ type __tsbcc_v = 0; __tsbcc_probe_read_kernel(&__tsbcc_v, sizeof(__tsbcc_v), &(ptr)->field); __tsbcc_v; })
#ifndef atomic_read
#define atomic_read(v) __TSBCC_READ_FIELD(int, (const atomic_t *)(v), counter)
#endif
#ifndef atomic64_read
#define atomic64_read(v) __TSBCC_READ_FIELD(s64, (const atomic64_t *)(v), counter)
#endif
#ifndef atomic_long_read
#define atomic_long_read(v) __TSBCC_READ_FIELD(long, (const atomic_long_t *)(v), counter)
#endif
#ifndef refcount_read
#define refcount_read(r) atomic_read(&(r)->refs)
#endif

#ifndef KBUILD_MODNAME
#define KBUILD_MODNAME "tsbcc"
#endif

#endif /* __TSBCC_KERNEL_DEFS_H */
