/* libFuzzer target: arbitrary text in every field a certificate or message can
 * set -> the Authentication-Results formatter.  Aborts when a control character
 * or line break reaches the header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smime/report/authres.h"
#include "smime/report/report.h"

static void take(char *dst, size_t size, const uint8_t **p, size_t *n)
{
    size_t k = *n < size - 1 ? *n : size - 1;
    const uint8_t *sep = memchr(*p, 0xff, k);
    if (sep)
        k = (size_t)(sep - *p);
    memcpy(dst, *p, k);
    dst[k] = '\0';
    size_t used = sep ? k + 1 : k;
    *p += used;
    *n -= used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smime_report *r = smime_report_new();
    if (!r)
        return 0;
    const uint8_t *p = data;
    size_t n = size;
    for (int k = 0; k < 3 && (k == 0 || n > 0); k++) {
        smime_sig_report *s = smime_report_add_sig(r);
        s->result = (smime_result)(n ? p[0] % SMIME_RESULT_COUNT : 0);
        s->has_signer = 1;
        take(s->reason, sizeof(s->reason), &p, &n);
        take(s->identifier, sizeof(s->identifier), &p, &n);
        take(s->part, sizeof(s->part), &p, &n);
        take(s->signer.serial, sizeof(s->signer.serial), &p, &n);
        take(s->signer.issuer, sizeof(s->signer.issuer), &p, &n);
    }
    if (n > 0) {
        char note[160];
        take(note, sizeof(note), &p, &n);
        smime_report_add_note(r, "1", "encrypted", "%s", note);
    }
    smime_buf h;
    smime_buf_init(&h, 1 << 20);
    smime_authres_format(r, "mx.test", &h);
    for (size_t i = 0; i < h.len; i++)
        if ((unsigned char)h.data[i] < 0x20 || h.data[i] == 0x7f)
            abort();
    smime_buf_free(&h);
    smime_report_free(r);
    return 0;
}
