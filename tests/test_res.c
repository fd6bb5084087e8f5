/*
 * test_res: results directories, atomic writes, CSV bytes and meta.json.
 *
 * Each test gets a fresh mkdtemp directory, removed afterwards with all it
 * holds; the working directory is restored even when a test fails. The tests
 * run as root, where permission bits do not stop a write, so an unusable
 * location is made with a path through a regular file instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <regex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "build_info.h"
#include "shared/base/parse.h"
#include "shared/core/place.h"
#include "shared/core/pvt.h"
#include "bench/results/res.h"

struct fixture {
    char dir[64];
    int cwd_fd;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/pvt-test-res.XXXXXX");
    f->cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->cwd_fd < 0 || !mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = 0;

    if (fchdir(f->cwd_fd) < 0)
        rc = -1;
    close(f->cwd_fd);
    if (nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS) < 0)
        rc = -1;
    free(f);
    return rc;
}

/* dir/name into a static buffer (one at a time). */
static const char *join(const char *dir, const char *name)
{
    static char buf[PATH_MAX];

    assert_true((size_t)snprintf(buf, sizeof(buf), "%s/%s", dir, name) < sizeof(buf));
    return buf;
}

/* The whole file, NUL-terminated; *len gets its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "re");
    char *buf;
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    if (len)
        *len = (size_t)n;
    return buf;
}

static void touch(const char *path, const char *text)
{
    FILE *fp = fopen(path, "we");

    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static int is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* The names in dir (not . and ..), sorted and joined with '/', into buf. */
static const char *listing(const char *dir, char *buf, size_t len)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    size_t pos = 0;

    assert_true(n >= 0);
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *d = names[i]->d_name;
        if (strcmp(d, ".") != 0 && strcmp(d, "..") != 0)
            pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos ? "/" : "", d);
        assert_true(pos < len);
        free(names[i]);
    }
    free(names);
    return buf;
}

static void test_prepare_new_dir(void **state)
{
    struct fixture *f = *state;
    char want[PATH_MAX], path[PATH_MAX], ls[256];

    snprintf(want, sizeof(want), "%s/a/b/c", f->dir);
    assert_int_equal(pvt_res_prepare_dir(want, "tasks", path, sizeof(path)), 0);
    assert_string_equal(path, want);
    assert_true(is_dir(want));
    /* The writability probe is gone. */
    assert_string_equal(listing(want, ls, sizeof(ls)), "");
}

