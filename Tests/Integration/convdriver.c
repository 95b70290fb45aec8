/*
 * convdriver: one PAM transaction through real libpam with a scripted conversation, for
 * answers a Python (ctypes) conversation cannot hand over cheaply or at all: a 1 MiB
 * answer, a NULL resp, a conversation that fails.
 *
 *   convdriver [options] SERVICE USER CONFDIR [ENTRY...]
 *
 * pam_start_confdir(SERVICE, USER, conv, CONFDIR) -> pam_authenticate -> pam_setcred
 * (PAM_ESTABLISH_CRED, after a successful pam_authenticate, as login does) -> pam_end.
 * USER "-" starts with no user (libpam then asks through the conversation).
 *
 * Each prompt (PAM_PROMPT_ECHO_OFF / ECHO_ON) takes the next ENTRY, in order, unless a
 * --when rule matches it first. An ENTRY is one of:
 *   lit:TEXT      the answer TEXT (lit: alone is the empty answer)
 *   big:A         1,048,576 bytes of 'A'
 *   big:digits    1,048,576 bytes of "0123456789" repeated
 *   big:N:C       N bytes of the character C (N at most 64 MiB)
 *   null          a pam_response whose resp is NULL
 *   converr       the conversation returns PAM_CONV_ERR
 * A prompt with no entry left fails the conversation (PAM_CONV_ERR), as an application
 * whose user walked away would.
 *
 * Options:
 *   --when PREFIX ENTRY   every prompt whose text starts with PREFIX gets ENTRY (rules are
 *                         not used up; the first matching rule wins)
 *   --stdin               also read entries from stdin, one a line; a line
 *                         "when<TAB>PREFIX<TAB>ENTRY" is a rule
 *   --always-setcred      call pam_setcred even when pam_authenticate failed
 *   --silent              PAM_SILENT on both calls
 *   --rhost HOST, --tty TTY   set PAM_RHOST / PAM_TTY (PAM_TTY defaults to pts/0)
 *   --max-prompts N       after N prompts every prompt fails the conversation (default 64:
 *                         a module that keeps asking cannot hang the test)
 *
 * Output, one line each, on stdout (message texts escaped: \\, \n, \t, \xHH):
 *   msg echo_off|echo_on|error|info|style=N TEXT
 *   answer KIND LENGTH        (KIND: lit, big, null, converr, exhausted; never the text)
 *   authenticate RC NAME
 *   setcred RC NAME
 *   end RC
 * Exit status: 0 when pam_authenticate returned PAM_SUCCESS, 1 when it did not, 2 on a
 * usage error or when pam_start_confdir failed.
 */
#define _GNU_SOURCE
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { LIT, BIG, NULLRESP, CONVERR };

struct entry {
    enum kind kind;
    char *text;      /* LIT: the answer */
    size_t length;   /* BIG: the answer's length */
    char fill;       /* BIG: 'A', a character, or 0 for digits */
};

struct rule {
    char *prefix;
    struct entry entry;
};

static struct entry *entries;
static size_t n_entries, cap_entries, next_entry;
static struct rule *rules;
static size_t n_rules, cap_rules;
static unsigned long prompts, max_prompts = 64;

static void die(const char *what) {
    fprintf(stderr, "convdriver: %s\n", what);
    exit(2);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return p;
    *cap = *cap ? *cap * 2 : 8;
    if (*cap < need) *cap = need;
    p = realloc(p, *cap * size);
    if (!p) die("out of memory");
    return p;
}

