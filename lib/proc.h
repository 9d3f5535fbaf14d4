/*
 * proc.h: process-lifetime helpers shared by the tools an orchestrator
 * starts.
 */
#ifndef BT_PROC_H
#define BT_PROC_H

/*
 * If the environment names an orchestrator (BT_PARENT_PID, set by
 * bittorrent), ask the kernel for SIGTERM when our parent dies, even by
 * SIGKILL, so no child outlives its orchestrator. Returns -1 if that
 * process is already gone (the caller should exit), else 0. Does nothing
 * without the variable.
 */
int	bt_watch_parent(void);

#endif
