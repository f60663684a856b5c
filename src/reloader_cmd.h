/* reloader_cmd.h: `flowmon reloader`, the side-car for a Prometheus replica
 * that mounts the shared data dir (often over NFS) on another host: it
 * watches <data-dir>/rules/ and reloads its Prometheus when the rule files
 * really changed. */
#ifndef FLOWMON_RELOADER_CMD_H
#define FLOWMON_RELOADER_CMD_H

/* Runs the sub-command until SIGINT or SIGTERM. argv[0] is "reloader".
 * Returns the process exit status: 0 after a clean stop (or --help), 2 on
 * a bad option, 1 when it cannot start. */
int	 reloader_cmd_main(int argc, char **argv);

#endif
