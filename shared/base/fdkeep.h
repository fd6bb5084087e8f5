/*
 * fdkeep.h: what a forked child keeps of its parent's descriptors.
 *
 * CLOEXEC covers a child that execs at once; a child that runs on without
 * exec (a worker process) inherits every descriptor its parent had at the
 * fork: a control client's socket the primary was answering, another
 * pool's listeners and channels. A copy kept in a child keeps the object
 * open after the parent closes its own (a client never sees end of file, a
 * port stays bound), so every fork that does not exec at once closes all
 * but an allow-list, as libuv's uv__process_child_init does.
 */
#ifndef PVT_FDKEEP_H
#define PVT_FDKEEP_H

/*
 * Close every descriptor of the calling process except 0, 1, 2 and the n
 * in keep (negative entries are ignored; keep is sorted in place). Uses
 * close_range over the gaps, or, where the kernel has none (ENOSYS), closes
 * what /proc/self/fd lists. Returns 0, or -errno when neither worked.
 */
int pvt_fd_keep_only(int *keep, int n);

#endif
