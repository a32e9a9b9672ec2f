/*
 * errno.h — error numbers, with Linux's values so that a -EINVAL printed by
 * Grace means what it means in Linux. Functions return 0 or -Exxx.
 */
#ifndef GRACE_ERRNO_H
#define GRACE_ERRNO_H

#define ENOENT  2    /* no such entry */
#define ESRCH   3    /* no such task (e.g. kthread_stop of a released thread) */
#define EINTR   4
#define EIO     5
#define ENXIO   6    /* no such CPU or device (e.g. a call to an offline CPU) */
#define EAGAIN  11
#define ENOMEM  12
#define EBUSY   16
#define EINVAL  22
#define EDEADLK 35
#define ENOSYS  38

#endif
