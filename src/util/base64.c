/* base64 - strict decoding of base64 text (see include/smime/util/base64.h). */
#include "smime/util/base64.h"

#include <stdint.h>

/* One more than each alphabet character's value; 0 for every other byte. */
static const unsigned char rank1[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
    ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
    ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
    ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
    ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
    ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
    ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static int line_end(unsigned char c, unsigned flags)
{
    return c == '\n' || c == '\r' || ((flags & SMIME_BASE64_PEM) && (c == ' ' || c == '\t'));
}

int smime_base64_decode(const char *in, size_t n, unsigned flags, unsigned char *out,
                        size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)in, *end = p + n;
    unsigned char *o = out;
    uint32_t acc = 0;
    unsigned have = 0;          /* characters of the current group, padding included */
    unsigned pad = 0;           /* '=' seen; the text is over once its group is */
    while (p < end) {
        /* Whole groups between line ends go four characters at a time: nearly all
         * of the text. */
        while (have == 0 && end - p >= 4 && rank1[p[0]] && rank1[p[1]] && rank1[p[2]] &&
               rank1[p[3]]) {
            uint32_t v = (uint32_t)(rank1[p[0]] - 1) << 18 | (uint32_t)(rank1[p[1]] - 1) << 12 |
                         (uint32_t)(rank1[p[2]] - 1) << 6 | (uint32_t)(rank1[p[3]] - 1);
            p += 4;
            o[0] = (unsigned char)(v >> 16);
            o[1] = (unsigned char)(v >> 8);
            o[2] = (unsigned char)v;
            o += 3;
        }
        if (p == end)
            break;
        unsigned char c = *p++;
        unsigned r = rank1[c];
        if (line_end(c, flags))
            continue;
        if (r) {
            if (pad)
                return -1;      /* data after the padding */
            acc = acc << 6 | (r - 1);
        } else if (c == '=' && have >= 2) {
            pad++;
            acc <<= 6;
        } else {
            return -1;          /* not base64, or padding where no group can end */
        }
        if (++have == 4) {
            o[0] = (unsigned char)(acc >> 16);
            o[1] = (unsigned char)(acc >> 8);
            o[2] = (unsigned char)acc;
            o += 3 - pad;
            have = 0;
            acc = 0;
            if (pad)
                break;
        }
    }
    /* after the padded group only line ends may follow */
    for (; p < end; p++)
        if (!line_end(*p, flags))
            return -1;
    if (have) {
        /* a short last group: PEM's lenience, never with part of its padding */
        if (!(flags & SMIME_BASE64_PEM) || pad || have == 1)
            return -1;
        acc <<= 6 * (4 - have);
        o[0] = (unsigned char)(acc >> 16);
        if (have == 3)
            o[1] = (unsigned char)(acc >> 8);
        o += have - 1;
    }
    *out_len = (size_t)(o - out);
    return 0;
}
