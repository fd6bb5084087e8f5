/*
 * meta.c: dir/meta.json, what a run was and where it ran (see res.h).
 *
 * Everything is gathered into one jansson object, in a fixed key order, then
 * written with pvt_res_write_atomic. Facts the machine does not offer (no
 * /proc/cpuinfo model name, no cgroup v2 cpu.max, no DMI) are written as
 * "unknown" or null, never left out, so readers can rely on the keys.
 */
#include "res.h"

#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "build_info.h"
#include "shared/core/place.h"
#include "shared/core/pvt.h"

/* The length of the well-formed UTF-8 sequence at p, or 0 if there is none. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned cp, min;
    size_t n;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    cp = p[0] & (0x7fu >> n);
    /* A NUL fails the continuation test, so this never reads past the end. */
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/*
 * A JSON string, or JSON null for NULL. jansson takes only UTF-8, so in a
 * value that is not (a hostname or an argument in another encoding) each byte
 * that is not part of a well-formed sequence is written as '?'.
 */
static json_t *jstr(const char *s)
{
    json_t *v;
    char *copy;

    if (!s)
        return json_null();
    v = json_string(s);
    if (v)
        return v;
    copy = strdup(s);
    if (!copy)
        return NULL;
    for (unsigned char *p = (unsigned char *)copy; *p;) {
        size_t n = utf8_len(p);
        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
    v = json_string(copy);
    free(copy);
    return v;
}

/* Set obj[key] = v, taking v. -ENOMEM if v is NULL (a failed allocation). */
static int set(json_t *obj, const char *key, json_t *v)
{
    if (!v)
        return -ENOMEM;
    if (json_object_set_new(obj, key, v) < 0)
        return -ENOMEM;
    return 0;
}

/* s with leading and trailing whitespace removed, in place. */
static char *trim(char *s)
{
    size_t len;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    len = strlen(s);
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

/*
 * The first len - 1 bytes of a small file, trimmed, as a JSON string; JSON
 * null when the file cannot be read or is empty.
 */
static json_t *file_string(const char *path)
{
    char buf[512], *s;
    size_t n;
    FILE *f = fopen(path, "re");

    if (!f)
        return json_null();
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    s = trim(buf);
    return *s ? jstr(s) : json_null();
}

/* The first "model name" in /proc/cpuinfo, or "unknown". */
static json_t *cpu_model(void)
{
    char *line = NULL;
    size_t cap = 0;
    json_t *v = NULL;
    FILE *f = fopen("/proc/cpuinfo", "re");

    if (!f)
        return jstr("unknown");
    while (!v && getline(&line, &cap, f) > 0) {
        char *colon;
        if (strncmp(line, "model name", 10) != 0 || !(colon = strchr(line, ':')))
            continue;
        v = jstr(trim(colon + 1));
    }
    free(line);
    fclose(f);
    return v ? v : jstr("unknown");
}

/* The CPUs this process may run on, as ranges; JSON null if it cannot tell
 * (pvt's plans hold cpu_set_t, so a mask beyond CPU_SETSIZE is such a case). */
static json_t *allowed_cpus(void)
{
    cpu_set_t set;
    char buf[4096];

    if (pvt_place_get_self(&set) < 0)
        return json_null();
    if ((size_t)pvt_cpuset_format(&set, buf, sizeof(buf)) >= sizeof(buf))
        return json_null();
    return jstr(buf);
}

/* "vendor product" from DMI, either alone if the other is missing, or null. */
static json_t *virtualization(void)
{
    json_t *vendor = file_string("/sys/class/dmi/id/sys_vendor");
    json_t *product = file_string("/sys/class/dmi/id/product_name");
    json_t *v;

    if (!vendor || !product) {
        v = NULL;
    } else if (json_is_string(vendor) && json_is_string(product)) {
        v = json_sprintf("%s %s", json_string_value(vendor), json_string_value(product));
    } else {
        v = json_is_string(vendor) ? vendor : product;
        json_incref(v);
    }
    json_decref(vendor);
    json_decref(product);
    return v;
}

static json_t *memory_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

    if (pages < 0 || page < 0)
        return json_null();
    return json_integer((json_int_t)pages * (json_int_t)page);
}

static json_t *host_json(void)
{
    struct utsname u;
    json_t *h = json_object();
    int ok = uname(&u) == 0;
    long online = sysconf(_SC_NPROCESSORS_ONLN);

    if (!h)
        return NULL;
    if (set(h, "hostname", jstr(ok ? u.nodename : NULL)) < 0 ||
        set(h, "kernel", jstr(ok ? u.release : NULL)) < 0 ||
        set(h, "kernel_version", jstr(ok ? u.version : NULL)) < 0 ||
        set(h, "machine", jstr(ok ? u.machine : NULL)) < 0 ||
        set(h, "cpu_model", cpu_model()) < 0 ||
        set(h, "online_cpus", online > 0 ? json_integer(online) : json_null()) < 0 ||
        set(h, "memory_bytes", memory_bytes()) < 0 || set(h, "allowed_cpus", allowed_cpus()) < 0 ||
        set(h, "cgroup_cpu_max", file_string("/sys/fs/cgroup/cpu.max")) < 0 ||
        set(h, "virtualization", virtualization()) < 0) {
        json_decref(h);
        return NULL;
    }
    return h;
}

static json_t *topology_json(const struct pvt_topo *topo)
{
    char small[256], *buf = small;
    json_t *t;
    int n;

    if (!topo)
        return json_null();
    n = pvt_topo_summary(topo, small, sizeof(small));
    if (n < 0) {
        small[0] = '\0';
    } else if ((size_t)n >= sizeof(small)) {
        buf = malloc((size_t)n + 1);
        if (!buf)
            return NULL;
        pvt_topo_summary(topo, buf, (size_t)n + 1);
    }
    t = json_object();
    if (t && (set(t, "summary", jstr(buf)) < 0 ||
              set(t, "synthetic", json_boolean(pvt_topo_is_synthetic(topo))) < 0)) {
        json_decref(t);
        t = NULL;
    }
    if (buf != small)
        free(buf);
    return t;
}

static json_t *build_json(void)
{
    json_t *b = json_object();

    if (b && (set(b, "compiler", jstr(PVT_COMPILER)) < 0 || set(b, "flags", jstr(PVT_CFLAGS)) < 0 ||
              set(b, "build_type", jstr(PVT_BUILD_TYPE)) < 0)) {
        json_decref(b);
        return NULL;
    }
    return b;
}

/* 1 if a shell would read s as one word unchanged. */
static int shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("@%+=:,./_-", c)))
            return 0;
    }
    return 1;
}

