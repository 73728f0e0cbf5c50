/*===- parallel.c - the thread pool behind generated parallel loops ------===*
 *
 * The compiler turns each outermost parallel loop into an OpenMP parallel
 * region with one statically scheduled worksharing loop (scf-to-openmp,
 * then LLVM's OpenMP IR builder), which calls the four libomp entry points
 * below. They are implemented here on a small pthread pool, so a compiled
 * model needs no OpenMP library:
 *   - __kmpc_fork_call runs the region's microtask once per team member;
 *     each thread claims its own member first (the caller 0, worker k
 *     member k: claim_member), then any left, so a run never waits on a
 *     busy pool;
 *   - __kmpc_for_static_init_8u gives each member its contiguous chunk;
 *   - __kmpc_barrier is a no-op: each region holds exactly one loop, and the
 *     end of __kmpc_fork_call already waits for every member;
 *   - a member that runs out of memory stops (kiln_pool_member_fail, a
 *     longjmp to where it started); once every member is done the region
 *     reports it on the calling thread (kiln_rt_fail_oom), which ends the
 *     run with KILN_OUT_OF_MEMORY.
 * Regions entered from inside a region run on the calling thread alone.
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "runtime_internal.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 16

typedef void (*microtask_fn)(int32_t *, int32_t *, ...);

typedef struct team {
  microtask_fn fn;
  int32_t argc;
  void *args[MAX_ARGS];
  int32_t size;
  kiln_arena *arena; /* the caller's workspace, used by every member */
  atomic_int next;  /* next member index to claim (teams over 64) */
  atomic_ullong claimed; /* members claimed (teams of up to 64) */
  atomic_int done;  /* members finished */
  atomic_int refs;  /* the caller and queued tickets */
  atomic_int failed; /* a member ran out of memory (kiln_pool_member_fail) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
} team;

static _Thread_local int32_t member_id;   /* 0 outside regions */
static _Thread_local int32_t member_count = 1;
static _Thread_local bool in_region;
/* Where kiln_pool_member_fail ends the member this thread runs. */
static _Thread_local jmp_buf *member_jump;

static void call_microtask(team *t, int32_t id);

/* Runs member `id`; returns 0 when it ran out of memory: it then stopped
 * where it was (kiln_pool_member_fail), and its region fails once every
 * member is done. */
static int run_member(team *t, int32_t id) {
  jmp_buf jump;
  jmp_buf *saved = member_jump;
  int ok = 1;
  if (setjmp(jump) == 0) {
    member_jump = &jump;
    call_microtask(t, id);
  } else {
    ok = 0;
  }
  member_jump = saved;
  return ok;
}

void kiln_pool_member_fail(void) {
  if (in_region && member_jump)
    longjmp(*member_jump, 1);
}

