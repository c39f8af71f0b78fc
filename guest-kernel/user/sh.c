/*
 * The shell: reads lines from the console (or runs `-c "script"`), splits them at `;` into
 * commands and at `|` into pipelines, and runs each program with fork + exec + wait. Builtins:
 * exit. A program that dies from a signal is reported.
 */
#include "ulib.h"

#define MAX_WORDS  16
#define MAX_STAGES 8

static int run_pipeline(char *line)
{
	char *stages[MAX_STAGES];
	int nst = 0, status = 0;
	int pids[MAX_STAGES];

	stages[nst++] = line;
	for (char *p = line; *p; p++)
		if (*p == '|' && nst < MAX_STAGES) {
			*p = '\0';
			stages[nst++] = p + 1;
		}
	int in_fd = 0;
	for (int s = 0; s < nst; s++) {
		char *argv[MAX_WORDS + 1];
		int argc = 0;
		for (char *p = stages[s]; *p;) {
			while (isspace(*p))
				*p++ = '\0';
			if (!*p)
				break;
			if (argc < MAX_WORDS)
				argv[argc++] = p;
			while (*p && !isspace(*p))
				p++;
		}
		argv[argc] = NULL;
		if (argc == 0) {
			pids[s] = -1;
			continue;
		}
		if (strcmp(argv[0], "exit") == 0)
			exit(argc > 1 ? atoi(argv[1]) : 0);
		int fds[2] = {-1, -1};
		if (s + 1 < nst && pipe(fds) < 0) {
			printf("sh: pipe failed\n");
			return 1;
		}
		int pid = fork();
		if (pid == 0) {
			if (in_fd != 0) {
				dup2(in_fd, 0);
				close(in_fd);
			}
			if (fds[1] >= 0) {
				dup2(fds[1], 1);
				close(fds[1]);
				close(fds[0]);
			}
			exec(argv[0], argv);
			dprintf(2, "sh: %s: not found\n", argv[0]);
			exit(127);
		}
		if (pid < 0)
			printf("sh: fork failed: %d\n", pid);
		pids[s] = pid;
		if (in_fd != 0)
			close(in_fd);
		if (fds[1] >= 0)
			close(fds[1]);
		in_fd = fds[0] >= 0 ? fds[0] : 0;
	}
	for (int s = 0; s < nst; s++) {
		if (pids[s] <= 0)
			continue;
		waitpid(pids[s], &status);
		if (WIFSIGNALED(status))
			printf("sh: pid %d killed by signal %d\n", pids[s], WTERMSIG(status));
	}
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int run_line(char *line)
{
	int rc = 0;
	char *cmd = line;
	for (char *p = line;; p++) {
		if (*p == ';' || *p == '\n' || *p == '\0') {
			char end = *p;
			*p = '\0';
			rc = run_pipeline(cmd);
			if (!end)
				break;
			cmd = p + 1;
		}
	}
	return rc;
}

int cmd_sh(int argc, char **argv)
{
	static char line[512];

	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		strlcpy(line, argv[2], sizeof(line));
		return run_line(line);
	}
	for (;;) {
		size_t n = 0;
		write(1, "$ ", 2);
		while (n < sizeof(line) - 1) {
			long r = read(0, line + n, sizeof(line) - 1 - n);
			if (r <= 0)
				return 0;
			n += (size_t)r;
			if (line[n - 1] == '\n')
				break;
		}
		line[n] = '\0';
		run_line(line);
	}
}
