/* Unit tests of the configuration parser (milter/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../milter/config.c"

static int parse(const char *text, smime_config *c, char *err, size_t errlen)
{
    return smime_config_parse(text, strlen(text), "test.conf", c, err, errlen);
}

static void test_defaults(void **state)
{
    (void)state;
    smime_config c;
    char err[256];
    assert_int_equal(parse("TrustAnchors /etc/smime/anchors.pem\n", &c, err, sizeof(err)), 0);
    assert_string_equal(c.trust_anchors, "/etc/smime/anchors.pem");
    assert_string_equal(c.socket, "inet:8894@127.0.0.1");
    assert_string_equal(c.authserv_id, "");
    assert_int_equal(c.syslog, 1);
    assert_string_equal(c.syslog_facility, "mail");
    assert_int_equal(c.remove_forged, 1);
    assert_int_equal(c.detail_headers, 0);
    assert_int_equal(c.log_why, 0);
    assert_int_equal(c.max_message_size, 64u << 20);
    assert_int_equal(c.memory_limit, 1u << 20);
    assert_int_equal(c.lint_mode, SMIME_LINT_REPORT);
    assert_int_equal(c.max_depth, 32);
    assert_int_equal(c.revocation, SMIME_REV_MODE_OFF);
    assert_int_equal(c.revocation_timeout, 5);
    assert_string_equal(c.revocation_cache, "");
    assert_string_equal(c.crl_dir, "");
    assert_string_equal(c.telemetry, "");
    assert_int_equal(c.has_umask, 0);
    for (int r = 0; r < SMIME_RESULT_COUNT; r++)
        assert_int_equal(c.policy.on_result[r], SMIME_ACTION_ACCEPT);
    assert_int_equal(c.policy.on_internal_error, SMIME_ACTION_TEMPFAIL);
}

static void test_every_key(void **state)
{
    (void)state;
    static const char text[] =
        "# a comment line\n"
        "\n"
        "Socket            inet6:8894@[::1]\n"
        "AuthservID        mx.example.org   # trailing comment\n"
        "TrustAnchors      /etc/smime/anchors\n"
        "UserID            smime:mail\n"
        "PidFile           /run/smime-milter/smime-milter.pid\n"
        "UMask             007\n"
        "Syslog            no\n"
        "SyslogFacility    LOCAL3\n"
        "LogWhy            yes\n"
        "PeerList          /etc/smime/peers\n"
        "SkipAuthenticated true\n"
        "MaximumMessageSize 10M\n"
        "MessageMemoryLimit 256k\n"
        "TemporaryDirectory /var/spool/smime\n"
        "RemoveForgedResults no\n"
        "DetailHeaders     yes\n"
        "LintMode          enforce\n"
        "MaximumDepth      16\n"
        "Revocation        Hard\n"
        "RevocationTimeout 0\n"
        "RevocationCache   /var/cache/smime-milter\n"
        "CRLDirectory      /etc/smime/crls\n"
        "Telemetry         sqlite:/var/lib/smime-milter/telemetry.db\n"
        "On-None           accept\n"
        "On-Pass           accept\n"
        "On-Fail           reject\n"
        "On-Neutral        quarantine\n"
        "On-Policy         discard\n"
        "On-TempError      tempfail\n"
        "On-PermError      Reject\n"
        "On-InternalError  accept\n"
        "RejectReply       554 5.7.0 bad signature (%r), 100%% sure\n"
        "TempfailReply     421 4.3.0 try later: %r\r\n";
    smime_config c;
    char err[256] = "";
    assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
    assert_string_equal(c.socket, "inet6:8894@[::1]");
    assert_string_equal(c.authserv_id, "mx.example.org");
    assert_string_equal(c.trust_anchors, "/etc/smime/anchors");
    assert_string_equal(c.user_id, "smime:mail");
    assert_string_equal(c.pid_file, "/run/smime-milter/smime-milter.pid");
    assert_int_equal(c.has_umask, 1);
    assert_int_equal(c.umask, 07);
    assert_int_equal(c.syslog, 0);
    assert_string_equal(c.syslog_facility, "local3");
    assert_int_equal(c.log_why, 1);
    assert_string_equal(c.peer_list, "/etc/smime/peers");
    assert_int_equal(c.skip_authenticated, 1);
    assert_int_equal(c.max_message_size, 10u << 20);
    assert_int_equal(c.memory_limit, 256u << 10);
    assert_string_equal(c.temp_dir, "/var/spool/smime");
    assert_int_equal(c.remove_forged, 0);
    assert_int_equal(c.detail_headers, 1);
    assert_int_equal(c.lint_mode, SMIME_LINT_ENFORCE);
    assert_int_equal(c.max_depth, 16);
    assert_int_equal(c.revocation, SMIME_REV_MODE_HARD);
    assert_int_equal(c.revocation_timeout, 0);
    assert_string_equal(c.revocation_cache, "/var/cache/smime-milter");
    assert_string_equal(c.crl_dir, "/etc/smime/crls");
    assert_string_equal(c.telemetry, "sqlite:/var/lib/smime-milter/telemetry.db");
    assert_int_equal(c.policy.on_result[SMIME_RESULT_FAIL], SMIME_ACTION_REJECT);
    assert_int_equal(c.policy.on_result[SMIME_RESULT_NEUTRAL], SMIME_ACTION_QUARANTINE);
    assert_int_equal(c.policy.on_result[SMIME_RESULT_POLICY], SMIME_ACTION_DISCARD);
    assert_int_equal(c.policy.on_result[SMIME_RESULT_TEMPERROR], SMIME_ACTION_TEMPFAIL);
    assert_int_equal(c.policy.on_result[SMIME_RESULT_PERMERROR], SMIME_ACTION_REJECT);
    assert_int_equal(c.policy.on_internal_error, SMIME_ACTION_ACCEPT);
    assert_string_equal(c.policy.reject_reply, "554 5.7.0 bad signature (%r), 100%% sure");
    assert_string_equal(c.policy.tempfail_reply, "421 4.3.0 try later: %r");
}

/* Each bad line must be refused with an error naming file and line. */
static void test_errors_name_the_line(void **state)
{
    (void)state;
    static const struct { const char *text; const char *want; } cases[] = {
        { "TrustAnchors /a\nFrobnicate yes\n", "test.conf:2: unknown key \"Frobnicate\"" },
        { "TrustAnchors /a\nSyslog maybe\n", "test.conf:2: Syslog: expected yes or no" },
        { "TrustAnchors /a\nOn-Fail bounce\n", "test.conf:2: On-Fail: expected accept" },
        { "TrustAnchors /a\n\nSocket tcp:25\n", "test.conf:3: Socket: expected inet:" },
        { "TrustAnchors /a\nSocket inet:0@127.0.0.1\n", "test.conf:2: Socket" },
        { "TrustAnchors /a\nSocket inet:70000\n", "test.conf:2: Socket" },
        { "TrustAnchors /a\nSocket local:relative\n", "test.conf:2: Socket" },
        { "TrustAnchors relative.pem\n", "test.conf:1: TrustAnchors: expected an absolute path" },
        { "TrustAnchors /a\nTrustAnchors /b\n", "test.conf:2: TrustAnchors given twice" },
        { "TrustAnchors /a\nAuthservID has space\n", "test.conf:2: AuthservID: expected" },
        { "TrustAnchors /a\nAuthservID a;b\n", "test.conf:2: AuthservID: expected" },
        { "TrustAnchors /a\nUMask 0800\n", "test.conf:2: UMask" },
        { "TrustAnchors /a\nMaximumMessageSize 0\n", "test.conf:2: MaximumMessageSize" },
        { "TrustAnchors /a\nMaximumMessageSize 10X\n", "test.conf:2: MaximumMessageSize" },
        { "TrustAnchors /a\nMaximumMessageSize 99999999999999999999G\n",
          "test.conf:2: MaximumMessageSize" },
        { "TrustAnchors /a\nLintMode strict\n", "test.conf:2: LintMode: expected off" },
        { "TrustAnchors /a\nRejectReply 451 4.7.1 no\n", "test.conf:2: RejectReply: reply code must be 5xx" },
        { "TrustAnchors /a\nTempfailReply 451 5.7.1 no\n", "test.conf:2: TempfailReply: reply must have" },
        { "TrustAnchors /a\nRejectReply 550 5.7.1 100% bad\n", "test.conf:2: RejectReply: '%'" },
        { "TrustAnchors /a\nRejectReply hello\n", "test.conf:2: RejectReply: reply must start" },
        { "TrustAnchors /a\nSyslogFacility kern\n", "test.conf:2: SyslogFacility" },
        { "TrustAnchors /a\nMaximumDepth 0\n", "test.conf:2: MaximumDepth" },
        { "TrustAnchors /a\nUserID a:b:c\n", "test.conf:2: UserID" },
        { "TrustAnchors /a\nRevocation always\n", "test.conf:2: Revocation: expected off" },
        { "TrustAnchors /a\nRevocationTimeout 601\n", "test.conf:2: RevocationTimeout" },
        { "TrustAnchors /a\nRevocationTimeout -1\n", "test.conf:2: RevocationTimeout" },
        { "TrustAnchors /a\nCRLDirectory crls\n", "test.conf:2: CRLDirectory: expected an absolute" },
        { "TrustAnchors /a\nTelemetry mysql://x\n", "test.conf:2: Telemetry: " },
        { "TrustAnchors /a\nMetricsSocket inet:9108\n", "test.conf:2: MetricsSocket: expected inet:PORT@" },
        { "TrustAnchors /a\nMetricsSocket inet:9108@localhost\n", "test.conf:2: MetricsSocket" },
        { "TrustAnchors /a\nMetricsSocket local:/run/m\n", "test.conf:2: MetricsSocket" },
        { "TrustAnchors /a\nPidFile\n", "test.conf:2: PidFile needs a value" },
        { "Syslog yes\n", "test.conf: TrustAnchors is required" },
        { "TrustAnchors /a\nLogWhy yes\001\n", "test.conf:2: control character" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smime_config c;
        char err[256] = "";
        int rc = parse(cases[i].text, &c, err, sizeof(err));
        if (rc != -1 || strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: rc %d, err \"%s\", want prefix \"%s\"", i, rc, err, cases[i].want);
    }
}

static void test_long_line_and_nul(void **state)
{
    (void)state;
    size_t n = SMIME_CONFIG_LINE_MAX + 10;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, 'a', n);
    text[n] = '\0';
    smime_config c;
    char err[256];
    assert_int_equal(parse(text, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "test.conf:1: line longer"));
    free(text);
    static const char nul[] = "TrustAnchors /a\nSyslog\0yes\n";
    assert_int_equal(smime_config_parse(nul, sizeof(nul) - 1, "x", &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "x:2: NUL"));
}

