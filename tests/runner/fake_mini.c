/*
 * fake_mini: a stand-in interpreter for script_test's self tests
 * (tests/scripts/runner_selftest/). It is called like mini, "fake_mini
 * [--flags] SCRIPT [args]", and carries out the script's "#!COMMAND ARG"
 * lines in order, ignoring every other line:
 *
 *   #!out TEXT       TEXT and a newline on stdout     #!err TEXT   same on stderr
 *   #!noeol TEXT     TEXT on stdout, no newline       #!bytes      bytes 0-255 on stdout
 *   #!floodout N     N numbered lines on stdout       #!flooderr N same on stderr
 *   #!argv           each argument (flags too) on its own line
 *   #!env NAME       the variable's value, or "(unset)"
 *   #!stdin          copies stdin to stdout           #!cwd        base name of the cwd
 *   #!closeout       closes stdout                    #!sleep SEC  sleeps (fractions ok)
 *   #!spawn-sleep SEC  starts a child that sleeps, holding stdout and stderr open
 *   #!exit N         exits with status N              #!segv       dies of SIGSEGV
 *   #!rlimit-as      the address-space limit (RLIMIT_AS) in KiB, or "unlimited"
 *
 * "#!runner", "#!reason" and "#!interpreter" lines are for check_selftest.cmake.
 * The script ending is exit status 0.
 */
#define _XOPEN_SOURCE 700

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void sleep_seconds(const char *arg)
{
    double sec = atof(arg);
    struct timespec ts = {(time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9)};
    fflush(NULL);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Returns 0 to go on, or 1 + the exit status to end with. */
static int run_command(const char *cmd, const char *arg, int argc, char **argv)
{
    if (strcmp(cmd, "out") == 0) {
        printf("%s\n", arg);
    } else if (strcmp(cmd, "err") == 0) {
        fprintf(stderr, "%s\n", arg);
    } else if (strcmp(cmd, "noeol") == 0) {
        fputs(arg, stdout);
    } else if (strcmp(cmd, "bytes") == 0) {
        for (int c = 0; c < 256; c++)
            putchar(c);
        putchar('\n');
    } else if (strcmp(cmd, "floodout") == 0 || strcmp(cmd, "flooderr") == 0) {
        FILE *f = cmd[5] == 'o' ? stdout : stderr;
        for (long i = 0, n = atol(arg); i < n; i++)
            fprintf(f, "%s line %ld\n", cmd + 5, i);
    } else if (strcmp(cmd, "argv") == 0) {
        for (int i = 1; i < argc; i++)
            printf("%s\n", argv[i]);
    } else if (strcmp(cmd, "env") == 0) {
        const char *value = getenv(arg);
        printf("%s\n", value ? value : "(unset)");
    } else if (strcmp(cmd, "stdin") == 0) {
        int c;
        while ((c = getchar()) != EOF)
            putchar(c);
    } else if (strcmp(cmd, "cwd") == 0) {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            return 1 + 2;
        printf("%s\n", strrchr(cwd, '/') + 1);
    } else if (strcmp(cmd, "closeout") == 0) {
        fflush(stdout);
        close(STDOUT_FILENO);
    } else if (strcmp(cmd, "sleep") == 0) {
        sleep_seconds(arg);
    } else if (strcmp(cmd, "spawn-sleep") == 0) {
        fflush(NULL);
        if (fork() == 0) {
            sleep_seconds(arg);
            _exit(0);
        }
    } else if (strcmp(cmd, "exit") == 0) {
        return 1 + atoi(arg);
    } else if (strcmp(cmd, "rlimit-as") == 0) {
        struct rlimit limit;
        if (getrlimit(RLIMIT_AS, &limit) != 0)
            return 1 + 2;
        if (limit.rlim_cur == RLIM_INFINITY)
            puts("unlimited");
        else
            printf("%llu\n", (unsigned long long)(limit.rlim_cur / 1024));
    } else if (strcmp(cmd, "segv") == 0) {
        fflush(NULL);
        signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would turn it into an exit */
        raise(SIGSEGV);
    } else if (strcmp(cmd, "runner") != 0 && strcmp(cmd, "reason") != 0
               && strcmp(cmd, "interpreter") != 0) {
        fprintf(stderr, "fake_mini: unknown command #!%s\n", cmd);
        return 1 + 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int script = 1;
    while (script < argc && argv[script][0] == '-')
        script++;
    FILE *f = script < argc ? fopen(argv[script], "r") : NULL;
    if (!f) {
        fprintf(stderr, "fake_mini: cannot open the script\n");
        return 2;
    }
    char line[4096];
    int end = 0;
    while (!end && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "#!", 2) != 0)
            continue;
        char *cmd = line + 2, *space = strchr(cmd, ' ');
        if (space)
            *space = '\0';
        end = run_command(cmd, space ? space + 1 : "", argc, argv);
    }
    fclose(f);
    return end ? end - 1 : 0;
}
