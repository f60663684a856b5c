/* dockerapi.c: the Docker Engine API over libcurl, for the Docker source:
 * a unix socket or a TCP port, GETs of JSON with a bounded body, and the
 * /events stream cut into lines.
 *
 * Reachability is the one thing it remembers: the first failure after a
 * success and the first success after a failure are logged, so a Docker
 * that is down for a day costs two lines. Only the worker thread asks
 * questions (dockerapi_get_json), so that memory needs no lock; the event
 * thread reads only what dockerapi_new() set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "bounds.h"
#include "dockerapi.h"
#include "httpbody.h"
#include "log.h"
#include "url.h"

#define DOCKER_CONNECT_MS	5000
#define DOCKER_TOTAL_MS		60000

struct dockerapi {
	char		*base;		/* http://... */
	char		*socket;	/* unix socket path, or NULL */
	char		*shown;		/* socket or base, redacted */
	const int	*stop;		/* atomic, the caller's */
	int		 reachable;	/* last round: 1 ok, 0 not, -1 none */
	int		 round_failed;	/* a question of this round failed */
	int		 round_asked;	/* this round asked anything */
	char		 round_err[ERR_MAX];	/* its first failure */
};

static int
stopping(const struct dockerapi *api)
{
	return __atomic_load_n(api->stop, __ATOMIC_RELAXED);
}

int
docker_host_parse(const char *url, char **base, char **socket,
    char err[ERR_MAX])
{
	static const char *const schemes[] = { "unix", "tcp", "http", NULL };
	struct url u;

	*base = *socket = NULL;
	if (url_parse(&u, url, schemes, "--docker-host", err) == -1)
		return -1;
	if (strcmp(u.scheme, "unix") == 0) {
		if ((*socket = strdup(u.path)) == NULL ||
		    (*base = strdup("http://localhost")) == NULL)
			goto nomem;
		url_release(&u);
		return 0;
	}
	/* The engine's API is at its root, without credentials. */
	if (u.user != NULL || u.password != NULL || u.query != NULL ||
	    u.fragment != NULL || u.path[strspn(u.path, "/")] != '\0') {
		snprintf(err, ERR_MAX, "--docker-host \"%s\" is not "
		    "unix:///path/to.sock, tcp://HOST:PORT or http://HOST:PORT",
		    u.shown);
		url_release(&u);
		return -1;
	}
	if (asprintf(base, "http://%s%s%s", u.host, u.port ? ":" : "",
	    u.port ? u.port : "") < 0) {
		*base = NULL;
		goto nomem;
	}
	url_release(&u);
	return 0;
nomem:
	free(*socket);
	*socket = NULL;
	url_release(&u);
	snprintf(err, ERR_MAX, "out of memory");
	return -1;
}

struct dockerapi *
dockerapi_new(const char *url, const int *stop, char err[ERR_MAX])
{
	struct dockerapi *api;

	if ((api = calloc(1, sizeof(*api))) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return NULL;
	}
	api->stop = stop;
	api->reachable = -1;
	if (docker_host_parse(url, &api->base, &api->socket, err) == -1)
		goto fail;
	/* Credentials were refused: what is left may be shown. */
	if ((api->shown = strdup(api->socket ? api->socket :
	    api->base)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		goto fail;
	}
	return api;
fail:
	dockerapi_free(api);
	return NULL;
}

void
dockerapi_free(struct dockerapi *api)
{
	if (api == NULL)
		return;
	free(api->base);
	free(api->socket);
	free(api->shown);
	free(api);
}

const char *
dockerapi_shown(const struct dockerapi *api)
{
	return api->shown;
}

/* A handle for GET base+path, aborted when the source stops; total_ms
 * bounds the transfer (0: a stream, no bound). */
static CURL *
handle(struct dockerapi *api, const char *path, long total_ms)
{
	char *url;
	CURL *c;

	if (asprintf(&url, "%s%s", api->base, path) < 0)
		return NULL;
	if ((c = httpbody_easy("http", DOCKER_CONNECT_MS, total_ms, api->stop,
	    NULL)) == NULL) {
		free(url);
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url);	/* libcurl keeps its own copy */
	if (api->socket != NULL)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, api->socket);
	return c;
}

/* What a failed transfer says, with the connect errno (a socket without
 * permission, a socket that is not there) when there is one. */
static void
transfer_error(CURL *c, CURLcode cc, const char *path, char err[ERR_MAX])
{
	long os = 0;

	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os);
	snprintf(err, ERR_MAX, "GET %.200s: %s%s%s%s", path,
	    curl_easy_strerror(cc), os != 0 ? " (" : "",
	    os != 0 ? strerror((int)os) : "", os != 0 ? ")" : "");
}

