/* smime-verify - verify S/MIME messages offline with the same core the milter
 * uses, printing the Authentication-Results header (or JSON) for each file.
 *
 * Exit status: 0 every message was checked and every result is pass or none;
 * 1 every message was checked and some result is something else; 2 usage error;
 * 3 a file or the trust anchors could not be read, or the verifier failed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smime/report/authres.h"
#include "smime/util/buf.h"
#include "smime/revocation/http.h"
#include "smime/util/json.h"
#include "smime/telemetry/telemetry.h"
#include "smime/util/timeutil.h"
#include "smime/verdict/signing.h"
#include "smime/verdict/verify.h"

#define EXIT_RESULTS 1
#define EXIT_USAGE   2
#define EXIT_INPUT   3
#define HEADER_CAP   (64u << 10)
#define JSON_CAP     (4u << 20)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smime-verify --trust-anchors PEM|DIR [--authserv-id ID] [--at TIME]\n"
            "                    [--max-size BYTES] [--lint-mode off|report|enforce] [--json]\n"
            "                    [--telemetry URI] [--revocation off|soft|hard]\n"
            "                    [--revocation-timeout SECONDS] [--revocation-cache DIR]\n"
            "                    [--crl-dir DIR] [--offline] [--revocation-allow-private]\n"
            "                    [--max-signatures N] [--verify-timeout SECONDS]\n"
            "                    [--policy FILE] [--reference-path] FILE.eml...\n"
            "  --trust-anchors  PEM file or directory of PEM files with S/MIME trust anchors\n"
            "  --authserv-id    authserv-id of the header (default: localhost)\n"
            "  --at             validation time: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @EPOCH\n"
            "                   (default: now)\n"
            "  --max-size       larger messages are not checked (default 67108864)\n"
            "  --lint-mode      SBR lint of signer certificates: off, report (default: in\n"
            "                   the reason and the JSON), enforce (errors make pass policy)\n"
            "  --json           one JSON object per file instead of the header\n"
            "  --telemetry      also record each signature: sqlite:PATH or postgresql://...\n"
            "  --revocation     OCSP/CRL checks: off (default), soft (unknown status noted in\n"
            "                   the reason), hard (unknown status gives temperror)\n"
            "  --revocation-timeout  seconds for all revocation fetches of a message (5)\n"
            "  --revocation-cache    directory of cached responses and CRLs\n"
            "  --crl-dir        directory of mirrored CRLs\n"
            "  --offline        never fetch: only --crl-dir and the cache answer\n"
            "  --revocation-allow-private  also fetch from loopback and private addresses\n"
            "  --max-signatures signatures verified per message, all levels (32)\n"
            "  --verify-timeout CPU seconds per message before the rest is neutral (3; 0 none)\n"
            "  --policy         per-sender SigningPolicy file, as the milter's: the outcome is\n"
            "                   added to the header (policy.smime-signing=...) and the JSON\n"
            "  --reference-path diagnostic: GnuTLS verifies each signature and nothing\n"
            "                   parsed is reused (slow; the report must be the same)\n"
            "  FILE '-' reads standard input.\n"
            "exit: 0 all pass/none (and every SigningPolicy rule met), 1 some other result,\n"
            "      2 usage, 3 unreadable input\n");
}

/* Telemetry problems (sink errors, losses) go to stderr. */
static void telemetry_log(void *ctx, smime_telemetry_log_level level, const char *msg)
{
    (void)ctx;
    if (level == SMIME_TELEMETRY_LOG_INFO)
        return;   /* the closing totals of a run without losses */
    fprintf(stderr, "smime-verify: %s%s\n", level == SMIME_TELEMETRY_LOG_ERR ? "error: " : "", msg);
}