static void test_prepare_existing(void **state)
{
    struct fixture *f = *state;
    char dir[PATH_MAX], path[PATH_MAX], ls[256];

    /* An empty directory is used as it is. */
    snprintf(dir, sizeof(dir), "%s/empty", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(pvt_res_prepare_dir(dir, "tasks", path, sizeof(path)), 0);
    assert_string_equal(path, dir);
    assert_string_equal(listing(dir, ls, sizeof(ls)), "");

    /* A directory holding anything, even a dot file, is refused and left alone. */
    snprintf(dir, sizeof(dir), "%s/full", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    touch(join(dir, ".old"), "keep");
    assert_int_equal(pvt_res_prepare_dir(dir, "tasks", path, sizeof(path)), -EEXIST);
    assert_string_equal(listing(dir, ls, sizeof(ls)), ".old");
}

static void test_prepare_not_dir(void **state)
{
    struct fixture *f = *state;
    char file[PATH_MAX], sub[PATH_MAX], path[PATH_MAX];

    snprintf(file, sizeof(file), "%s/file", f->dir);
    touch(file, "x");
    assert_int_equal(pvt_res_prepare_dir(file, "tasks", path, sizeof(path)), -ENOTDIR);
    /* Under a regular file nothing can be made, even by root. */
    snprintf(sub, sizeof(sub), "%s/file/sub", f->dir);
    assert_int_equal(pvt_res_prepare_dir(sub, "tasks", path, sizeof(path)), -ENOTDIR);
    snprintf(sub, sizeof(sub), "%s/file/sub/deeper", f->dir);
    assert_int_equal(pvt_res_prepare_dir(sub, "tasks", path, sizeof(path)), -ENOTDIR);
    assert_false(is_dir(sub));
}

static void test_prepare_bad_args(void **state)
{
    struct fixture *f = *state;
    char dir[PATH_MAX], path[PATH_MAX], small[8];

    snprintf(dir, sizeof(dir), "%s/long-enough-name", f->dir);
    assert_int_equal(pvt_res_prepare_dir(dir, "tasks", small, sizeof(small)), -ENAMETOOLONG);
    assert_false(exists(dir));
    assert_int_equal(pvt_res_prepare_dir("", "tasks", path, sizeof(path)), -EINVAL);
    assert_int_equal(pvt_res_prepare_dir(dir, "tasks", NULL, 0), -EINVAL);

    assert_int_equal(chdir(f->dir), 0);
    assert_int_equal(pvt_res_prepare_dir(NULL, NULL, path, sizeof(path)), -EINVAL);
    assert_int_equal(pvt_res_prepare_dir(NULL, "", path, sizeof(path)), -EINVAL);
    assert_int_equal(pvt_res_prepare_dir(NULL, "a/b", path, sizeof(path)), -EINVAL);
    assert_int_equal(pvt_res_prepare_dir(NULL, "tasks", small, sizeof(small)), -ENAMETOOLONG);

    /* A regular file named "results" is in the way. */
    assert_int_equal(mkdir("sub", 0755), 0);
    assert_int_equal(chdir("sub"), 0);
    touch("results", "x");
    assert_int_equal(pvt_res_prepare_dir(NULL, "tasks", path, sizeof(path)), -ENOTDIR);
}

/* 1 if path is "results/YYYYmmdd-HHMMSS-tasks" with an optional "-K" suffix. */
static int default_name(const char *path)
{
    regex_t re;
    int rc;

    assert_int_equal(
        regcomp(&re, "^results/[0-9]{8}-[0-9]{6}-tasks(-[0-9]+)?$", REG_EXTENDED | REG_NOSUB), 0);
    rc = regexec(&re, path, 0, NULL, 0) == 0;
    regfree(&re);
    return rc;
}

static void test_prepare_default(void **state)
{
    struct fixture *f = *state;
    char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX], taken[8][64], stamp[32];
    time_t t0;
    struct tm tm;
    int i, found = 0;

    assert_int_equal(chdir(f->dir), 0);
    assert_int_equal(pvt_res_prepare_dir(NULL, "tasks", p1, sizeof(p1)), 0);
    assert_true(default_name(p1));
    assert_true(is_dir(p1));
    assert_int_equal(pvt_res_prepare_dir(NULL, "tasks", p2, sizeof(p2)), 0);
    assert_true(default_name(p2));
    assert_true(is_dir(p2));
    assert_string_not_equal(p1, p2);

    /*
     * In a fresh directory, take the names of the next few seconds first: the
     * call must then pick one of them with "-2" (only a stall of 8 s between
     * here and the call would make this test fail).
     */
    assert_int_equal(mkdir("again", 0755), 0);
    assert_int_equal(chdir("again"), 0);
    assert_int_equal(mkdir("results", 0755), 0);
    t0 = time(NULL);
    for (i = 0; i < 8; i++) {
        time_t t = t0 + i;
        assert_non_null(localtime_r(&t, &tm));
        assert_true(strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) > 0);
        snprintf(taken[i], sizeof(taken[i]), "results/%s-tasks", stamp);
        if (!exists(taken[i]))
            assert_int_equal(mkdir(taken[i], 0755), 0);
    }
    assert_int_equal(pvt_res_prepare_dir(NULL, "tasks", p3, sizeof(p3)), 0);
    for (i = 0; i < 8; i++) {
        char want[sizeof(taken) + 3];
        snprintf(want, sizeof(want), "%s-2", taken[i]);
        if (strcmp(p3, want) == 0)
            found = 1;
    }
    if (!found)
        fail_msg("third name %s is not a taken name with -2", p3);
}

