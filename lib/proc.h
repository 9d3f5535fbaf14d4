/*
 * proc.h: process-lifetime helpers shared by the tools an orchestrator
 * starts.
 */
#ifndef BT_PROC_H
#define BT_PROC_H

/*
 * If the environment names a parent (BT_PARENT_PID, set by bittorrent),
 * ask the kernel for SIGTERM when that parent dies, even by SIGKILL, so
 * no child outlives its orchestrator. Returns -1 if the parent is already
 * gone (the caller should exit), else 0. Does nothing without the variable.
 */
int	bt_watch_parent(void);

#endif