static void test_socket_forms(void **state)
{
    (void)state;
    assert_true(smime_config_socket_valid("inet:8894@127.0.0.1"));
    assert_true(smime_config_socket_valid("inet:8894@localhost"));
    assert_true(smime_config_socket_valid("inet:8894"));
    assert_true(smime_config_socket_valid("inet6:8894@[::1]"));
    assert_true(smime_config_socket_valid("inet6:8894@::1"));
    assert_true(smime_config_socket_valid("local:/run/smime-milter/sock"));
    assert_true(smime_config_socket_valid("unix:/run/x"));
    assert_false(smime_config_socket_valid("inet:@127.0.0.1"));
    assert_false(smime_config_socket_valid("inet:88x4@127.0.0.1"));
    assert_false(smime_config_socket_valid("inet:8894@"));
    assert_false(smime_config_socket_valid("inet:8894@a b"));
    assert_false(smime_config_socket_valid("inet6:8894@[zz::1]"));
    assert_false(smime_config_socket_valid("local:"));
    assert_false(smime_config_socket_valid("8894"));
}

static void test_metrics_socket(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    assert_int_equal(smime_config_metrics_addr("inet:9108@127.0.0.1", &ss, &len), 0);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
    assert_int_equal(len, sizeof(*in));
    assert_int_equal(in->sin_family, AF_INET);
    assert_int_equal(ntohs(in->sin_port), 9108);
    assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001);
    assert_int_equal(smime_config_metrics_addr("inet6:9108@[::1]", &ss, &len), 0);
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(len, sizeof(*in6));
    assert_int_equal(in6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(in6->sin6_port), 9108);
    assert_int_equal(in6->sin6_addr.s6_addr[15], 1);
    assert_int_equal(smime_config_metrics_addr("inet:9108@0.0.0.0", &ss, &len), 0);
    static const char *const bad[] = {
        "inet:9108", "inet:9108@", "inet:0@127.0.0.1", "inet:65536@127.0.0.1",
        "inet:9108@localhost", "inet:9108@127.0.0.256", "inet6:9108@::1", "inet6:9108@[]",
        "inet6:9108@[::g]", "local:/run/x", "9108",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (smime_config_metrics_addr(bad[i], &ss, &len) == 0)
            fail_msg("accepted %s", bad[i]);
    smime_config c;
    char err[256];
    assert_int_equal(parse("TrustAnchors /a\nMetricsSocket inet:9108@127.0.0.1\n", &c, err,
                           sizeof(err)), 0);
    assert_string_equal(c.metrics_socket, "inet:9108@127.0.0.1");
    assert_int_equal(parse("TrustAnchors /a\n", &c, err, sizeof(err)), 0);
    assert_string_equal(c.metrics_socket, "");
}