static void test_write_atomic(void **state)
{
    struct fixture *f = *state;
    char ls[256], *text;
    struct stat st;
    mode_t mask;
    size_t len;

    assert_int_equal(pvt_res_write_atomic(f->dir, "out.txt", "hello\n", 6), 0);
    text = slurp(join(f->dir, "out.txt"), &len);
    assert_int_equal(len, 6);
    assert_memory_equal(text, "hello\n", 6);
    free(text);

    /* Rewriting replaces the whole file, a shorter one included. */
    assert_int_equal(pvt_res_write_atomic(f->dir, "out.txt", "bye", 3), 0);
    text = slurp(join(f->dir, "out.txt"), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(text, "bye", 3);
    free(text);

    /* Binary data and an empty file. */
    assert_int_equal(pvt_res_write_atomic(f->dir, "bin", "a\0b", 3), 0);
    text = slurp(join(f->dir, "bin"), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(text, "a\0b", 3);
    free(text);
    assert_int_equal(pvt_res_write_atomic(f->dir, "empty", "", 0), 0);
    text = slurp(join(f->dir, "empty"), &len);
    assert_int_equal(len, 0);
    free(text);

    /* No temporary file left behind, and the mode is 0644 less the umask. */
    assert_string_equal(listing(f->dir, ls, sizeof(ls)), "bin/empty/out.txt");
    mask = umask(022);
    umask(mask);
    assert_int_equal(stat(join(f->dir, "out.txt"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644 & ~mask);
}

static void test_write_atomic_fails(void **state)
{
    struct fixture *f = *state;
    char ls[256], missing[PATH_MAX];

    snprintf(missing, sizeof(missing), "%s/missing", f->dir);
    assert_int_equal(pvt_res_write_atomic(missing, "x", "1", 1), -ENOENT);
    /* The rename fails over a directory: the temporary must go too. */
    assert_int_equal(mkdir(join(f->dir, "taken"), 0755), 0);
    assert_int_equal(pvt_res_write_atomic(f->dir, "taken", "1", 1), -EISDIR);
    assert_string_equal(listing(f->dir, ls, sizeof(ls)), "taken");

    assert_int_equal(pvt_res_write_atomic(f->dir, "a/b", "1", 1), -EINVAL);
    assert_int_equal(pvt_res_write_atomic(f->dir, "", "1", 1), -EINVAL);
    assert_int_equal(pvt_res_write_atomic(f->dir, NULL, "1", 1), -EINVAL);
    assert_int_equal(pvt_res_write_atomic(NULL, "x", "1", 1), -EINVAL);
    assert_string_equal(listing(f->dir, ls, sizeof(ls)), "taken");
}

static void test_csv(void **state)
{
    static const char *const cols[] = {"a", "b,c", "d\"e"};
    static const char *const row1[] = {"1", NULL, "x\ny"};
    static const char *const row2[] = {"", "p\rq", "plain text"};
    static const char *const row3[] = {"\"", ",", "\"\"x\""};
    static const char want[] = "a,\"b,c\",\"d\"\"e\"\n"
                               "1,,\"x\ny\"\n"
                               ",\"p\rq\",plain text\n"
                               "\"\"\"\",\",\",\"\"\"\"\"x\"\"\"\n";
    struct fixture *f = *state;
    struct pvt_csv *csv = NULL;
    size_t len;
    char *text;

    assert_int_equal(pvt_csv_new(cols, 3, &csv), 0);
    assert_int_equal(pvt_csv_rows(csv), 0);
    /* With no rows, only the header. */
    assert_int_equal(pvt_csv_write(csv, f->dir, "h.csv"), 0);
    text = slurp(join(f->dir, "h.csv"), &len);
    assert_string_equal(text, "a,\"b,c\",\"d\"\"e\"\n");
    free(text);

    assert_int_equal(pvt_csv_add_row(csv, row1), 0);
    assert_int_equal(pvt_csv_add_row(csv, row2), 0);
    assert_int_equal(pvt_csv_add_row(csv, row3), 0);
    assert_int_equal(pvt_csv_rows(csv), 3);
    assert_int_equal(pvt_csv_write(csv, f->dir, "t.csv"), 0);
    text = slurp(join(f->dir, "t.csv"), &len);
    assert_int_equal(len, sizeof(want) - 1);
    assert_memory_equal(text, want, len);
    free(text);

    assert_int_equal(pvt_csv_add_row(csv, NULL), -EINVAL);
    assert_int_equal(pvt_csv_add_row(NULL, row1), -EINVAL);
    assert_int_equal(pvt_csv_rows(csv), 3);
    pvt_csv_free(csv);
    pvt_csv_free(NULL);
}

static void test_csv_many_rows(void **state)
{
    static const char *const cols[] = {"i", "sq"};
    struct fixture *f = *state;
    struct pvt_csv *csv = NULL;
    char a[16], b[16], *text, *line;
    size_t len;
    int i;

    assert_int_equal(pvt_csv_new(cols, 2, &csv), 0);
    for (i = 0; i < 1000; i++) {
        const char *row[] = {a, b};
        snprintf(a, sizeof(a), "%d", i);
        snprintf(b, sizeof(b), "%d", i * i);
        assert_int_equal(pvt_csv_add_row(csv, row), 0);
    }
    assert_int_equal(pvt_csv_rows(csv), 1000);
    assert_int_equal(pvt_csv_write(csv, f->dir, "results.csv"), 0);
    pvt_csv_free(csv);

    /* Values were copied: every row reads back as it was added. */
    text = slurp(join(f->dir, "results.csv"), &len);
    line = strtok(text, "\n");
    assert_string_equal(line, "i,sq");
    for (i = 0; i < 1000; i++) {
        char want[32];
        line = strtok(NULL, "\n");
        assert_non_null(line);
        snprintf(want, sizeof(want), "%d,%d", i, i * i);
        assert_string_equal(line, want);
    }
    assert_null(strtok(NULL, "\n"));
    free(text);
}

static void test_csv_bad_args(void **state)
{
    static const char *const cols[] = {"a", NULL};
    struct pvt_csv *csv = NULL;

    (void)state;
    assert_int_equal(pvt_csv_new(cols, 0, &csv), -EINVAL);
    assert_int_equal(pvt_csv_new(cols, 2, &csv), -EINVAL);
    assert_int_equal(pvt_csv_new(NULL, 1, &csv), -EINVAL);
    assert_int_equal(pvt_csv_new(cols, 1, NULL), -EINVAL);
    assert_null(csv);
    assert_int_equal(pvt_csv_new(cols, 1, &csv), 0);
    assert_int_equal(pvt_csv_write(csv, "/nonexistent-pvt-dir", "x.csv"), -ENOENT);
    assert_int_equal(pvt_csv_write(NULL, "/tmp", "x.csv"), -EINVAL);
    pvt_csv_free(csv);
}

static json_t *load_meta(const char *dir)
{
    json_error_t err;
    json_t *root = json_load_file(join(dir, "meta.json"), 0, &err);

    if (!root)
        fail_msg("meta.json: %s at line %d", err.text, err.line);
    assert_true(json_is_object(root));
    return root;
}

static const char *get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_string(v))
        fail_msg("\"%s\" is not a string", key);
    return json_string_value(v);
}

static json_int_t get_int(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v))
        fail_msg("\"%s\" is not an integer", key);
    return json_integer_value(v);
}

