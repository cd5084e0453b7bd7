/* Running the built `iotkit` tool from a test, its output captured. */
#include "cli_run.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

void cli_slurp(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}

pid_t cli_spawn(const char *program, const char *const *args, const char *out_path, const char *err_path) {
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(127);
    char *argv[40] = {(char *)program};
    for (int i = 0; args[i] && i < 38; i++) argv[i + 1] = (char *)args[i];
    execv(program, argv);
    _exit(127);
  }
  return pid;
}

void cli_run(const char *program, const char *dir, const char *const *args, cli_result_t *r) {
  char out_path[512], err_path[512];
  snprintf(out_path, sizeof out_path, "%s/.cli-stdout", dir);
  snprintf(err_path, sizeof err_path, "%s/.cli-stderr", dir);
  pid_t pid = cli_spawn(program, args, out_path, err_path);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cli_slurp(out_path, r->out, sizeof r->out);
  cli_slurp(err_path, r->err, sizeof r->err);
  unlink(out_path);
  unlink(err_path);
  r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