static struct entry parse_entry(const char *spec) {
    struct entry e = {0};
    if (strncmp(spec, "lit:", 4) == 0) {
        e.kind = LIT;
        e.text = strdup(spec + 4);
        if (!e.text) die("out of memory");
    } else if (strcmp(spec, "big:A") == 0) {
        e.kind = BIG; e.length = 1 << 20; e.fill = 'A';
    } else if (strcmp(spec, "big:digits") == 0) {
        e.kind = BIG; e.length = 1 << 20; e.fill = 0;
    } else if (strncmp(spec, "big:", 4) == 0) {
        char *end;
        unsigned long n = strtoul(spec + 4, &end, 10);
        if (end == spec + 4 || *end != ':' || end[1] == 0 || end[2] != 0 || n > (64ul << 20))
            die("bad entry: big:N:C wants a length up to 64 MiB and one character");
        e.kind = BIG; e.length = n; e.fill = end[1];
    } else if (strcmp(spec, "null") == 0) {
        e.kind = NULLRESP;
    } else if (strcmp(spec, "converr") == 0) {
        e.kind = CONVERR;
    } else {
        fprintf(stderr, "convdriver: bad entry \"%s\" (lit:TEXT, big:A, big:digits, big:N:C, null, converr)\n", spec);
        exit(2);
    }
    return e;
}

static void add_entry(const char *spec) {
    entries = grow(entries, &cap_entries, n_entries + 1, sizeof *entries);
    entries[n_entries++] = parse_entry(spec);
}

static void add_rule(const char *prefix, const char *spec) {
    rules = grow(rules, &cap_rules, n_rules + 1, sizeof *rules);
    rules[n_rules].prefix = strdup(prefix);
    if (!rules[n_rules].prefix) die("out of memory");
    rules[n_rules].entry = parse_entry(spec);
    n_rules++;
}

static void read_stdin_script(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
        if (strncmp(line, "when\t", 5) == 0) {
            char *tab = strchr(line + 5, '\t');
            if (!tab) die("bad stdin rule: when<TAB>PREFIX<TAB>ENTRY");
            *tab = 0;
            add_rule(line + 5, tab + 1);
        } else {
            add_entry(line);
        }
    }
    free(line);
}

static void print_escaped(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\') fputs("\\\\", stdout);
        else if (*p == '\n') fputs("\\n", stdout);
        else if (*p == '\t') fputs("\\t", stdout);
        else if (*p < 0x20 || *p == 0x7f) printf("\\x%02x", *p);
        else putchar(*p);
    }
}

/* The answer for one prompt as a malloc'd string; NULL with *rc set otherwise. */
static char *answer_for(const char *prompt, int *rc, int *give_null) {
    const struct entry *e = NULL;
    *rc = PAM_SUCCESS;
    *give_null = 0;
    if (++prompts > max_prompts) {
        printf("answer exhausted 0\n");
        *rc = PAM_CONV_ERR;
        return NULL;
    }
    for (size_t i = 0; i < n_rules && !e; i++)
        if (strncmp(prompt, rules[i].prefix, strlen(rules[i].prefix)) == 0) e = &rules[i].entry;
    if (!e && next_entry < n_entries) e = &entries[next_entry++];
    if (!e) {
        printf("answer exhausted 0\n");
        *rc = PAM_CONV_ERR;
        return NULL;
    }
    switch (e->kind) {
    case LIT: {
        char *a = strdup(e->text);
        if (!a) die("out of memory");
        printf("answer lit %zu\n", strlen(a));
        return a;
    }
    case BIG: {
        char *a = malloc(e->length + 1);
        if (!a) die("out of memory");
        for (size_t i = 0; i < e->length; i++) a[i] = e->fill ? e->fill : (char)('0' + i % 10);
        a[e->length] = 0;
        printf("answer big %zu\n", e->length);
        return a;
    }
    case NULLRESP:
        printf("answer null 0\n");
        *give_null = 1;
        return NULL;
    case CONVERR:
        printf("answer converr 0\n");
        *rc = PAM_CONV_ERR;
        return NULL;
    }
    return NULL;
}

