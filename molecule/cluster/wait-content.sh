#!/bin/sh
# wait-content.sh FILE TEXT: wait until FILE holds the line TEXT, at most 30 s; print how long it took
# from the first read (0 ms: the first read already saw it).
f=$1
want=$2
t0=$(date +%s%N)
reads=0
while :; do
  reads=$((reads + 1))
  if [ "$(cat "$f" 2>/dev/null)" = "$want" ]; then
    echo "$f: seen after $((($(date +%s%N) - t0) / 1000000)) ms ($reads read(s))"
    exit 0
  fi
  if [ $((($(date +%s%N) - t0) / 1000000)) -gt 30000 ]; then
    echo "$f: not '$want' after 30 s ($reads reads): $(cat "$f" 2>&1)" >&2
    exit 1
  fi
  sleep 0.05
done