/*
 * argv as one line a shell would split back into the same words: an argument
 * with anything but [A-Za-z0-9@%+=:,./_-] in it goes in single quotes, with
 * each ' written '\''.
 */
static json_t *command_json(int argc, char *const *argv)
{
    size_t len = 1;
    char *buf, *p;
    json_t *v;

    for (int i = 0; i < argc; i++)
        len += 4 * strlen(argv[i]) + 3;
    buf = malloc(len);
    if (!buf)
        return NULL;
    p = buf;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i > 0)
            *p++ = ' ';
        if (shell_safe(a)) {
            p = stpcpy(p, a);
            continue;
        }
        *p++ = '\'';
        for (; *a; a++) {
            if (*a == '\'')
                p = stpcpy(p, "'\\''");
            else
                *p++ = *a;
        }
        *p++ = '\'';
    }
    *p = '\0';
    v = jstr(buf);
    free(buf);
    return v;
}

static json_t *argv_json(int argc, char *const *argv)
{
    json_t *a = json_array();

    for (int i = 0; a && i < argc; i++) {
        if (json_array_append_new(a, jstr(argv[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Now, as "2024-05-01T12:34:56Z". */
static json_t *start_time(void)
{
    char buf[32];
    struct tm tm;
    time_t now = time(NULL);

    if (!gmtime_r(&now, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return json_null();
    return jstr(buf);
}

int pvt_meta_write(const char *dir, const char *mode, int argc, char *const *argv,
                   const struct pvt_topo *topo, const char *extra_json)
{
    json_t *root = NULL, *extra = NULL;
    char *text = NULL, *nl;
    size_t len;
    int rc = -ENOMEM;

    if (!dir || argc < 0 || (argc > 0 && !argv))
        return -EINVAL;
    for (int i = 0; i < argc; i++)
        if (!argv[i])
            return -EINVAL;
    /* Judge the caller's JSON before anything else, so a bad one writes nothing. */
    if (extra_json) {
        extra = json_loads(extra_json, 0, NULL);
        if (!extra || !json_is_object(extra)) {
            rc = -EINVAL;
            goto fail;
        }
    }
    root = json_object();
    if (!root)
        goto fail;
    if (set(root, "schema", json_integer(PVT_RES_SCHEMA)) < 0 ||
        set(root, "tool", jstr("pvt")) < 0 || set(root, "version", jstr(PVT_VERSION)) < 0 ||
        set(root, "git_revision", jstr(PVT_GIT_REV)) < 0 || set(root, "mode", jstr(mode)) < 0 ||
        set(root, "argv", argv_json(argc, argv)) < 0 ||
        set(root, "command", command_json(argc, argv)) < 0 ||
        set(root, "start_time", start_time()) < 0 || set(root, "host", host_json()) < 0 ||
        set(root, "topology", topology_json(topo)) < 0 || set(root, "build", build_json()) < 0)
        goto fail;
    if (extra && json_object_update(root, extra) < 0)
        goto fail;
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        goto fail;
    /* jansson ends the text without a newline; a text file should have one. */
    len = strlen(text);
    nl = realloc(text, len + 2);
    if (!nl)
        goto fail;
    text = nl;
    memcpy(text + len, "\n", 2);
    rc = pvt_res_write_atomic(dir, "meta.json", text, len + 1);
    /* The success path shares the cleanup below. */
fail:
    free(text);
    json_decref(root);
    json_decref(extra);
    return rc;
}
