/* rulecheck.h: would Prometheus load this rule file? flowmon's own check:
 * the YAML parses back to exactly the alerts it was rendered from, with
 * valid names and durations (promtool.h adds `promtool check rules`). One
 * bad rule file fails a whole Prometheus reload, so nothing is renamed
 * into rules/ before it passes here. */
#ifndef FLOWMON_RULECHECK_H
#define FLOWMON_RULECHECK_H

#include <stddef.h>

#include <yaml.h>

#include "service.h"

/* Loads the first YAML document of buf (a rule file) with a parser the
 * caller deletes after the document: 0, or -1 with err ("rule file is not
 * YAML: <problem> at line N") and nothing left to free. */
int	 rulecheck_load(yaml_parser_t *parser, yaml_document_t *doc,
	    const char *buf, size_t len, char err[ERR_MAX]);

/* Parses buf (a rendered rule file) with libyaml and checks its shape:
 * groups: [{name, rules: [{alert, expr, for?, labels?, annotations?}]}],
 * every alert and label name valid, every `for` a duration, every value a
 * plain string. When svc is given, the rules must be exactly svc's alerts
 * (only the persistent ones if persistent_only), names and expressions
 * byte for byte: a round trip through the emitter lost nothing. 0, or -1
 * with err saying what is wrong. */
int	 rulecheck_yaml(const char *buf, size_t len, const struct service *svc,
	    int persistent_only, char err[ERR_MAX]);

#endif
