/*
 * The limits on what `vfsgen validate`, `render` and `inventory` read, in one place. They exist so that
 * hostile or accidental input (a device, a FIFO, an alias bomb, `[[[[…` a million deep) ends in a clear
 * error instead of a hang, an out-of-memory kill or a stack overflow; each is far above what a real
 * configuration needs (the 1 000-VM benchmark cluster, five shares per VM, is about 0.6 MiB, 55 000
 * values and 6 levels deep).
 */

/** Bytes read from one configuration file; reading stops there, so /dev/zero ends in an error. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * Collection nesting. The YAML libraries and the validators recurse per level, and a stack overflow in
 * V8 can even abort the process (regular expressions compiled near the stack limit), so depth is
 * measured without recursion before any of them runs.
 */
export const MAX_NESTING_DEPTH = 100;

/**
 * Values (scalars and collections) once every alias is expanded: validators, `render` and `inventory`
 * walk the expanded tree, so `*alias` reuse must stay bounded (the billion-laughs attack is 10^9).
 */
export const MAX_EXPANDED_VALUES = 1_000_000;

/** A FIFO or device that stays open without sending data is given up on after this long. */
export const READ_IDLE_TIMEOUT_MS = 10_000;