/*
 * Questions: one GET, one JSON answer.
 */

/* A failed question: kept for the round's line (the first one). */
static void
note_reachable(struct dockerapi *api, int ok, const char *error)
{
	api->round_asked = 1;
	if (ok)
		return;
	if (!api->round_failed)
		snprintf(api->round_err, sizeof(api->round_err), "%s", error);
	api->round_failed = 1;
	log_debug("docker not answering", "error", error);
}

void
dockerapi_round(struct dockerapi *api, int begin)
{
	int ok;

	if (begin) {
		api->round_failed = api->round_asked = 0;
		api->round_err[0] = '\0';
		return;
	}
	if (!api->round_asked)
		return;		/* nothing asked: nothing learnt */
	/* One line per change of state, whatever the questions of a round
	 * got one by one: a Docker down for a day, or one answering /nodes
	 * but not /services, costs two lines. */
	ok = !api->round_failed;
	if (ok && api->reachable != 1)
		log_info("docker answering", "host", api->shown);
	else if (!ok && api->reachable != 0)
		log_warn("docker not answering, will retry", "host",
		    api->shown, "error", api->round_err);
	api->reachable = ok;
}

void
dockerapi_unclear(struct dockerapi *api, const char *why)
{
	note_reachable(api, 0, why);
}

int
dockerapi_too_big(const char *body, size_t len, const char *path,
    char err[ERR_MAX])
{
	size_t i, values = 1, elements = 0;
	int depth = 0, in_string = 0, any = 0;

	/* A JSON value per ',' '[' '{' ':' outside strings, at most; the
	 * elements of the outer array are its ',' plus one. */
	for (i = 0; i < len; i++) {
		char ch = body[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = 0;
			continue;
		}
		switch (ch) {
		case '"':
			in_string = 1;
			break;
		case '[':
		case '{':
			if (depth == 1)
				any = 1;
			depth++;
			values++;
			break;
		case ']':
		case '}':
			depth--;
			break;
		case ',':
			values++;
			if (depth == 1)
				elements++;
			break;
		case ':':
			values++;
			break;
		case ' ': case '\t': case '\n': case '\r':
			break;
		default:
			if (depth == 1)
				any = 1;
			break;
		}
	}
	elements += any || elements > 0;
	if (elements > DOCKER_ELEMENTS_MAX) {
		snprintf(err, ERR_MAX, "GET %.200s: an answer of %zu elements, "
		    "more than the %d flowmon reads", path, elements,
		    DOCKER_ELEMENTS_MAX);
		return 1;
	}
	if (values > DOCKER_VALUES_MAX) {
		snprintf(err, ERR_MAX, "GET %.200s: an answer of %zu JSON "
		    "values, more than the %d flowmon parses", path, values,
		    DOCKER_VALUES_MAX);
		return 1;
	}
	return 0;
}