static void test_memory_limit_clamped(void **state)
{
    (void)state;
    smime_config c;
    char err[256];
    assert_int_equal(parse("TrustAnchors /a\nMaximumMessageSize 1k\nMessageMemoryLimit 1M\n", &c,
                           err, sizeof(err)), 0);
    assert_int_equal(c.memory_limit, 1024);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    smime_config c;
    char err[256];
    assert_int_equal(smime_config_load("/nonexistent/smime.conf", &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/smime.conf"));
}

/* The cost model's keys: defaults, values, and a clear error past their range. */
static void test_cost_keys(void **state)
{
    (void)state;
    smime_config c;
    char err[256];
    smime_config_default(&c);
    assert_int_equal(c.max_signatures, 32);
    assert_int_equal(c.max_rsa_bits, 8192);
    assert_int_equal(c.hash_factor, 4);
    assert_int_equal(c.decode_factor, 2);
    assert_int_equal(c.verify_timeout, 3);
    assert_int_equal(c.revocation_max_redirects, 0);
    assert_int_equal(c.revocation_allow_private, 0);
    static const char text[] =
        "TrustAnchors /a.pem\nMaximumSignaturesToVerify 5\nMaximumRSAKeyBits 4096\n"
        "HashBudgetFactor 8\nDecodeBudgetFactor 3\nVerifyTimeout 10\n"
        "RevocationMaxRedirects 2\nRevocationAllowPrivate yes\n";
    assert_int_equal(smime_config_parse(text, sizeof(text) - 1, "t", &c, err, sizeof(err)), 0);
    assert_int_equal(c.max_signatures, 5);
    assert_int_equal(c.max_rsa_bits, 4096);
    assert_int_equal(c.hash_factor, 8);
    assert_int_equal(c.decode_factor, 3);
    assert_int_equal(c.verify_timeout, 10);
    assert_int_equal(c.revocation_max_redirects, 2);
    assert_int_equal(c.revocation_allow_private, 1);
    static const char *const bad[] = {
        "TrustAnchors /a\nMaximumSignaturesToVerify 5000\n", "TrustAnchors /a\nRevocationMaxRedirects 6\n",
        "TrustAnchors /a\nVerifyTimeout 601\n", "TrustAnchors /a\nHashBudgetFactor -1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(smime_config_parse(bad[i], strlen(bad[i]), "t", &c, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "t:2:"));
    }
}

/* The gateway keys (issue #18): SigningPolicy, SubjectTag-*, Harvest*. */
static void test_gateway_keys(void **state)
{
    (void)state;
    smime_config c;
    char err[256];
    smime_config_default(&c);
    assert_string_equal(c.signing_policy, "");
    assert_string_equal(c.subject_tag[SMIME_RESULT_PASS], "");
    assert_string_equal(c.harvest_dir, "");
    assert_int_equal(c.harvest_max_entries, 10000);
    assert_int_equal(c.harvest_max_bytes, 64u << 20);
    static const char text[] =
        "TrustAnchors /a.pem\nSigningPolicy /etc/p.policy\nSubjectTag-Pass \"[signed]\"\n"
        "SubjectTag-Fail [signature INVALID]\nSubjectTag-SigningFail \"[policy FAILED]\"\n"
        "HarvestDirectory /var/lib/h\nHarvestMaxEntries 5\nHarvestMaxBytes 1M\n";
    assert_int_equal(smime_config_parse(text, sizeof(text) - 1, "t", &c, err, sizeof(err)), 0);
    assert_string_equal(c.signing_policy, "/etc/p.policy");
    assert_string_equal(c.subject_tag[SMIME_RESULT_PASS], "[signed]");
    assert_string_equal(c.subject_tag[SMIME_RESULT_FAIL], "[signature INVALID]");
    assert_string_equal(c.subject_tag[SMIME_TAG_SIGNING_FAIL], "[policy FAILED]");
    assert_string_equal(c.subject_tag[SMIME_RESULT_NONE], "");
    assert_string_equal(c.harvest_dir, "/var/lib/h");
    assert_int_equal(c.harvest_max_entries, 5);
    assert_int_equal(c.harvest_max_bytes, 1u << 20);
    static const char *const bad[] = {
        "TrustAnchors /a\nSigningPolicy relative.policy\n",
        "TrustAnchors /a\nSubjectTag-Pass \"\"\n",
        "TrustAnchors /a\nSubjectTag-Pass \" [x]\"\n",
        "TrustAnchors /a\nSubjectTag-None [gepr\xc3\xbc" "ft]\n",
        "TrustAnchors /a\nSubjectTag-Pass [xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]\n",
        "TrustAnchors /a\nHarvestMaxEntries 1000001\n",
        "TrustAnchors /a\nHarvestDirectory h\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(smime_config_parse(bad[i], strlen(bad[i]), "t", &c, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "t:2:"));
    }
}

static void test_caa_keys(void **state)
{
    (void)state;
    smime_config c;
    char err[256];
    smime_config_default(&c);
    assert_int_equal(c.caa_lookup, 0);
    assert_int_equal(c.caa_timeout_ms, 2000);
    assert_int_equal(c.caa_cache, 4096);
    assert_int_equal(c.telemetry_sender_domain, SMIME_TELEMETRY_DOMAIN_OFF);
    static const char text[] =
        "TrustAnchors /a.pem\nTelemetry sqlite:/var/lib/t.db\nTelemetrySenderDomain hmac\n"
        "TelemetryHMACKeyFile /etc/k\nCAALookup yes\nCAAResolver 127.0.0.1@5353\n"
        "CAAIssuerMap /etc/caa.map\nCAATimeout 500\nCAACacheSize 100\n";
    assert_int_equal(smime_config_parse(text, sizeof(text) - 1, "t", &c, err, sizeof(err)), 0);
    assert_int_equal(c.caa_lookup, 1);
    assert_string_equal(c.caa_resolver, "127.0.0.1@5353");
    assert_string_equal(c.caa_issuer_map, "/etc/caa.map");
    assert_string_equal(c.telemetry_hmac_key, "/etc/k");
    assert_int_equal(c.telemetry_sender_domain, SMIME_TELEMETRY_DOMAIN_HMAC);
    assert_int_equal(c.caa_timeout_ms, 500);
    assert_int_equal(c.caa_cache, 100);
    static const char sys[] = "TrustAnchors /a\nCAAResolver system\nCAAResolver ::1\n";
    assert_int_equal(smime_config_parse(sys, sizeof(sys) - 1, "t", &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "given twice"));
    static const char v6[] = "TrustAnchors /a\nCAAResolver ::1@53\n";
    assert_int_equal(smime_config_parse(v6, sizeof(v6) - 1, "t", &c, err, sizeof(err)), 0);
    assert_string_equal(c.caa_resolver, "::1@53");
    static const struct { const char *text, *want; } bad[] = {
        { "TrustAnchors /a\nCAALookup yes\n", "CAALookup needs Telemetry" },
        { "TrustAnchors /a\nTelemetry sqlite:/t.db\nCAALookup yes\n", "CAALookup needs" },
        { "TrustAnchors /a\nTelemetry sqlite:/t.db\nTelemetrySenderDomain hmac\n", "needs TelemetryHMACKeyFile" },
        { "TrustAnchors /a\nTelemetrySenderDomain cleartext\n", "t:2: TelemetrySenderDomain" },
        { "TrustAnchors /a\nCAAResolver dns.example\n", "t:2: CAAResolver" },
        { "TrustAnchors /a\nCAAResolver 127.0.0.1@99999\n", "t:2: CAAResolver" },
        { "TrustAnchors /a\nCAATimeout 60001\n", "t:2: CAATimeout" },
        { "TrustAnchors /a\nCAAIssuerMap caa.map\n", "t:2: CAAIssuerMap" },
        { "TrustAnchors /a\nTelemetry sqlite:/t.db\nTelemetrySenderDomain plain\nCAALookup yes\n"
          "CAATimeout 0\n", "CAATimeout must be" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (smime_config_parse(bad[i].text, strlen(bad[i].text), "t", &c, err, sizeof(err)) != -1 ||
            !strstr(err, bad[i].want))
            fail_msg("case %zu: err \"%s\", want \"%s\"", i, err, bad[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_keys),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_long_line_and_nul),
        cmocka_unit_test(test_socket_forms),
        cmocka_unit_test(test_metrics_socket),
        cmocka_unit_test(test_memory_limit_clamped),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_cost_keys),
        cmocka_unit_test(test_caa_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