static int all_good(const smime_report *r)
{
    for (size_t i = 0; i < r->n_sigs; i++)
        if (r->sigs[i].result != SMIME_RESULT_PASS && r->sigs[i].result != SMIME_RESULT_NONE)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    const char *anchors = NULL, *servid = "localhost", *at = NULL, *lint_mode = "report";
    const char *telemetry_uri = NULL, *policy_path = NULL;
    int json = 0;
    unsigned long long max_size = 0;
    int rev_mode = SMIME_REV_MODE_OFF;
    int64_t rev_timeout_ms = 5000;
    smime_revocation_config rev_cfg;
    smime_revocation_config_default(&rev_cfg);
    rev_cfg.fetch = smime_http_fetch;
    smime_http_config http = { 0 };
    rev_cfg.fetch_ctx = &http;
    long max_signatures = -1, verify_timeout_ms = -1;
    int reference_path = 0;
    static const struct option opts[] = {
        { "trust-anchors", required_argument, NULL, 't' },
        { "authserv-id", required_argument, NULL, 'a' },
        { "at", required_argument, NULL, 'T' },
        { "max-size", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "lint-mode", required_argument, NULL, 'l' },
        { "telemetry", required_argument, NULL, 'R' },
        { "revocation", required_argument, NULL, 'V' },
        { "revocation-timeout", required_argument, NULL, 'W' },
        { "revocation-cache", required_argument, NULL, 'K' },
        { "crl-dir", required_argument, NULL, 'D' },
        { "offline", no_argument, NULL, 'O' },
        { "revocation-allow-private", no_argument, NULL, 'P' },
        { "max-signatures", required_argument, NULL, 'M' },
        { "verify-timeout", required_argument, NULL, 'X' },
        { "policy", required_argument, NULL, 'Y' },
        { "reference-path", no_argument, NULL, 'Z' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "t:a:T:s:l:jR:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': anchors = optarg; break;
        case 'a': servid = optarg; break;
        case 'T': at = optarg; break;
        case 'j': json = 1; break;
        case 'l': lint_mode = optarg; break;
        case 'R': telemetry_uri = optarg; break;
        case 'V':
            rev_mode = smime_rev_mode_parse(optarg);
            if (rev_mode < 0) {
                fprintf(stderr, "smime-verify: --revocation must be off, soft or hard: %s\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'W': {
            char *end;
            double sec = strtod(optarg, &end);
            if (end == optarg || *end || !(sec > 0 && sec <= 600)) {
                fprintf(stderr, "smime-verify: --revocation-timeout: seconds, 0 to 600: %s\n", optarg);
                return EXIT_USAGE;
            }
            rev_timeout_ms = (int64_t)(sec * 1000);
            break;
        }
        case 'Y': policy_path = optarg; break;
        case 'K': rev_cfg.cache_dir = optarg; break;
        case 'D': rev_cfg.crl_dir = optarg; break;
        case 'O': rev_cfg.fetch = NULL; break;
        case 'P': http.allow_private = 1; break;
        case 'M': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 0 || v > 4096) {
                fprintf(stderr, "smime-verify: --max-signatures: a number 0 to 4096: %s\n", optarg);
                return EXIT_USAGE;
            }
            max_signatures = v;
            break;
        }
        case 'X': {
            char *end;
            double sec = strtod(optarg, &end);
            if (end == optarg || *end || !(sec >= 0 && sec <= 600)) {
                fprintf(stderr, "smime-verify: --verify-timeout: seconds, 0 to 600: %s\n", optarg);
                return EXIT_USAGE;
            }
            verify_timeout_ms = (long)(sec * 1000);
            if (sec > 0 && verify_timeout_ms == 0)
                verify_timeout_ms = 1;
            break;
        }
        case 's': {
            char *end;
            errno = 0;
            max_size = strtoull(optarg, &end, 10);
            if (errno || *end || max_size == 0) {
                fprintf(stderr, "smime-verify: --max-size: not a positive number: %s\n", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'Z': reference_path = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!anchors || optind >= argc) {
        fprintf(stderr, "smime-verify: %s\n",
                !anchors ? "--trust-anchors is required" : "no message file given");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!smime_authres_valid_servid(servid)) {
        fprintf(stderr, "smime-verify: --authserv-id must be a token (no spaces or specials): %s\n",
                servid);
        return EXIT_USAGE;
    }
    int mode = smime_lint_mode_parse(lint_mode);
    if (mode < 0) {
        fprintf(stderr, "smime-verify: --lint-mode must be off, report or enforce: %s\n", lint_mode);
        return EXIT_USAGE;
    }
    int64_t now = (int64_t)time(NULL);
    if (at && smime_time_parse(at, &now) < 0) {
        fprintf(stderr, "smime-verify: --at: not a time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, @EPOCH): %s\n",
                at);
        return EXIT_USAGE;
    }
    if (smime_init() < 0) {
        fprintf(stderr, "smime-verify: library initialisation failed\n");
        return EXIT_INPUT;
    }
    char err[512];
    smime_signing_policy signing = { 0 };
    if (policy_path && smime_signing_load(policy_path, &signing, err, sizeof(err)) < 0) {
        fprintf(stderr, "smime-verify: --policy: %s\n", err);
        smime_signing_free(&signing);
        return EXIT_INPUT;
    }
    smime_trust *trust = NULL;
    if (smime_trust_load(anchors, &trust, err, sizeof(err)) < 0) {
        fprintf(stderr, "smime-verify: %s\n", err);
        smime_signing_free(&signing);
        return EXIT_INPUT;
    }
    /* Records are written by the telemetry writer thread while files are checked;
     * close (below) waits for them. */
    smime_telemetry *tel = NULL;
    if (telemetry_uri) {
        smime_telemetry_options topt;
        smime_telemetry_options_default(&topt);
        topt.log = telemetry_log;
        topt.wait_when_full = 1;   /* offline: every signature of the files is recorded */
        if (smime_telemetry_open(telemetry_uri, &topt, &tel, err, sizeof(err)) < 0) {
            fprintf(stderr, "smime-verify: --telemetry: %s\n", err);
            smime_trust_free(trust);
            smime_signing_free(&signing);
            return EXIT_INPUT;
        }
    }
    smime_verify_options opt;
    smime_verify_options_default(&opt, now);
    if (max_size)
        opt.max_message_size = (size_t)max_size;
    opt.lint_mode = (smime_lint_mode)mode;
    opt.reference_path = reference_path;
    if (max_signatures >= 0)
        opt.max_signatures = (unsigned)max_signatures;
    if (verify_timeout_ms >= 0)
        opt.cpu_budget_ms = verify_timeout_ms;
    smime_revocation *rev = NULL;
    if (rev_mode != SMIME_REV_MODE_OFF) {
        if (smime_http_init() < 0)
            snprintf(err, sizeof(err), "libcurl could not be initialised");
        else if (smime_revocation_new(&rev_cfg, &rev, err, sizeof(err)) < 0)
            rev = NULL;
        if (!rev) {
            fprintf(stderr, "smime-verify: --revocation: %s\n", err);
            smime_telemetry_close(tel, 60000, NULL);
            smime_trust_free(trust);
            smime_signing_free(&signing);
            return EXIT_INPUT;
        }
        opt.revocation = rev;
        opt.revocation_mode = (smime_rev_mode)rev_mode;
    }

    int status = 0;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        size_t len = 0;
        /* One byte past the cap is enough for the core to see that the message is
         * too large to check. */
        smime_buf in;
        smime_buf_init(&in, opt.max_message_size + 1);
        if (smime_buf_read_file(&in, path, 1) < 0) {
            fprintf(stderr, "smime-verify: %s: %s\n", path, strerror(errno));
            smime_buf_free(&in);
            status = EXIT_INPUT;
            continue;
        }
        char *msg = smime_buf_steal(&in, &len);
        smime_report *report = NULL;
        opt.revocation_deadline_ms = smime_rev_clock_ms() + rev_timeout_ms;   /* per message */
        int rc = smime_verify_message(msg, len, trust, &opt, &report, err, sizeof(err));
        free(msg);
        if (rc < 0) {
            fprintf(stderr, "smime-verify: %s: %s\n", path, err);
            status = EXIT_INPUT;
            continue;
        }
        smime_signing_evaluate(&signing, report);
        for (size_t i = 0; tel && i < report->n_sigs; i++)
            smime_telemetry_submit_sig(tel, &report->sigs[i], report->sigs[i].lint, now);
        smime_buf out;
        smime_buf_init(&out, json ? JSON_CAP : HEADER_CAP);
        int fmt_rc;
        if (json) {
            smime_buf header;
            smime_buf_init(&header, HEADER_CAP);
            smime_authres_format(report, servid, &header);
            smime_json j;
            smime_json_init(&j, &out);
            smime_json_begin_object(&j, NULL);
            smime_json_string(&j, "file", path);
            smime_json_string(&j, "authentication_results", header.data ? header.data : "");
            smime_report_json(report, &j);
            smime_json_end_object(&j);
            fmt_rc = smime_json_ok(&j) ? 0 : -1;
            smime_buf_free(&header);
        } else {
            fmt_rc = smime_buf_puts(&out, SMIME_AUTHRES_NAME ": ") ||
                     smime_authres_format(report, servid, &out);
        }
        if (fmt_rc != 0) {
            fprintf(stderr, "smime-verify: %s: output larger than its limit\n", path);
            status = EXIT_INPUT;
        } else {
            if (!json && argc - optind > 1)
                printf("%s: ", path);
            printf("%s\n", out.data);
            if ((!all_good(report) || (report->signing.applied && !report->signing.satisfied)) &&
                status == 0)
                status = EXIT_RESULTS;
        }
        smime_buf_free(&out);
        smime_report_free(report);
    }
    /* A record that could not be stored is an error of this run (the writer has
     * said why on stderr); the verdicts printed above stand. */
    if (tel && smime_telemetry_close(tel, 60000, NULL) < 0)
        status = EXIT_INPUT;
    smime_revocation_free(rev);
    smime_trust_free(trust);
    smime_signing_free(&signing);
    return status;
}