/* The object's keys are exactly want[0..n), in that order. */
static void check_keys(json_t *obj, const char *const *want, size_t n)
{
    void *it = json_object_iter(obj);

    for (size_t i = 0; i < n; i++, it = json_object_iter_next(obj, it)) {
        if (!it)
            fail_msg("key %zu: missing, want \"%s\"", i, want[i]);
        if (strcmp(json_object_iter_key(it), want[i]) != 0)
            fail_msg("key %zu: \"%s\", want \"%s\"", i, json_object_iter_key(it), want[i]);
    }
    if (it)
        fail_msg("extra key \"%s\"", json_object_iter_key(it));
}

/* A small file's contents with surrounding whitespace removed, or NULL. */
static char *read_trimmed(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "re");
    size_t n, start = 0;

    if (!fp)
        return NULL;
    n = fread(buf, 1, len - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
        buf[--n] = '\0';
    while (buf[start] && strchr(" \t\r\n", buf[start]))
        start++;
    return buf[start] ? buf + start : NULL;
}

/* allowed_cpus names exactly the CPUs sched_getaffinity gives. */
static void check_allowed_cpus(const char *s)
{
    static long cpus[CPU_SETSIZE];
    cpu_set_t set, got;
    int n;

    assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
    n = pvt_parse_int_list(s, 0, CPU_SETSIZE - 1, cpus, CPU_SETSIZE);
    if (n < 1)
        fail_msg("allowed_cpus \"%s\" does not parse as a CPU list (%d)", s, n);
    CPU_ZERO(&got);
    for (int i = 0; i < n; i++)
        CPU_SET(cpus[i], &got);
    assert_int_equal(CPU_COUNT(&got), n); /* no CPU twice */
    assert_true(CPU_EQUAL(&got, &set));
}

