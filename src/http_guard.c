/* http_guard.c: authentication, connection admission and TLS set-up for the
 * HTTP front. Nothing secret is logged: a refusal names the client address
 * and the reason, never a user name, password or token. */
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth.h"
#include "bounds.h"
#include "config.h"
#include "http_guard.h"
#include "log.h"
#include "mem.h"
#include "store.h"


int
http_guard_init(struct http_guard *g, const struct config *cfg,
    char err[ERR_MAX])
{
	size_t len, n;

	memset(g, 0, sizeof(*g));
	g->open_reads = cfg->open_reads;
	g->max_connections = cfg->max_connections;
	if (cfg->data_dir != NULL &&
	    asprintf(&g->lock_path, "%s/%s", cfg->data_dir,
	    STORE_LOCK_FILE) < 0) {
		g->lock_path = NULL;
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	if (auth_load(&g->auth, cfg->basic_auth_file, cfg->bearer_token_file,
	    err) == -1)
		goto fail;
	if (cfg->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, ERR_MAX, "--tls-cert: this libmicrohttpd "
			    "was built without TLS support");
			goto fail;
		}
		if (auth_read_file(cfg->tls_cert, "--tls-cert",
		    BOUND_SECRET_MAX, &g->cert, &len, err) == -1 ||
		    auth_read_file(cfg->tls_key, "--tls-key", BOUND_SECRET_MAX,
		    &g->key, &g->keylen, err) == -1)
			goto fail;
		if (strstr(g->cert, "-----BEGIN ") == NULL) {
			snprintf(err, ERR_MAX, "--tls-cert %.300s is not PEM",
			    cfg->tls_cert);
			goto fail;
		}
		if (strstr(g->key, "-----BEGIN ") == NULL ||
		    strstr(g->key, "PRIVATE KEY-----") == NULL) {
			snprintf(err, ERR_MAX, "--tls-key %.300s is not a PEM "
			    "private key", cfg->tls_key);
			goto fail;
		}
		if (strstr(g->key, "ENCRYPTED") != NULL) {
			snprintf(err, ERR_MAX, "--tls-key %.300s is encrypted: "
			    "give an unencrypted key", cfg->tls_key);
			goto fail;
		}
	}
	n = 0;
	/* One client (one address) may not take every slot: MHD closes its
	 * connections beyond the cap before any handler runs. */
	if (cfg->max_conns_per_client > 0) {
		g->opts[n].option = MHD_OPTION_PER_IP_CONNECTION_LIMIT;
		g->opts[n++].value = (intptr_t)cfg->max_conns_per_client;
	}
	if (g->cert != NULL) {
		g->opts[n].option = MHD_OPTION_HTTPS_MEM_CERT;
		g->opts[n++].ptr_value = g->cert;
		g->opts[n].option = MHD_OPTION_HTTPS_MEM_KEY;
		g->opts[n++].ptr_value = g->key;
	}
	g->opts[n].option = MHD_OPTION_END;
	return 0;
fail:
	http_guard_release(g);
	return -1;
}

void
http_guard_release(struct http_guard *g)
{
	auth_free(g->auth);
	free(g->lock_path);
	free(g->cert);
	if (g->key != NULL) {
		explicit_bzero(g->key, g->keylen);
		free(g->key);
	}
	memset(g, 0, sizeof(*g));
}

unsigned int
http_guard_flags(const struct http_guard *g)
{
	return g->cert != NULL ? MHD_USE_TLS : 0;
}

struct MHD_OptionItem *
http_guard_options(struct http_guard *g)
{
	return g->opts;
}

unsigned int
http_guard_mhd_limit(const struct http_guard *g)
{
	long extra = g->max_connections / 8;

	if (extra < 8)
		extra = 8;
	return (unsigned int)(g->max_connections + extra);
}

