/* gen - load a generation of settings and swap it in atomically on reload. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "milter.h"
#include "smime/report/authres.h"
#include "smime/revocation/http.h"

static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static milter_gen *gen_current;          /* holds one reference */
static unsigned long gen_serial;

/* The checker's transport: libcurl's, counted for the metrics. */
static smime_fetch_rc counted_fetch(void *ctx, const smime_fetch_request *req, smime_buf *body,
                                    char *err, size_t errlen)
{
    smime_fetch_rc rc = smime_http_fetch(ctx, req, body, err, errlen);
    metrics_revocation_fetch(rc);
    return rc;
}

static void gen_free(milter_gen *g)
{
    smime_revocation_free(g->revocation);
    smime_trust_free(g->trust);
    smime_peerlist_free(&g->peers);
    smime_signing_free(&g->signing);
    free(g);
}

milter_gen *gen_load(const char *conf_path, char *err, size_t errlen)
{
    milter_gen *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (smime_config_load(conf_path, &g->cfg, err, errlen) < 0) {
        free(g);
        return NULL;
    }
    char why[512];
    if (smime_trust_load(g->cfg.trust_anchors, &g->trust, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: TrustAnchors: %s", conf_path, why);
        free(g);
        return NULL;
    }
    if (g->cfg.peer_list[0] &&
        smime_peerlist_load(g->cfg.peer_list, &g->peers, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: PeerList: %s", conf_path, why);
        gen_free(g);
        return NULL;
    }
    if (g->cfg.signing_policy[0] &&
        smime_signing_load(g->cfg.signing_policy, &g->signing, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: SigningPolicy: %s", conf_path, why);
        gen_free(g);
        return NULL;
    }
    for (size_t i = 0; i <= SMIME_TAG_SIGNING_FAIL; i++)
        if (g->cfg.subject_tag[i][0])
            g->tagging = 1;
    if (g->cfg.revocation != SMIME_REV_MODE_OFF) {
        smime_revocation_config rc;
        smime_revocation_config_default(&rc);
        rc.fetch = counted_fetch;
        g->http.max_redirects = g->cfg.revocation_max_redirects;
        g->http.allow_private = g->cfg.revocation_allow_private;
        rc.fetch_ctx = &g->http;
        rc.cache_dir = g->cfg.revocation_cache;
        rc.crl_dir = g->cfg.crl_dir;
        if (smime_revocation_new(&rc, &g->revocation, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: Revocation: %s", conf_path, why);
            gen_free(g);
            return NULL;
        }
    }
    if (g->cfg.authserv_id[0]) {
        snprintf(g->servid, sizeof(g->servid), "%s", g->cfg.authserv_id);
    } else {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) < 0 || !smime_authres_valid_servid(host)) {
            snprintf(err, errlen, "%s: AuthservID not set and the host name is not usable",
                     conf_path);
            gen_free(g);
            return NULL;
        }
        snprintf(g->servid, sizeof(g->servid), "%s", host);
    }
    g->refs = 1;
    return g;
}

void gen_install(milter_gen *g)
{
    pthread_mutex_lock(&gen_lock);
    milter_gen *old = gen_current;
    g->serial = ++gen_serial;
    gen_current = g;
    pthread_mutex_unlock(&gen_lock);
    if (old)
        gen_release(old);
}

milter_gen *gen_acquire(void)
{
    pthread_mutex_lock(&gen_lock);
    milter_gen *g = gen_current;
    if (g)
        g->refs++;
    pthread_mutex_unlock(&gen_lock);
    return g;
}

void gen_release(milter_gen *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&gen_lock);
    unsigned left = --g->refs;
    pthread_mutex_unlock(&gen_lock);
    if (left == 0)
        gen_free(g);
}
