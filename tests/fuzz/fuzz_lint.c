/* libFuzzer target: certificate bytes -> the SBR linter (as subscriber, and as
 * its own issuer so the CA lints and pair lints run too; for half the inputs a
 * CA certificate is linted as a CA) -> JSON. */
#include <stdint.h>
#include <stdlib.h>

#include "smime/util/json.h"
#include "smime/lint/lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smime_span issuer = { data, size };
    smime_lint_options opt = { .now = 1780272000, .all_dates = (size & 1) != 0,
                               .lint_ca = (size & 2) != 0 };
    smime_lint_result *r = NULL;
    if (smime_lint_cert(data, size, &issuer, 1, &opt, &r) < 0)
        return 0;
    smime_buf out;
    smime_buf_init(&out, 1 << 20);
    smime_json j;
    smime_json_init(&j, &out);
    smime_json_begin_object(&j, NULL);
    smime_lint_result_json(r, &j);
    smime_json_end_object(&j);
    if (!out.overflow && !smime_json_ok(&j))
        abort();
    smime_buf_free(&out);
    smime_lint_result_free(r);
    return 0;
}