static void check_host(json_t *host)
{
    static const char *const keys[] = {
        "hostname",    "kernel",       "kernel_version", "machine",        "cpu_model",
        "online_cpus", "memory_bytes", "allowed_cpus",   "cgroup_cpu_max", "virtualization",
    };
    char buf[512], vendor[512], *want;
    struct utsname u;
    json_t *v;

    assert_true(json_is_object(host));
    check_keys(host, keys, sizeof(keys) / sizeof(keys[0]));
    assert_int_equal(uname(&u), 0);
    assert_string_equal(get_str(host, "hostname"), u.nodename);
    assert_string_equal(get_str(host, "kernel"), u.release);
    assert_string_equal(get_str(host, "kernel_version"), u.version);
    assert_string_equal(get_str(host, "machine"), u.machine);
    assert_int_equal(get_int(host, "online_cpus"), sysconf(_SC_NPROCESSORS_ONLN));
    assert_int_equal(get_int(host, "memory_bytes"),
                     (json_int_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE));
    check_allowed_cpus(get_str(host, "allowed_cpus"));

    /* cpu_model: from the first "model name" line, or "unknown" without one. */
    {
        char *line = NULL, *found = NULL;
        size_t cap = 0;
        FILE *fp = fopen("/proc/cpuinfo", "re");
        const char *model = get_str(host, "cpu_model");
        assert_non_null(fp);
        while (!found && getline(&line, &cap, fp) > 0)
            if (strncmp(line, "model name", 10) == 0)
                found = strchr(line, ':');
        fclose(fp);
        if (found) {
            assert_true(model[0] != '\0');
            assert_non_null(strstr(found, model));
        } else {
            assert_string_equal(model, "unknown");
        }
        free(line);
    }

    v = json_object_get(host, "cgroup_cpu_max");
    want = read_trimmed("/sys/fs/cgroup/cpu.max", buf, sizeof(buf));
    if (want)
        assert_string_equal(json_string_value(v), want);
    else
        assert_true(json_is_null(v));

    v = json_object_get(host, "virtualization");
    want = read_trimmed("/sys/class/dmi/id/sys_vendor", vendor, sizeof(vendor));
    if (!want)
        want = read_trimmed("/sys/class/dmi/id/product_name", vendor, sizeof(vendor));
    if (want) {
        assert_true(json_is_string(v));
        assert_memory_equal(json_string_value(v), want, strlen(want));
    } else {
        assert_true(json_is_null(v));
    }
}

static const char *const top_keys[] = {
    "schema",  "tool",       "version", "git_revision", "mode",  "argv",
    "command", "start_time", "host",    "topology",     "build",
};
#define NTOP (sizeof(top_keys) / sizeof(top_keys[0]))

