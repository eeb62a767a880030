/* libFuzzer target: message bytes -> the whole pipeline -> header and JSON.
 * Besides crashes, it checks the promise that nothing from the input reaches the
 * header as a control character. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smime/report/authres.h"
#include "smime/util/json.h"
#include "smime/verdict/verify.h"

static smime_trust *trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    smime_init();
    if (smime_trust_load("sample-mail/pki/trust-anchors.pem", &trust, err, sizeof(err)) < 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smime_verify_options opt;
    smime_verify_options_default(&opt, 1780272000);
    opt.max_message_size = 1 << 20;
    smime_report *r = NULL;
    char err[256];
    if (smime_verify_message((const char *)data, size, trust, &opt, &r, err, sizeof(err)) < 0)
        return 0;
    smime_buf h;
    smime_buf_init(&h, 1 << 20);
    smime_authres_format(r, "mx.test", &h);
    for (size_t i = 0; i < h.len; i++)
        if ((unsigned char)h.data[i] < 0x20 || h.data[i] == 0x7f)
            abort();
    smime_buf js;
    smime_buf_init(&js, 4 << 20);
    smime_json j;
    smime_json_init(&j, &js);
    smime_json_begin_object(&j, NULL);
    smime_report_json(r, &j);
    smime_json_end_object(&j);
    if (!js.overflow && !smime_json_ok(&j))
        abort();
    smime_buf_free(&h);
    smime_buf_free(&js);
    smime_report_free(r);
    return 0;
}
