/* Out of memory inside a parallel region (runtime.c's kiln_rt_fail_oom,
 * parallel.c's kiln_pool_member_fail): a pool member that runs out of
 * memory stops where it is, the other members finish, and the region fails
 * on the thread that started it. Here the region runs outside any kiln_run,
 * so that last step reports "out of memory outside a run" and aborts; the
 * child process's stderr and signal show which path was taken. Before,
 * the pool member itself aborted ("out of memory in a parallel region"),
 * with other members still running.
 *
 *   pool_oom_test   (links libkiln_runtime.a; prints `pool_oom: ok`) */

#include "runtime_internal.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The runtime's run entry points refer to the compiled model's; this test
 * has no model. */
void kiln_model_entry(void **inputs, void *ctx) {
  (void)inputs;
  (void)ctx;
}
const char *kiln_model_signature(void) { return ""; }

enum { N = 64 };
static atomic_int chunks_done, failures;

/* Every member but the first runs out of memory halfway through its
 * chunk; the first member finishes. */
static void work(void *ctx, int64_t begin, int64_t end) {
  (void)ctx;
  for (int64_t i = begin; i < end; ++i) {
    if (begin > 0 && i == (begin + end) / 2) {
      atomic_fetch_add(&failures, 1);
      kiln_rt_fail_oom();
      fprintf(stderr, "pool_oom: kiln_rt_fail_oom returned\n");
      _exit(3);
    }
  }
  atomic_fetch_add(&chunks_done, 1);
}

int main(void) {
  int pipefd[2];
  if (pipe(pipefd) != 0)
    return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 2);
    if (kiln_pool_start(4) < 2) {
      fprintf(stderr, "pool_oom: no pool threads\n");
      _exit(5);
    }
    kiln_parallel_for(N, work, NULL);
    fprintf(stderr, "pool_oom: the region returned (%d chunks done)\n",
            atomic_load(&chunks_done));
    _exit(4);
  }
  close(pipefd[1]);
  char msg[512] = {0};
  size_t got = 0;
  ssize_t r;
  while (got < sizeof msg - 1 &&
         (r = read(pipefd[0], msg + got, sizeof msg - 1 - got)) > 0)
    got += (size_t)r;
  int status = 0;
  waitpid(pid, &status, 0);
  int aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  printf("pool_oom: child %s; stderr: %s", aborted ? "aborted" : "did not abort",
         msg);
  if (!aborted || !strstr(msg, "kiln: out of memory outside a run"))
    return 1;
  printf("pool_oom: ok\n");
  return 0;
}