void
http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_guard *g = cls;

	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		unsigned int n = __atomic_add_fetch(&g->nconns, 1,
		    __ATOMIC_RELAXED);

		/* In the reserve: it is there for ping (or a quick 429), so
		 * it may not sit idle on a slot. */
		if (g->max_connections > 0 &&
		    n > (unsigned long)g->max_connections)
			(void)MHD_set_connection_option(c,
			    MHD_CONNECTION_OPTION_TIMEOUT, 1u);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED &&
	    __atomic_sub_fetch(&g->nconns, 1, __ATOMIC_RELAXED) == 0)
		/* The last connection closed: give back the pages the burst
		 * freed. glibc keeps them in its per-thread arenas otherwise,
		 * about 30 MB after 64 busy connections on a daemon that
		 * needs 22, so idle RSS would say nothing about leaks. */
		mem_trim();
}

static void
client_address(struct MHD_Connection *mc, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci;

	snprintf(buf, size, "unknown");
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), buf,
	    (socklen_t)size, NULL, 0, NI_NUMERICHOST);
}

static int
mutating(enum metrics_endpoint ep)
{
	return ep == M_EP_RECONFIGURE || ep == M_EP_REMOVE ||
	    ep == M_EP_NODE_RECONFIGURE || ep == M_EP_NODE_REMOVE;
}

int
http_guard_decide(const struct http_guard *g, enum metrics_endpoint ep,
    const char *authorization, unsigned int nconns, char msg[ERR_MAX],
    const char **reason)
{
	static const char *const why[] = {
		[AUTH_MISSING] = "no credentials",
		[AUTH_WRONG] = "wrong credentials",
		[AUTH_MALFORMED] = "malformed Authorization header",
	};
	enum auth_result ar;

	/* ping is the health check: load must not make it fail, or an
	 * orchestrator would restart a daemon that is merely busy (or a
	 * standby that is merely waiting). */
	if (ep == M_EP_PING)
		return 0;
	if (http_guard_standby(g)) {
		snprintf(msg, ERR_MAX, "standby: another flowmon holds the data "
		    "dir lock %.300s; retry later", g->lock_path ?
		    g->lock_path : STORE_LOCK_FILE);
		return 503;
	}
	if (g->max_connections > 0 &&
	    nconns > (unsigned long)g->max_connections) {
		snprintf(msg, ERR_MAX, "too many connections (%u open, "
		    "--max-connections %ld): retry later", nconns,
		    g->max_connections);
		return 429;
	}
	if (g->auth == NULL || (!mutating(ep) && g->open_reads))
		return 0;
	if ((ar = auth_check(g->auth, authorization)) == AUTH_OK)
		return 0;
	if (reason != NULL)
		*reason = why[ar];
	snprintf(msg, ERR_MAX, "authentication required: %s", why[ar]);
	return 401;
}

int
http_guard_check(struct http_guard *g, struct MHD_Connection *mc,
    enum metrics_endpoint ep, char msg[ERR_MAX])
{
	const char *reason = "";
	char addr[64];
	int code;

	code = http_guard_decide(g, ep, MHD_lookup_connection_value(mc,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	    __atomic_load_n(&g->nconns, __ATOMIC_RELAXED), msg, &reason);
	if (code == 401) {
		client_address(mc, addr, sizeof(addr));
		log_info("request refused", "endpoint",
		    metrics_endpoint_name(ep), "client", addr, "reason",
		    reason);
	}
	return code;
}

void
http_guard_headers(const struct http_guard *g, struct MHD_Response *resp,
    int code)
{
	if (code == 401) {
		if (auth_has_basic(g->auth))
			MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			    "Basic realm=\"flowmon\", charset=\"UTF-8\"");
		if (auth_has_bearer(g->auth))
			MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			    "Bearer realm=\"flowmon\"");
	} else if (code == 429 || code == 503) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	}
}

void
http_guard_set_standby(struct http_guard *g, int on)
{
	__atomic_store_n(&g->standby, on, __ATOMIC_RELEASE);
}

int
http_guard_standby(const struct http_guard *g)
{
	return __atomic_load_n(&g->standby, __ATOMIC_ACQUIRE);
}