static void test_meta(void **state)
{
    static char *const argv[] = {"pvt", "tasks", "--workers", "1-4",     "--name",
                                 "a b", "it's",  "",          "x=$HOME", "a/b.c:d@e%f+g=h,i_j-k"};
    const int argc = sizeof(argv) / sizeof(argv[0]);
    struct fixture *f = *state;
    json_t *root, *a, *build;
    time_t before, after, t;
    struct tm tm;
    char *text, *end;
    size_t len;
    regex_t re;

    before = time(NULL);
    assert_int_equal(pvt_meta_write(f->dir, "tasks", argc, argv, NULL, NULL), 0);
    after = time(NULL);

    /* Two-space indent, keys in order, one trailing newline. */
    text = slurp(join(f->dir, "meta.json"), &len);
    assert_memory_equal(text, "{\n  \"schema\": 1,\n  \"tool\": \"pvt\",\n", 33);
    assert_string_equal(text + len - 2, "}\n");
    free(text);

    root = load_meta(f->dir);
    check_keys(root, top_keys, NTOP);
    assert_int_equal(get_int(root, "schema"), PVT_RES_SCHEMA);
    assert_string_equal(get_str(root, "tool"), "pvt");
    assert_string_equal(get_str(root, "version"), PVT_VERSION);
    assert_string_equal(get_str(root, "git_revision"), PVT_GIT_REV);
    assert_string_equal(get_str(root, "mode"), "tasks");

    a = json_object_get(root, "argv");
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), argc);
    for (int i = 0; i < argc; i++)
        assert_string_equal(json_string_value(json_array_get(a, (size_t)i)), argv[i]);
    assert_string_equal(get_str(root, "command"),
                        "pvt tasks --workers 1-4 --name 'a b' 'it'\\''s' '' 'x=$HOME' "
                        "a/b.c:d@e%f+g=h,i_j-k");

    /* start_time: UTC with Z, the second the call ran in. */
    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, get_str(root, "start_time"), 0, NULL, 0), 0);
    regfree(&re);
    memset(&tm, 0, sizeof(tm));
    end = strptime(get_str(root, "start_time"), "%Y-%m-%dT%H:%M:%SZ", &tm);
    assert_non_null(end);
    assert_int_equal(*end, '\0');
    t = timegm(&tm);
    assert_true(t >= before && t <= after);

    check_host(json_object_get(root, "host"));
    assert_true(json_is_null(json_object_get(root, "topology")));

    build = json_object_get(root, "build");
    assert_true(json_is_object(build));
    assert_string_equal(get_str(build, "compiler"), PVT_COMPILER);
    assert_string_equal(get_str(build, "flags"), PVT_CFLAGS);
    assert_string_equal(get_str(build, "build_type"), PVT_BUILD_TYPE);
    json_decref(root);
}

static void test_meta_topology(void **state)
{
    struct fixture *f = *state;
    struct pvt_topo *topo = NULL;
    char summary[256];
    json_t *root, *t;
    char *const argv[] = {"pvt", "plan"};

    assert_int_equal(pvt_topo_synthetic("pack:2 core:4 pu:2", &topo), 0);
    assert_true(pvt_topo_summary(topo, summary, sizeof(summary)) > 0);
    assert_int_equal(pvt_meta_write(f->dir, "plan", 2, argv, topo, NULL), 0);
    pvt_topo_free(topo);

    root = load_meta(f->dir);
    t = json_object_get(root, "topology");
    assert_true(json_is_object(t));
    assert_string_equal(get_str(t, "summary"), summary);
    assert_true(json_is_true(json_object_get(t, "synthetic")));
    json_decref(root);
}