int
dockerapi_get_json(struct dockerapi *api, const char *path, cJSON **json,
    long *code)
{
	struct httpbody b = { BUF_INIT, BOUND_DOCKER_ANSWER_MAX, 0 };
	char err[ERR_MAX];
	CURLcode cc;
	CURL *c;

	*json = NULL;
	*code = 0;
	if ((c = handle(api, path, DOCKER_TOTAL_MS)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	cc = httpbody_perform(c, &b, code);
	if (cc != CURLE_OK && b.too_big)
		snprintf(err, ERR_MAX, "GET %.200s: answer larger than %ld MiB",
		    path, BOUND_DOCKER_ANSWER_MAX >> 20);
	else if (cc != CURLE_OK)
		transfer_error(c, cc, path, err);
	curl_easy_cleanup(c);
	if (stopping(api))
		goto fail;
	if (cc != CURLE_OK) {
		note_reachable(api, 0, err);
		goto fail;
	}
	/* Counted before it is parsed: the tree is some 40 times the body. */
	if (b.body.p != NULL && dockerapi_too_big(b.body.p, b.body.len, path,
	    err)) {
		note_reachable(api, 0, err);
		goto fail;
	}
	*json = b.body.p != NULL ? cJSON_ParseWithLength(b.body.p, b.body.len) :
	    NULL;
	if (*json == NULL || (*code != 200 && *code != 404) ||
	    (*code == 404 && !cJSON_IsObject(*json))) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(*json,
		    "message");

		/* Docker says why in {"message": ...}. */
		snprintf(err, ERR_MAX, "GET %.200s answered %ld%s%.200s", path,
		    *code, *json == NULL ? " without JSON" : cJSON_IsString(m) ?
		    ": " : "", cJSON_IsString(m) ? m->valuestring : "");
		note_reachable(api, 0, err);
		goto fail;
	}
	note_reachable(api, 1, NULL);
	buf_release(&b.body);
	return 0;
fail:
	cJSON_Delete(*json);
	*json = NULL;
	buf_release(&b.body);
	return -1;
}

int
dockerapi_get_list(struct dockerapi *api, const char *path, cJSON **arr)
{
	long code;

	if (path == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (dockerapi_get_json(api, path, arr, &code) == -1)
		return -1;
	if (code != 200 || !cJSON_IsArray(*arr)) {
		note_reachable(api, 0, "a list that is not a JSON array");
		cJSON_Delete(*arr);
		*arr = NULL;
		return -1;
	}
	return 0;
}

/*
 * Paths and filters.
 */

char *
dockerapi_filtered(const char *path, cJSON *filters)
{
	char *json = cJSON_PrintUnformatted(filters), *esc = NULL, *out = NULL;

	cJSON_Delete(filters);
	if (json != NULL && (esc = curl_easy_escape(NULL, json, 0)) != NULL &&
	    asprintf(&out, "%s?filters=%s", path, esc) < 0)
		out = NULL;
	curl_free(esc);
	cJSON_free(json);
	return out;
}

cJSON *
dockerapi_filter(const char *key, const char *value, const char *key2,
    const char *value2)
{
	cJSON *o = cJSON_CreateObject();
	const char *one[1] = { value }, *two[1] = { value2 };

	if (o == NULL ||
	    !cJSON_AddItemToObject(o, key, cJSON_CreateStringArray(one, 1)) ||
	    (key2 != NULL && !cJSON_AddItemToObject(o, key2,
	    cJSON_CreateStringArray(two, 1)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *
dockerapi_path(const char *prefix, const char *segment)
{
	char *esc, *path;

	if ((esc = curl_easy_escape(NULL, segment, 0)) == NULL)
		return NULL;
	if (asprintf(&path, "%s%s", prefix, esc) < 0)
		path = NULL;
	curl_free(esc);
	return path;
}

/*
 * The event stream.
 */

struct stream {
	struct dockerapi	*api;
	dockerapi_line_fn	 on_line;
	dockerapi_open_fn	 on_open;
	void			*arg;
	struct buf		 line;
	int			 skipping;	/* in a line over the bound */
	int			 status;	/* HTTP status of the answer */
	int			 connected;	/* a 200 came */
};

static size_t
on_stream(char *data, size_t size, size_t nmemb, void *arg)
{
	struct stream *s = arg;
	size_t n = size * nmemb, start = 0, end;
	char *eol;

	if (s->status != 200)
		return n;	/* an error body: the status says it all */
	while (start < n) {
		eol = memchr(data + start, '\n', n - start);
		end = eol != NULL ? (size_t)(eol - data) : n;
		/* data[start, end) is (the rest of) one line. */
		if (s->skipping || s->line.len + (end - start) >
		    (size_t)BOUND_DOCKER_EVENT_MAX) {
			s->skipping = 1;
			buf_clear(&s->line);
		} else if (buf_add(&s->line, data + start, end - start) == -1) {
			return 0;
		}
		if (eol == NULL)
			break;
		if (!s->skipping && s->line.len > 0)
			s->on_line(s->arg, s->line.p, s->line.len);
		buf_clear(&s->line);
		s->skipping = 0;
		start = end + 1;
	}
	return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct stream *s = arg;
	size_t n = size * nmemb;
	int code;

	if (n > 5 && strncmp(data, "HTTP/", 5) == 0 &&
	    sscanf(data, "HTTP/%*s %d", &code) == 1)
		s->status = code;
	/* The empty line ends the headers: the stream is open. */
	if ((n == 2 && data[0] == '\r') || (n == 1 && data[0] == '\n')) {
		if (s->status == 200 && !s->connected) {
			s->connected = 1;
			log_info("following docker events", "host",
			    s->api->shown);
			s->on_open(s->arg);
		}
	}
	return n;
}

int
dockerapi_events(struct dockerapi *api, const char *path,
    dockerapi_line_fn on_line, dockerapi_open_fn on_open, void *arg,
    char err[ERR_MAX])
{
	struct stream s;
	CURLcode cc;
	CURL *c;

	memset(&s, 0, sizeof(s));
	s.api = api;
	s.on_line = on_line;
	s.on_open = on_open;
	s.arg = arg;
	if ((c = handle(api, path, 0)) == NULL) {
		snprintf(err, ERR_MAX, "out of memory");
		return 0;
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		transfer_error(c, cc, "/events", err);
	else if (s.status != 200)
		snprintf(err, ERR_MAX, "GET /events answered %d", s.status);
	else
		snprintf(err, ERR_MAX, "GET /events: the stream ended");
	curl_easy_cleanup(c);
	buf_release(&s.line);
	return s.connected;
}