static void call_microtask(team *t, int32_t id) {
  int32_t gtid = id, zero = 0;
  void **a = t->args;
  switch (t->argc) {
  case 0: t->fn(&gtid, &zero); break;
  case 1: t->fn(&gtid, &zero, a[0]); break;
  case 2: t->fn(&gtid, &zero, a[0], a[1]); break;
  case 3: t->fn(&gtid, &zero, a[0], a[1], a[2]); break;
  case 4: t->fn(&gtid, &zero, a[0], a[1], a[2], a[3]); break;
  case 5: t->fn(&gtid, &zero, a[0], a[1], a[2], a[3], a[4]); break;
  case 6: t->fn(&gtid, &zero, a[0], a[1], a[2], a[3], a[4], a[5]); break;
  case 7: t->fn(&gtid, &zero, a[0], a[1], a[2], a[3], a[4], a[5], a[6]); break;
  default:
    t->fn(&gtid, &zero, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
          a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
    break;
  }
}

static void release(team *t) {
  if (atomic_fetch_sub(&t->refs, 1) == 1) {
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
  }
}

/* The member this thread claims first: 0 for a region's caller, k for
 * pool worker k. A team's member k then runs on the same thread region
 * after region while the workers keep up, so a kernel's share of its
 * output (rows, runs of pixels) stays in the cache of the core that reads
 * it as the next kernel's same share. Members are still taken by whoever
 * is free once its own is done, so a busy or sleeping worker never holds
 * a region up. */
static _Thread_local int32_t preferred_member;

/* The next member for this thread: its preferred one if still free, else
 * the first free one; -1 when none is left. */
static int32_t claim_member(team *t, int32_t *scan) {
  if (t->size > 64) {
    int32_t id = atomic_fetch_add(&t->next, 1);
    return id < t->size ? id : -1;
  }
  if (*scan < 0) {
    *scan = 0;
    int32_t p = preferred_member;
    if (p < t->size &&
        !(atomic_fetch_or(&t->claimed, 1ull << p) & (1ull << p)))
      return p;
  }
  for (; *scan < t->size; ++*scan)
    if (!(atomic_fetch_or(&t->claimed, 1ull << *scan) & (1ull << *scan)))
      return (*scan)++;
  return -1;
}

/* Claims and runs members until none is left. */
static void work_on(team *t) {
  int32_t scan = -1;
  for (;;) {
    int32_t id = claim_member(t, &scan);
    if (id < 0)
      return;
    int32_t saved_id = member_id, saved_count = member_count;
    bool saved_in = in_region;
    kiln_arena *saved_arena = kiln_arena_get();
    member_id = id;
    member_count = t->size;
    in_region = true;
    kiln_arena_set(t->arena);
    if (!run_member(t, id))
      atomic_store(&t->failed, 1);
    kiln_arena_set(saved_arena);
    member_id = saved_id;
    member_count = saved_count;
    in_region = saved_in;
    if (atomic_fetch_add(&t->done, 1) + 1 == t->size) {
      pthread_mutex_lock(&t->mu);
      pthread_cond_broadcast(&t->cv);
      pthread_mutex_unlock(&t->mu);
    }
  }
}

/* ---- the pool: a queue of tickets, each a chance to help a team ------- */

typedef struct ticket {
  team *t;
  struct ticket *next;
} ticket;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static ticket *queue_head, *queue_tail;
static pthread_t *workers;
static int num_workers, pool_threads = 1;
static bool stopping, started;

/* Tickets queued (written under pool_mu, read without it while spinning). */
static atomic_int queued;

/* Workers poll for new work for spin_ns after their last work before they
 * sleep, and a caller polls as long for its team's end: a model runs
 * hundreds of parallel regions per run, and a condition-variable wake-up
 * costs tens of microseconds each time, more when the idle core has been
 * parked (measured: the first runs after a 0.2 s pause took 2x as long
 * with a 0.1 ms spin). Like OpenMP's KMP_BLOCKTIME (200 ms) and ONNX
 * Runtime's spinning pool; KILN_SPIN_US overrides the default. */
static int64_t spin_ns = 50 * 1000 * 1000;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* ---- the slot: one team at a time without locks or allocations -------- *
 * A region is mostly forked by one thread at a time while the workers spin,
 * and the ticket queue's allocations, lock and hand-over cost about a
 * microsecond each time (MobileNetV3 forks 43 regions per image). So the
 * first forker takes the slot instead: it fills slot_team and makes
 * slot_gen odd; spinning workers that see the new odd generation join it
 * (claiming members from its counter like queued helpers). slot_refs counts
 * workers looking at slot_team, so it is refilled only once they are gone;
 * one that joins late, after the generation moved on, leaves without
 * touching it. A forker that finds the slot taken, or workers asleep (they
 * wake only for tickets), queues tickets as before. */
static team slot_team = {.mu = PTHREAD_MUTEX_INITIALIZER,
                         .cv = PTHREAD_COND_INITIALIZER};
static atomic_int slot_busy, slot_refs, sleepers;
static atomic_uint slot_gen; /* odd while slot_team is open */

static void join_slot(unsigned gen) {
  atomic_fetch_add(&slot_refs, 1);
  if (atomic_load(&slot_gen) == gen)
    work_on(&slot_team);
  atomic_fetch_sub(&slot_refs, 1);
}

static void *worker_main(void *arg) {
  preferred_member = (int32_t)(intptr_t)arg;
  unsigned seen = atomic_load(&slot_gen);
  for (;;) {
    int64_t until = now_ns() + spin_ns;
    for (unsigned i = 1; atomic_load_explicit(&queued, memory_order_acquire) == 0; ++i) {
      unsigned gen = atomic_load_explicit(&slot_gen, memory_order_acquire);
      if (gen != seen) {
        seen = gen;
        if (gen & 1) {
          join_slot(gen);
          until = now_ns() + spin_ns;
        }
        continue;
      }
      cpu_relax();
      if ((i & 255) == 0 && now_ns() > until)
        break;
    }
    pthread_mutex_lock(&pool_mu);
    atomic_fetch_add(&sleepers, 1);
    while (!queue_head && !stopping)
      pthread_cond_wait(&pool_cv, &pool_mu);
    atomic_fetch_sub(&sleepers, 1);
    seen = atomic_load(&slot_gen);
    if (!queue_head) {
      pthread_mutex_unlock(&pool_mu);
      return NULL;
    }
    ticket *k = queue_head;
    queue_head = k->next;
    if (!queue_head)
      queue_tail = NULL;
    atomic_fetch_sub(&queued, 1);
    pthread_mutex_unlock(&pool_mu);
    work_on(k->t);
    release(k->t);
    free(k);
  }
}

int kiln_pool_start(int threads) {
  pthread_mutex_lock(&pool_mu);
  if (started) {
    pthread_mutex_unlock(&pool_mu);
    return pool_threads;
  }
  const char *spin = getenv("KILN_SPIN_US");
  if (spin && *spin)
    spin_ns = (int64_t)atoll(spin) * 1000;
  if (threads <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (int)n : 1;
  }
  /* The calling thread is a member too: threads - 1 workers. */
  if (threads > 1) {
    workers = calloc((size_t)threads - 1, sizeof *workers);
    for (int i = 0; workers && i < threads - 1; ++i)
      if (pthread_create(&workers[num_workers], NULL, worker_main,
                         (void *)(intptr_t)(num_workers + 1)) == 0)
        ++num_workers;
  }
  pool_threads = num_workers + 1;
  started = true;
  pthread_mutex_unlock(&pool_mu);
  return pool_threads;
}

/* Joins the workers before the library's code goes away. */
__attribute__((destructor)) static void pool_stop(void) {
  pthread_mutex_lock(&pool_mu);
  stopping = true;
  pthread_cond_broadcast(&pool_cv);
  pthread_mutex_unlock(&pool_mu);
  for (int i = 0; i < num_workers; ++i)
    pthread_join(workers[i], NULL);
  free(workers);
  workers = NULL;
  num_workers = 0;
}

/* The generated code runs a loop nest in parallel only when this is > 1. */
int64_t kiln_rt_num_threads(void) { return in_region ? 1 : pool_threads; }

/* ---- the libomp entry points the generated code calls ----------------- */

/* Runs every one of `size` members of a region on the calling thread. */
static void run_members_here(microtask_fn fn, int32_t argc, void **args,
                             int32_t size) {
  team local;
  local.fn = fn;
  local.argc = argc;
  for (int32_t i = 0; i < argc; ++i)
    local.args[i] = args[i];
  int32_t saved_id = member_id, saved_count = member_count;
  bool saved_in = in_region;
  in_region = true;
  member_count = size;
  int ok = 1;
  for (int32_t id = 0; id < size && ok; ++id) {
    member_id = id;
    ok = run_member(&local, id);
  }
  member_id = saved_id;
  member_count = saved_count;
  in_region = saved_in;
  if (!ok) /* out of memory: on to the enclosing member or the run */
    kiln_rt_fail_oom();
}

/* A team for a region of `size` members running fn(args), none claimed. */
static void fill_team(team *t, microtask_fn fn, int32_t argc, void **args,
                      int32_t size) {
  t->fn = fn;
  t->argc = argc;
  for (int32_t i = 0; i < argc; ++i)
    t->args[i] = args[i];
  t->size = size;
  t->arena = kiln_arena_get();
  atomic_store(&t->next, 0);
  atomic_store(&t->claimed, 0);
  atomic_store(&t->done, 0);
  atomic_store(&t->failed, 0);
}

/* Waits (spinning first) until every member of `t` is done. */
static void wait_done(team *t) {
  int64_t until = now_ns() + spin_ns;
  for (unsigned i = 1; atomic_load(&t->done) < t->size; ++i) {
    cpu_relax();
    if ((i & 255) == 0 && now_ns() > until)
      break;
  }
  pthread_mutex_lock(&t->mu);
  while (atomic_load(&t->done) < t->size)
    pthread_cond_wait(&t->cv, &t->mu);
  pthread_mutex_unlock(&t->mu);
}

void __kmpc_fork_call(void *loc, int32_t argc, microtask_fn fn, ...) {
  (void)loc;
  if (argc > MAX_ARGS)
    abort(); /* the compiler never passes more than one packed argument */
  void *args[MAX_ARGS];
  va_list ap;
  va_start(ap, fn);
  for (int32_t i = 0; i < argc; ++i)
    args[i] = va_arg(ap, void *);
  va_end(ap);
  int32_t size = in_region ? 1 : pool_threads;
  if (size > 1 && atomic_load(&sleepers) == 0 &&
      !atomic_exchange(&slot_busy, 1)) {
    team *t = &slot_team;
    while (atomic_load(&slot_refs) != 0)
      cpu_relax();
    fill_team(t, fn, argc, args, size);
    atomic_fetch_add_explicit(&slot_gen, 1, memory_order_release); /* open */
    work_on(t);
    wait_done(t);
    atomic_fetch_add_explicit(&slot_gen, 1, memory_order_release); /* closed */
    int failed = atomic_load(&t->failed);
    atomic_store_explicit(&slot_busy, 0, memory_order_release);
    if (failed) /* every member is done: the region fails as a whole */
      kiln_rt_fail_oom();
    return;
  }
  /* One member: run the region right here, without a team. Without memory
   * for a team, the caller runs every member's share itself. */
  team *t = size > 1 ? calloc(1, sizeof *t) : NULL;
  if (!t) {
    run_members_here(fn, argc, args, size);
    return;
  }
  fill_team(t, fn, argc, args, size);
  atomic_init(&t->refs, 1);
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->cv, NULL);
  if (size > 1) {
    pthread_mutex_lock(&pool_mu);
    for (int32_t i = 1; i < size; ++i) {
      ticket *k = malloc(sizeof *k);
      if (!k)
        break; /* fewer helpers: the caller does their share */
      k->t = t;
      k->next = NULL;
      atomic_fetch_add(&t->refs, 1);
      if (queue_tail)
        queue_tail->next = k;
      else
        queue_head = k;
      queue_tail = k;
      atomic_fetch_add(&queued, 1);
    }
    pthread_cond_broadcast(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
  }
  work_on(t);
  wait_done(t);
  int failed = atomic_load(&t->failed);
  release(t);
  if (failed) /* every member is done: the region fails as a whole */
    kiln_rt_fail_oom();
}

int32_t __kmpc_global_thread_num(void *loc) {
  (void)loc;
  return member_id;
}

/* Static schedule: member i gets the i-th of `member_count` near-equal
 * contiguous chunks of [*lower, *upper] (inclusive, step `incr`). */
void __kmpc_for_static_init_8u(void *loc, int32_t gtid, int32_t schedule,
                               int32_t *last, uint64_t *lower, uint64_t *upper,
                               int64_t *stride, int64_t incr, int64_t chunk) {
  (void)loc;
  (void)schedule;
  (void)chunk;
  uint64_t lo = *lower, hi = *upper;
  uint64_t step = incr > 0 ? (uint64_t)incr : 1;
  uint64_t trip = hi >= lo ? (hi - lo) / step + 1 : 0;
  uint64_t n = member_count > 0 ? (uint64_t)member_count : 1;
  uint64_t id = gtid >= 0 ? (uint64_t)gtid : 0;
  uint64_t per = trip / n, extra = trip % n;
  uint64_t begin = id * per + (id < extra ? id : extra);
  uint64_t count = per + (id < extra ? 1 : 0);
  if (count == 0) {
    *lower = lo + trip * step;
    *upper = *lower - step; /* empty: upper < lower */
    if (last)
      *last = 0;
  } else {
    *lower = lo + begin * step;
    *upper = *lower + (count - 1) * step;
    if (last)
      *last = begin + count == trip;
  }
  if (stride)
    *stride = (int64_t)(trip * step);
}

void __kmpc_for_static_fini(void *loc, int32_t gtid) {
  (void)loc;
  (void)gtid;
}

void __kmpc_barrier(void *loc, int32_t gtid) {
  (void)loc;
  (void)gtid;
}

/* Runs fn(ctx) on this thread as a run of its own with one thread, from
 * inside a region member: regions it enters run inline, and running out of
 * memory ends only fn's run (kiln_rt_fail_oom's jump), not the member. */
void kiln_pool_solo(void (*fn)(void *), void *ctx) {
  jmp_buf *saved_jump = member_jump;
  int32_t saved_id = member_id, saved_count = member_count;
  bool saved_in = in_region;
  member_jump = NULL;
  member_id = 0;
  member_count = 1;
  in_region = true;
  fn(ctx);
  member_jump = saved_jump;
  member_id = saved_id;
  member_count = saved_count;
  in_region = saved_in;
}

/* ---- kiln_parallel_for: the runtime's own kernels on the same pool ----- */

static void range_microtask(int32_t *gtid, int32_t *bound, void *fn, void *ctx,
                            void *count) {
  (void)bound;
  int64_t n = *(int64_t *)count;
  int64_t members = member_count > 0 ? member_count : 1;
  int64_t id = *gtid;
  int64_t begin = n * id / members, end = n * (id + 1) / members;
  if (begin < end)
    ((kiln_range_fn)fn)(ctx, begin, end);
}

void kiln_parallel_for(int64_t n, kiln_range_fn fn, void *ctx) {
  if (n <= 0)
    return;
  if (in_region || pool_threads <= 1 || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  __kmpc_fork_call(NULL, 3, (microtask_fn)range_microtask, (void *)fn, ctx,
                   (void *)&n);
}
