// The native seam's public face: everything above src/sys imports from here.
export { SyscallError, errnoName, mmapFd, munmap, pollReadable, readFd, PROT_READ, PROT_WRITE, addressOf } from "./native.js";
export { type PollWatch, epollCreate, epollCtl, epollWait, EPOLLIN, EPOLLET, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_EVENT_SIZE } from "./native.js";
export { Fd, liveFds } from "./fd.js";
export { closeAtExit, type Closable } from "./cleanup.js";
export * as bpf from "./bpf.js";
export * as perf from "./perf.js";
export * as abi from "./abi.js";
export { socketOpen, bindSocket, sendTo, recvFrom } from "./native.js";
