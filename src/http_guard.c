/* http_guard.c: authentication, connection admission and TLS set-up for the
 * HTTP front. Nothing secret is logged: a refusal names the client address
 * and the reason, never a user name, password or token. */
#include <malloc.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth.h"
#include "config.h"
#include "http_guard.h"
#include "log.h"

#define PEM_MAX		(1 << 20)

int
http_guard_init(struct http_guard *g, const struct config *cfg,
    char err[ERR_MAX])
{
	size_t len;

	memset(g, 0, sizeof(*g));
	g->auth_reads = cfg->auth_reads;
	g->max_connections = cfg->max_connections;
	if (auth_load(&g->auth, cfg->basic_auth_file, cfg->bearer_token_file,
	    err) == -1)
		goto fail;
	if (cfg->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, ERR_MAX, "--tls-cert: this libmicrohttpd "
			    "was built without TLS support");
			goto fail;
		}
		if (auth_read_file(cfg->tls_cert, "--tls-cert", PEM_MAX,
		    &g->cert, &len, err) == -1 ||
		    auth_read_file(cfg->tls_key, "--tls-key", PEM_MAX, &g->key,
		    &g->keylen, err) == -1)
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
		g->tls[0].option = MHD_OPTION_HTTPS_MEM_CERT;
		g->tls[0].ptr_value = g->cert;
		g->tls[1].option = MHD_OPTION_HTTPS_MEM_KEY;
		g->tls[1].ptr_value = g->key;
	}
	g->tls[g->cert ? 2 : 0].option = MHD_OPTION_END;
	return 0;
fail:
	http_guard_release(g);
	return -1;
}

void
http_guard_release(struct http_guard *g)
{
	auth_free(g->auth);
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
http_guard_tls_options(struct http_guard *g)
{
	return g->tls;
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

	(void)c;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		__atomic_add_fetch(&g->nconns, 1, __ATOMIC_RELAXED);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED &&
	    __atomic_sub_fetch(&g->nconns, 1, __ATOMIC_RELAXED) == 0)
		/* The last connection closed: give back the pages the burst
		 * freed. glibc keeps them in its per-thread arenas otherwise,
		 * about 30 MB after 64 busy connections on a daemon that
		 * needs 22, so idle RSS would say nothing about leaks. */
		malloc_trim(0);
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
http_guard_check(struct http_guard *g, struct MHD_Connection *mc,
    enum metrics_endpoint ep, char msg[ERR_MAX])
{
	static const char *const why[] = {
		[AUTH_MISSING] = "no credentials",
		[AUTH_WRONG] = "wrong credentials",
		[AUTH_MALFORMED] = "malformed Authorization header",
	};
	unsigned int n = __atomic_load_n(&g->nconns, __ATOMIC_RELAXED);
	enum auth_result ar;
	char addr[64];

	/* ping is the health check: load must not make it fail, or an
	 * orchestrator would restart a daemon that is merely busy. */
	if (g->max_connections > 0 && ep != M_EP_PING &&
	    n > (unsigned long)g->max_connections) {
		snprintf(msg, ERR_MAX, "too many connections (%u open, "
		    "--max-connections %ld): retry later", n,
		    g->max_connections);
		return 429;
	}
	if (g->auth == NULL || ep == M_EP_PING ||
	    (!mutating(ep) && !g->auth_reads))
		return 0;
	ar = auth_check(g->auth, MHD_lookup_connection_value(mc,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
	if (ar == AUTH_OK)
		return 0;
	client_address(mc, addr, sizeof(addr));
	log_info("request refused", "endpoint", metrics_endpoint_name(ep),
	    "client", addr, "reason", why[ar]);
	snprintf(msg, ERR_MAX, "authentication required: %s", why[ar]);
	return 401;
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
	} else if (code == 429) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	}
}