static int conversation(int n, const struct pam_message **msgs, struct pam_response **resp, void *appdata) {
    (void)appdata;
    if (n <= 0 || n > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
    struct pam_response *replies = calloc((size_t)n, sizeof *replies);
    if (!replies) return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const struct pam_message *m = msgs[i];
        const char *text = m->msg ? m->msg : "";
        switch (m->msg_style) {
        case PAM_PROMPT_ECHO_OFF: fputs("msg echo_off ", stdout); break;
        case PAM_PROMPT_ECHO_ON: fputs("msg echo_on ", stdout); break;
        case PAM_ERROR_MSG: fputs("msg error ", stdout); break;
        case PAM_TEXT_INFO: fputs("msg info ", stdout); break;
        default: printf("msg style=%d ", m->msg_style); break;
        }
        print_escaped(text);
        putchar('\n');
        if (m->msg_style == PAM_PROMPT_ECHO_OFF || m->msg_style == PAM_PROMPT_ECHO_ON) {
            int rc, give_null;
            char *a = answer_for(text, &rc, &give_null);
            if (rc != PAM_SUCCESS) {
                for (int j = 0; j < i; j++) free(replies[j].resp);
                free(replies);
                fflush(stdout);
                return rc;
            }
            replies[i].resp = give_null ? NULL : a;
        } else if (m->msg_style != PAM_ERROR_MSG && m->msg_style != PAM_TEXT_INFO) {
            for (int j = 0; j < i; j++) free(replies[j].resp);
            free(replies);
            fflush(stdout);
            return PAM_CONV_ERR;
        }
    }
    *resp = replies;
    fflush(stdout);
    return PAM_SUCCESS;
}

static void usage(void) {
    fputs("usage: convdriver [--when PREFIX ENTRY]... [--stdin] [--always-setcred] [--silent] [--rhost HOST]\n"
          "                  [--tty TTY] [--max-prompts N] SERVICE USER CONFDIR [ENTRY...]\n", stderr);
    exit(2);
}

int main(int argc, char **argv) {
    int i = 1, from_stdin = 0, always_setcred = 0, flags = 0;
    const char *rhost = NULL, *tty = "pts/0";
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--") == 0) { i++; break; }
        else if (strcmp(o, "--when") == 0 && i + 2 < argc) { add_rule(argv[i + 1], argv[i + 2]); i += 2; }
        else if (strcmp(o, "--stdin") == 0) from_stdin = 1;
        else if (strcmp(o, "--always-setcred") == 0) always_setcred = 1;
        else if (strcmp(o, "--silent") == 0) flags |= PAM_SILENT;
        else if (strcmp(o, "--rhost") == 0 && i + 1 < argc) rhost = argv[++i];
        else if (strcmp(o, "--tty") == 0 && i + 1 < argc) tty = argv[++i];
        else if (strcmp(o, "--max-prompts") == 0 && i + 1 < argc) max_prompts = strtoul(argv[++i], NULL, 10);
        else usage();
    }
    if (argc - i < 3) usage();
    const char *service = argv[i], *user = argv[i + 1], *confdir = argv[i + 2];
    for (i += 3; i < argc; i++) add_entry(argv[i]);
    if (from_stdin) read_stdin_script();
    if (strcmp(user, "-") == 0) user = NULL;

    struct pam_conv conv = { conversation, NULL };
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(service, user, &conv, confdir, &pamh);
    if (rc != PAM_SUCCESS) {
        printf("start %d %s\n", rc, pam_strerror(pamh, rc));
        return 2;
    }
    if (rhost) pam_set_item(pamh, PAM_RHOST, rhost);
    if (tty) pam_set_item(pamh, PAM_TTY, tty);

    int auth = pam_authenticate(pamh, flags);
    printf("authenticate %d %s\n", auth, pam_strerror(pamh, auth));
    fflush(stdout);
    if (auth == PAM_SUCCESS || always_setcred) {
        int cred = pam_setcred(pamh, PAM_ESTABLISH_CRED | flags);
        printf("setcred %d %s\n", cred, pam_strerror(pamh, cred));
        fflush(stdout);
    }
    rc = pam_end(pamh, auth);
    printf("end %d\n", rc);
    return auth == PAM_SUCCESS ? 0 : 1;
}
