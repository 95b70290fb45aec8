/* A PAM application that calls pam_setcred(PAM_ESTABLISH_CRED) whatever pam_authenticate
 * returned, as a careless one might: the case the append step must survive. It answers the
 * first hidden prompt with the password it is given, every later hidden prompt with a PIN of
 * its choosing and every visible prompt with "y" (accepting any offer), and prints every
 * message of the conversation, one line each, then both results.
 *
 *   failed_login SERVICE USER PASSWORD [CONFDIR]
 *
 * With CONFDIR it calls pam_start_confdir, as the project's tests do; otherwise pam_start,
 * which reads /etc/pam.d. FAILED_LOGIN_RUID, if set, becomes the real uid (the effective uid
 * stays 0), as for a setuid-root program such as su run by a user. */
#define _GNU_SOURCE
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *password;
static int hidden_prompts;

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
    (void)data;
    struct pam_response *replies = calloc((size_t)n, sizeof *replies);
    if (replies == NULL) return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const char *text = msg[i]->msg ? msg[i]->msg : "";
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            printf("PROMPT_ECHO_OFF %s\n", text);
            replies[i].resp = strdup(hidden_prompts++ == 0 ? password : "482913");
            break;
        case PAM_PROMPT_ECHO_ON:
            printf("PROMPT_ECHO_ON %s\n", text);
            replies[i].resp = strdup("y");
            break;
        case PAM_TEXT_INFO:
            printf("TEXT_INFO %s\n", text);
            break;
        case PAM_ERROR_MSG:
            printf("ERROR_MSG %s\n", text);
            break;
        default:
            free(replies);
            return PAM_CONV_ERR;
        }
    }
    fflush(stdout);
    *resp = replies;
    return PAM_SUCCESS;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s SERVICE USER PASSWORD [CONFDIR]\n", argv[0]);
        return 2;
    }
    const char *ruid = getenv("FAILED_LOGIN_RUID");
    if (ruid != NULL && setresuid((uid_t)atoi(ruid), 0, 0) != 0) {
        perror("setresuid");
        return 2;
    }
    password = argv[3];
    struct pam_conv conv = { conversation, NULL };
    pam_handle_t *pamh = NULL;
    int rc = argc == 5 ? pam_start_confdir(argv[1], argv[2], &conv, argv[4], &pamh)
                       : pam_start(argv[1], argv[2], &conv, &pamh);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "pam_start: %d\n", rc);
        return 2;
    }
    pam_set_item(pamh, PAM_TTY, "pts/0");
    int auth = pam_authenticate(pamh, 0);
    printf("pam_authenticate %d %s\n", auth, pam_strerror(pamh, auth));
    fflush(stdout);
    int cred = pam_setcred(pamh, PAM_ESTABLISH_CRED);
    printf("pam_setcred %d %s\n", cred, pam_strerror(pamh, cred));
    pam_end(pamh, auth);
    return 0;
}
