/* hash.h: the one hash of the tree, FNV-1a on 64 bits: file contents the
 * watcher, /files and the registry compare, the names of long services'
 * files, lines of a diff, sets of IDs. Fast and stable across runs, not
 * cryptographic. */
#ifndef FLOWMON_HASH_H
#define FLOWMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The starting value. Not FNV's published offset basis (a digit short of
 * it), but the value flowmon has always used: the file names of long
 * service names depend on it (store_base()). */
#define HASH_INIT	1469598103934665603ULL

/* FNV-1a of len bytes of buf continuing from h: pass HASH_INIT to start,
 * a previous result to feed more. */
uint64_t hash_bytes(uint64_t h, const void *buf, size_t len);
/* The hash of a file's contents: FNV-1a with the length folded in, so
 * equal hashes of different sizes do not pass for an unchanged file. */
uint64_t hash_content(const void *buf, size_t len);

#endif
