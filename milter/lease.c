/* lease - an object the daemon starts once and lends to connection threads (the
 * telemetry writer, the harvest writer): borrowed per message, taken away at
 * shutdown only once no thread holds it, so it is never freed under a user. */
#include <pthread.h>
#include <time.h>

#include "milter.h"

void lease_set(milter_lease *l, void *obj)
{
    pthread_mutex_lock(&l->lock);
    l->obj = obj;
    pthread_mutex_unlock(&l->lock);
}

void *lease_acquire(milter_lease *l)
{
    pthread_mutex_lock(&l->lock);
    void *obj = l->obj;
    if (obj)
        l->users++;
    pthread_mutex_unlock(&l->lock);
    return obj;
}

void lease_release(milter_lease *l)
{
    pthread_mutex_lock(&l->lock);
    if (--l->users == 0)
        pthread_cond_broadcast(&l->idle);
    pthread_mutex_unlock(&l->lock);
}

void *lease_take(milter_lease *l, unsigned wait_s, unsigned *busy)
{
    pthread_mutex_lock(&l->lock);
    void *obj = l->obj;
    l->obj = NULL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)wait_s;
    int rc = 0;
    while (l->users > 0 && rc == 0)
        rc = pthread_cond_timedwait(&l->idle, &l->lock, &until);
    *busy = l->users;
    pthread_mutex_unlock(&l->lock);
    return obj;
}
