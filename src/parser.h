/* parser.h: the parser context. main owns it and hands it to every source
 * of services (the HTTP front, the swarm-listener reconcile, the Docker
 * source) and to the loading of records, so a row is parsed exactly as a
 * request is: the shortcut table in use (replaced on SIGHUP, between two
 * parses), DF_SCRAPE_TARGET_LABELS, DF_NODE_TARGET_LABELS and one set of
 * limits. Safe from any thread. */
#ifndef FLOWMON_PARSER_H
#define FLOWMON_PARSER_H

#include "err.h"
#include "request.h"

struct config;
struct parser;
struct shortcuts;

/* A context from cfg's labels and limits (cfg outlives it) with the
 * shortcut table sc (taken over, may be NULL). NULL on ENOMEM (sc freed). */
struct parser *parser_new(const struct config *cfg, struct shortcuts *sc);
/* Replaces the shortcut table (taken over); the old one is freed once no
 * parse uses it. */
void	 parser_set_shortcuts(struct parser *p, struct shortcuts *sc);
/* request_parse() of params with the context. out is zeroed; 0, or -1
 * with err naming the parameter. */
int	 parser_parse(struct parser *p, const struct kvlist *params,
	    struct service *out, char err[ERR_MAX]);
/* The labels of a node from its parameters (id aside): those named in
 * DF_NODE_TARGET_LABELS, under the limits every source of node labels is
 * held to (request_node_labels). labels must be empty. FM_OK; FM_REFUSED
 * with err naming the label; FM_FATAL on ENOMEM. */
enum fm_err parser_node(struct parser *p, const struct kvlist *params,
	    struct kvlist *labels, char err[ERR_MAX]);
/* The limits (borrowed, fixed for p's life): --max-params and friends,
 * and the quota the registry holds rendered files to. */
const struct request_limits *parser_limits(const struct parser *p);
/* The context itself, for start-up and `flowmon check` only: valid until
 * the next parser_set_shortcuts(). */
const struct request_ctx *parser_ctx(const struct parser *p);
/* Frees p and its table. NULL ok. */
void	 parser_free(struct parser *p);

#endif