static void test_meta_extra(void **state)
{
    static const char *const keys[] = {
        "schema",     "tool", "version",  "git_revision", "mode",    "argv",   "command",
        "start_time", "host", "topology", "build",        "workers", "params",
    };
    struct fixture *f = *state;
    char *const argv[] = {"pvt", "tasks"};
    json_t *root, *p;

    assert_int_equal(
        pvt_meta_write(f->dir, "tasks", 2, argv, NULL,
                       "{\"workers\": 4, \"params\": {\"jobs\": [1, 2], \"x\": null}}"),
        0);
    root = load_meta(f->dir);
    check_keys(root, keys, sizeof(keys) / sizeof(keys[0]));
    assert_int_equal(get_int(root, "workers"), 4);
    p = json_object_get(root, "params");
    assert_true(json_is_object(p));
    assert_int_equal(json_array_size(json_object_get(p, "jobs")), 2);
    assert_true(json_is_null(json_object_get(p, "x")));
    json_decref(root);

    /* An empty object adds nothing. */
    assert_int_equal(pvt_meta_write(f->dir, "tasks", 2, argv, NULL, "{}"), 0);
    root = load_meta(f->dir);
    check_keys(root, top_keys, NTOP);
    json_decref(root);
}

static void test_meta_bad(void **state)
{
    static const char *const bad[] = {
        "", "not json", "[1, 2]", "42", "\"str\"", "null", "{\"a\":", "{} {}", "{\"a\": 1,}",
    };
    struct fixture *f = *state;
    char *const argv[] = {"pvt", NULL};
    char ls[256], missing[PATH_MAX];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = pvt_meta_write(f->dir, "tasks", 1, argv, NULL, bad[i]);
        if (rc != -EINVAL)
            fail_msg("extra_json '%s': %d, want -EINVAL", bad[i], rc);
    }
    /* Nothing written, not even a temporary. */
    assert_string_equal(listing(f->dir, ls, sizeof(ls)), "");

    assert_int_equal(pvt_meta_write(NULL, "tasks", 1, argv, NULL, NULL), -EINVAL);
    assert_int_equal(pvt_meta_write(f->dir, "tasks", -1, argv, NULL, NULL), -EINVAL);
    assert_int_equal(pvt_meta_write(f->dir, "tasks", 2, argv, NULL, NULL), -EINVAL);
    assert_int_equal(pvt_meta_write(f->dir, "tasks", 1, NULL, NULL, NULL), -EINVAL);
    snprintf(missing, sizeof(missing), "%s/missing", f->dir);
    assert_int_equal(pvt_meta_write(missing, "tasks", 1, argv, NULL, NULL), -ENOENT);
    assert_string_equal(listing(f->dir, ls, sizeof(ls)), "");
}

static void test_meta_not_utf8(void **state)
{
    struct fixture *f = *state;
    /* Well-formed, a stray byte, a surrogate, an overlong '/', a cut sequence. */
    char *const argv[] = {"pvt", "caf\xc3\xa9", "\xff", "\xed\xa0\x80", "\xc0\xaf", "\xe2\x82"};
    json_t *root, *a;

    assert_int_equal(pvt_meta_write(f->dir, "tasks", 6, argv, NULL, NULL), 0);
    root = load_meta(f->dir);
    a = json_object_get(root, "argv");
    assert_string_equal(json_string_value(json_array_get(a, 1)), "caf\xc3\xa9");
    assert_string_equal(json_string_value(json_array_get(a, 2)), "?");
    assert_string_equal(json_string_value(json_array_get(a, 3)), "???");
    assert_string_equal(json_string_value(json_array_get(a, 4)), "??");
    assert_string_equal(json_string_value(json_array_get(a, 5)), "??");
    assert_string_equal(get_str(root, "command"), "pvt 'caf\xc3\xa9' '?' '\?\?\?' '\?\?' '\?\?'");
    json_decref(root);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_prepare_new_dir),
        T(test_prepare_existing),
        T(test_prepare_not_dir),
        T(test_prepare_bad_args),
        T(test_prepare_default),
        T(test_write_atomic),
        T(test_write_atomic_fails),
        T(test_csv),
        T(test_csv_many_rows),
        T(test_csv_bad_args),
        T(test_meta),
        T(test_meta_topology),
        T(test_meta_extra),
        T(test_meta_bad),
        T(test_meta_not_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
